/**
 * `{{path}}` templates (docs/workflows.md), rendered from the definition only: what a template yields is
 * data, never scanned for templates again. A string that is exactly one template yields the raw
 * value (object, array, number); a template inside longer text is stringified into it. Unknown
 * paths are errors, never empty strings.
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

/** Renders to text, whatever the template yields (prompts, concurrency keys). */
export function renderText(value: string, scope: Scope): string {
  const rendered = renderString(value, scope);
  return typeof rendered === "string" ? rendered : stringify(rendered);
}

/** A secret the definition (or a tool's configuration) named, filled in only as the request is sent. */
export interface SecretPart {
  secret: string;
}

/**
 * Text ready to send (docs/security.md: data is never a template): literal pieces, final as they are,
 * and the secrets the definition named where it named them. Data substituted into it is one of
 * the literal pieces, so a `{{secrets.X}}` inside data is never filled.
 */
export type SendableText = Array<string | SecretPart>;

/** Where a string that names secrets sits in a rendered request, and what it is made of. */
export interface SecretSlot {
  at: Array<string | number>;
  text: SendableText;
}

/**
 * Renders a request's JSON value in one pass over the definition: data goes in as literal text;
 * a string that names secrets keeps its template text in the value (what viewers see) and is
 * recorded in `slots`, the only places the sender fills.
 */
export function renderRequestValue(
  value: unknown,
  scope: Scope,
  at: Array<string | number>,
  slots: SecretSlot[],
): unknown {
  if (typeof value === "string") {
    const text = renderSendable(value, scope);
    if (text === null) return renderString(value, scope);
    slots.push({ at, text });
    return displayOf(text);
  }
  if (Array.isArray(value)) return value.map((item, index) => renderRequestValue(item, scope, [...at, index], slots));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, renderRequestValue(item, scope, [...at, key], slots)]),
    );
  }
  return value;
}

/** A header value: text, no line break from the data, its secrets (if any) recorded in `slots`. */
export function renderHeader(value: string, scope: Scope, at: Array<string | number>, slots: SecretSlot[]): string {
  const text = renderSendable(value, scope) ?? [renderText(value, scope)];
  if (text.some((part) => typeof part === "string" && /[\r\n]/.test(part)))
    throw new TemplateError("a header value may not hold a line break");
  if (text.some((part) => typeof part !== "string")) slots.push({ at, text });
  return displayOf(text);
}

/** The parts of a definition's string that names secrets; null when it names none. */
function renderSendable(value: string, scope: Scope): SendableText | null {
  if (!value.includes("{{")) return null;
  const parts = parseTemplate(value);
  if (!parts.some((part) => typeof part !== "string" && isSecretPath(part))) return null;
  return withPathErrors(() =>
    mergeText(
      parts.map((part) => {
        if (typeof part === "string") return part;
        if (isSecretPath(part)) return { secret: String(part.segments[1]) };
        return stringify(resolvePath(part, scope));
      }),
    ),
  );
}

/** Configuration text (a tool's header or URL) with its `{{secrets.NAME}}` as parts; other text literal. */
export function sendableFromConfig(value: string): SendableText {
  if (!value.includes("{{secrets.")) return [value];
  return mergeText(
    parseTemplate(value).map((part) =>
      typeof part === "string" ? part : isSecretPath(part) ? { secret: String(part.segments[1]) } : `{{${part.text}}}`,
    ),
  );
}

/** What a sendable text shows where it is stored and viewed: its secrets as their templates. */
export function displayOf(text: SendableText): string {
  return text.map((part) => (typeof part === "string" ? part : `{{secrets.${part.secret}}}`)).join("");
}

/** Adjacent literal pieces joined into one. */
export function mergeText(parts: SendableText): SendableText {
  const out: SendableText = [];
  for (const part of parts) {
    const last = out.at(-1);
    if (typeof part === "string" && typeof last === "string") out[out.length - 1] = last + part;
    else if (part !== "") out.push(part);
  }
  return out;
}

function renderString(text: string, scope: Scope): unknown {
  if (!text.includes("{{")) return text;
  const parts = parseTemplate(text);
  return withPathErrors(() => {
    if (parts.length === 1 && typeof parts[0] !== "string" && !isSecretPath(parts[0]))
      return resolvePath(parts[0], scope);
    return parts.map((part) => (typeof part === "string" ? part : valueText(part, scope))).join("");
  });
}

/** A part's text: a secret stays its template text (it is filled only where a request is sent). */
function valueText(path: DataPath, scope: Scope): string {
  return isSecretPath(path) ? `{{${path.text}}}` : stringify(resolvePath(path, scope));
}

export function withPathErrors<T>(render: () => T): T {
  try {
    return render();
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

export function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value);
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
