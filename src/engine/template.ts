/**
 * `{{path}}` templates (SPEC §4). A string that is exactly one template yields the raw value
 * (object, array, number); a template inside longer text is stringified into it. Unknown paths
 * are errors, never empty strings.
 */
import { type DataPath, isSecretPath, PathError, parsePath, resolvePath, type Scope } from "./paths";

export class TemplateError extends Error {}

type Part = string | DataPath;

const TEMPLATE = /\{\{([^{}]*)\}\}/g;

/** Splits a string into literal text and paths; throws TemplateError for a malformed template. */
export function parseTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(TEMPLATE)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    try {
      parts.push(parsePath(match[1]));
    } catch (error) {
      throw new TemplateError(`template {{${match[1]}}}: ${(error as Error).message}`);
    }
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  const leftover = parts.filter((part): part is string => typeof part === "string").join("");
  if (leftover.includes("{{") || leftover.includes("}}"))
    throw new TemplateError(`unbalanced braces in "${truncate(text)}"`);
  return parts;
}

/** Every template path in a JSON value, with the JSON path of the string holding it. */
export function collectTemplatePaths(value: unknown, at: string): Array<{ at: string; path: DataPath }> {
  if (typeof value === "string") {
    return parseTemplate(value)
      .filter((part): part is DataPath => typeof part !== "string")
      .map((path) => ({ at, path }));
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => collectTemplatePaths(item, `${at}.${index}`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => collectTemplatePaths(item, `${at}.${key}`));
  }
  return [];
}

/** Resolves every template in a JSON value against `scope`. */
export function renderTemplates(value: unknown, scope: Scope): unknown {
  if (typeof value === "string") return renderString(value, scope);
  if (Array.isArray(value)) return value.map((item) => renderTemplates(item, scope));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderTemplates(item, scope)]));
  }
  return value;
}

/** Renders to text, whatever the template yields (URLs, headers). */
export function renderText(value: string, scope: Scope): string {
  const rendered = renderString(value, scope);
  return typeof rendered === "string" ? rendered : stringify(rendered);
}

function renderString(text: string, scope: Scope): unknown {
  if (!text.includes("{{")) return text;
  const parts = parseTemplate(text);
  try {
    if (parts.length === 1 && typeof parts[0] !== "string" && !isSecretPath(parts[0]))
      return resolvePath(parts[0], scope);
    return parts.map((part) => (typeof part === "string" ? part : valueText(part, scope))).join("");
  } catch (error) {
    if (error instanceof PathError) throw new TemplateError(error.message);
    throw error;
  }
}

/** A part's text: a secret stays its template (the consumer fills it in when it sends). */
function valueText(path: DataPath, scope: Scope, encode: (text: string) => string = (text) => text): string {
  return isSecretPath(path) ? secretTemplate(path) : encode(stringify(resolvePath(path, scope)));
}

export function secretTemplate(path: DataPath): string {
  return `{{${path.text}}}`;
}

/**
 * A URL template (SPEC §4): values are percent-encoded as a path segment or query value, and a
 * template may form the scheme or host only when it is the whole URL.
 */
export function renderUrl(template: string, scope: Scope): string {
  if (!template.includes("{{")) return template;
  const parts = parseTemplate(template);
  try {
    if (parts.length === 1 && typeof parts[0] !== "string") {
      const whole = isSecretPath(parts[0]) ? secretTemplate(parts[0]) : resolvePath(parts[0], scope);
      if (typeof whole !== "string") throw new TemplateError("a template that is the whole URL must yield a string");
      return whole;
    }
    const firstTemplate = parts.findIndex((part) => typeof part !== "string");
    const prefix = parts.slice(0, firstTemplate).join("");
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]+[/?#]/i.test(prefix)) {
      throw new TemplateError("a template may form the scheme or host of a URL only when it is the whole URL");
    }
    return parts.map((part) => (typeof part === "string" ? part : valueText(part, scope, encodeURIComponent))).join("");
  } catch (error) {
    if (error instanceof PathError) throw new TemplateError(error.message);
    throw error;
  }
}

/** The secret names a JSON value's templates use. */
export function secretNamesIn(value: unknown): string[] {
  if (typeof value === "string") {
    if (!value.includes("{{")) return [];
    return parseTemplate(value).flatMap((part) =>
      typeof part !== "string" && isSecretPath(part) ? [String(part.segments[1])] : [],
    );
  }
  if (Array.isArray(value)) return value.flatMap(secretNamesIn);
  if (value && typeof value === "object") return Object.values(value).flatMap(secretNamesIn);
  return [];
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value);
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
