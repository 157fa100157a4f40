/**
 * The request an http step attempt sends: its rendered input with the secrets filled in at the
 * slots the definition named, and nowhere else.
 */
import type { SecretSlot } from "../../engine/template";
import { SecretInjectionError, type SecretResolver } from "../../secrets/resolver";
import type { HttpInput } from "./input-schema";

export interface FilledRequest {
  url: string;
  headers: Headers;
  /** Header names that carry a secret (a redirect to another origin drops them). */
  sensitiveHeaders: string[];
  body: string | undefined;
  /** The body carries a secret (a redirect to another origin may not re-send it). */
  bodyCarriesSecret: boolean;
}

export async function fillRequest(input: HttpInput, secrets: SecretResolver): Promise<FilledRequest> {
  const slots = input.secretSlots ?? refuseLegacySecrets(input);
  let url = input.url;
  const headerValues = { ...input.headers };
  let body = input.body;
  const sensitiveHeaders: string[] = [];
  let bodyCarriesSecret = false;
  for (const { at, text } of slots) {
    const [where, ...path] = at;
    if (where === "url") url = await secrets.fill(text, "url");
    else if (where === "headers") {
      const name = String(path[0]);
      headerValues[name] = await secrets.fill(text, "header");
      sensitiveHeaders.push(name);
    } else if (where === "body") {
      body = path.length === 0 ? await secrets.fill(text, "raw") : setAt(body, path, await secrets.fill(text, "raw"));
      bodyCarriesSecret = true;
    }
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(headerValues)) headers.set(name, value);
  let sent: string | undefined;
  if (body !== undefined && input.method !== "GET" && input.method !== "HEAD") {
    sent = typeof body === "string" ? body : JSON.stringify(body);
    if (!headers.has("content-type"))
      headers.set("Content-Type", typeof input.body === "string" ? "text/plain" : "application/json");
  } else bodyCarriesSecret = false;
  return { url, headers, sensitiveHeaders, body: sent, bodyCarriesSecret };
}

/** A copy of `value` with `replacement` at `path` (the rendered body is never changed in place). */
function setAt(value: unknown, path: Array<string | number>, replacement: string): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((item, index) => (index === head ? setAt(item, rest, replacement) : item));
  const record = (value ?? {}) as Record<string, unknown>;
  return { ...record, [head]: setAt(record[head], rest, replacement) };
}

/**
 * An input rendered before secrets had slots held its secrets as template text among the data,
 * where data and definition cannot be told apart: it is refused rather than filled.
 */
function refuseLegacySecrets(input: HttpInput): SecretSlot[] {
  if (JSON.stringify([input.url, input.headers, input.body]).includes("{{secrets."))
    throw new SecretInjectionError(
      "this attempt was prepared by an earlier version of the platform and names secrets; retry or rerun the step",
    );
  return [];
}
