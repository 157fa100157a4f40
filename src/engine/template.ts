/**
 * `{{path}}` templates (SPEC §4). A string that is exactly one template yields the raw value
 * (object, array, number); a template inside longer text is stringified into it. Unknown paths
 * are errors, never empty strings.
 */
import { type DataPath, PathError, parsePath, resolvePath, type Scope } from "./paths";

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
    if (parts.length === 1 && typeof parts[0] !== "string") return resolvePath(parts[0], scope);
    return parts.map((part) => (typeof part === "string" ? part : stringify(resolvePath(part, scope)))).join("");
  } catch (error) {
    if (error instanceof PathError) throw new TemplateError(error.message);
    throw error;
  }
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value);
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
