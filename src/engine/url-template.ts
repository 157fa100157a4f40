/**
 * URL templates (docs/workflows.md): values percent-encoded as a path segment or query value, the scheme
 * and host only from a template that is the whole URL, and no `.`/`..` path segment made by a
 * template. Shared by http steps (templates over the execution's data) and http tools (over the
 * model's arguments).
 */
import { isSecretPath, resolvePath, type Scope } from "./paths";
import {
  mergeText,
  parseTemplate,
  type SecretPart,
  type SendableText,
  stringify,
  TemplateError,
  withPathErrors,
} from "./template";

/** A piece of a URL being assembled: literal text of the definition, or text a template produced. */
export type UrlPiece = { text: string; fromTemplate: boolean } | SecretPart;

/** An http step's URL rendered against the execution's data. */
export function renderUrl(template: string, scope: Scope): SendableText {
  if (!template.includes("{{")) return [template];
  const parts = parseTemplate(template);
  return withPathErrors(() => {
    if (parts.length === 1 && typeof parts[0] !== "string") {
      if (isSecretPath(parts[0])) return [{ secret: String(parts[0].segments[1]) }];
      const whole = resolvePath(parts[0], scope);
      if (typeof whole !== "string") throw new TemplateError("a template that is the whole URL must yield a string");
      return [whole];
    }
    return assembleUrl(
      parts.map((part): UrlPiece => {
        if (typeof part === "string") return { text: part, fromTemplate: false };
        if (isSecretPath(part)) return { secret: String(part.segments[1]) };
        return { text: encodeURIComponent(stringify(resolvePath(part, scope))), fromTemplate: true };
      }),
    );
  });
}

/** Joins URL pieces, refusing a template in the scheme or host and a `.`/`..` segment made by one. */
export function assembleUrl(pieces: UrlPiece[]): SendableText {
  const firstTemplate = pieces.findIndex((piece) => !("text" in piece) || piece.fromTemplate);
  const prefix = pieces
    .slice(0, firstTemplate === -1 ? pieces.length : firstTemplate)
    .map((piece) => ("text" in piece ? piece.text : ""))
    .join("");
  if (firstTemplate !== -1 && !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]+[/?#]/i.test(prefix)) {
    throw new TemplateError("a template may form the scheme or host of a URL only when it is the whole URL");
  }
  assertNoDotSegmentFromTemplate(pieces);
  return mergeText(pieces.map((piece) => ("text" in piece ? piece.text : piece)));
}

function assertNoDotSegmentFromTemplate(pieces: UrlPiece[]): void {
  let segment = "";
  let templated = false;
  let inPath = false;
  let slashes = 0;
  const check = () => {
    if (inPath && templated && isDotSegment(segment))
      throw new TemplateError("a template may not form a . or .. segment of a URL's path");
    segment = "";
    templated = false;
  };
  for (const piece of pieces) {
    const fromTemplate = !("text" in piece) || piece.fromTemplate;
    const text = "text" in piece ? piece.text : "x";
    for (const char of text) {
      // The path starts at the third slash ("scheme://host/"), and ends at "?" or "#".
      if (!inPath) {
        if (char === "/" && ++slashes === 3) inPath = true;
        continue;
      }
      if (!fromTemplate && (char === "?" || char === "#")) {
        check();
        return;
      }
      if (char === "/") check();
      else {
        segment += char;
        templated ||= fromTemplate;
      }
    }
  }
  check();
}

function isDotSegment(segment: string): boolean {
  const decoded = segment.replace(/%2e/gi, ".");
  return decoded === "." || decoded === "..";
}
