/**
 * An `http` tool: `{{arg}}` in the URL is filled from the arguments (URL-encoded); the other
 * arguments go as the query string (GET) or a JSON body; the response body goes back to the model.
 * The same address guard as http steps applies.
 */

import { type SendableText, TemplateError } from "../../engine/template";
import { assembleUrl, type UrlPiece } from "../../engine/url-template";
import { AddressRefusedError } from "../../net/address-guard";
import { guardedFetch } from "../../net/guarded-fetch";
import { SecretHostRefusedError, SecretInjectionError, SecretMissingError } from "../../secrets/resolver";
import type { HttpToolConfig } from "../configuration";
import { type HeaderSources, headersToSend, type StoredHeaders } from "./tool-headers";

const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpToolOptions extends HeaderSources {
  allowlist: readonly string[];
  signal: AbortSignal;
  idempotencyKey: string;
  traceparent: string;
}

const TOOL_TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SECRET = /^secrets\.([A-Z][A-Z0-9_]{0,63})$/;
const ARGUMENT = /^[A-Za-z_][\w-]*$/;

/**
 * The tool's URL in one pass over its configuration: `{{arg}}` becomes the model's argument
 * (encoded, never read as a template), `{{secrets.NAME}}` a secret filled as it is sent.
 */
export function renderToolUrl(template: string, args: Record<string, unknown>, used: Set<string>): SendableText {
  const pieces: UrlPiece[] = [];
  let last = 0;
  for (const match of template.matchAll(TOOL_TEMPLATE)) {
    if (match.index > last) pieces.push({ text: template.slice(last, match.index), fromTemplate: false });
    last = match.index + match[0].length;
    const secret = SECRET.exec(match[1]);
    if (secret) pieces.push({ secret: secret[1] });
    else if (ARGUMENT.test(match[1])) {
      used.add(match[1]);
      const value = args[match[1]] ?? "";
      pieces.push({
        text: encodeURIComponent(typeof value === "string" ? value : JSON.stringify(value)),
        fromTemplate: true,
      });
    } else pieces.push({ text: match[0], fromTemplate: false });
  }
  if (last < template.length) pieces.push({ text: template.slice(last), fromTemplate: false });
  return assembleUrl(pieces);
}

export async function runHttpTool(
  toolId: string,
  config: HttpToolConfig,
  args: Record<string, unknown>,
  options: HttpToolOptions,
): Promise<unknown> {
  const used = new Set<string>();
  let url: URL;
  let headers: Headers;
  let sensitiveHeaders: string[];
  try {
    url = new URL(await options.secrets.fill(renderToolUrl(config.url, args, used), "url"));
    ({ headers, sensitive: sensitiveHeaders } = await headersToSend(toolId, config.headers as StoredHeaders, options));
  } catch (error) {
    if (error instanceof SecretMissingError || error instanceof SecretInjectionError || error instanceof TemplateError)
      return { error: error.message };
    throw error;
  }
  const rest = Object.fromEntries(Object.entries(args).filter(([name]) => !used.has(name)));
  let body: string | undefined;
  if (config.method === "GET") {
    for (const [name, value] of Object.entries(rest))
      url.searchParams.set(name, typeof value === "string" ? value : JSON.stringify(value));
  } else if (Object.keys(rest).length > 0) {
    body = JSON.stringify(rest);
  }
  if (body && !headers.has("content-type")) headers.set("content-type", "application/json");
  // A call repeated after a crash carries the same key, so the target can tell it is a repeat.
  headers.set("Idempotency-Key", options.idempotencyKey);
  if (!headers.has("traceparent")) headers.set("traceparent", options.traceparent);
  try {
    const response = await guardedFetch(
      url.toString(),
      {
        method: config.method,
        headers,
        body,
        timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        signal: options.signal,
        sensitiveHeaders,
        checkUrl: options.secrets.assertHostAllowed,
      },
      options.allowlist,
    );
    return { status: response.status, body: response.body };
  } catch (error) {
    // Tool failures go back to the model, which may recover; they do not fail the step.
    if (error instanceof AddressRefusedError || error instanceof SecretHostRefusedError)
      return { error: `refused: ${error.message}` };
    return { error: `request failed: ${(error as Error).message}` };
  }
}
