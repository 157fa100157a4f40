/**
 * An `http` tool: `{{arg}}` in the URL is filled from the arguments (URL-encoded); the other
 * arguments go as the query string (GET) or a JSON body; the response body goes back to the model.
 * The same address guard as http steps applies.
 */

import { AddressRefusedError } from "../../net/address-guard";
import { guardedFetch } from "../../net/guarded-fetch";
import { SecretInjectionError, SecretMissingError } from "../../secrets/resolver";
import type { HttpToolConfig } from "../configuration";
import { type HeaderSources, headersToSend, type StoredHeaders } from "./tool-headers";

const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpToolOptions extends HeaderSources {
  allowlist: readonly string[];
  idempotencyKey: string;
  traceparent: string;
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
    // Arguments fill `{{arg}}` (encoded); secrets fill `{{secrets.NAME}}` (encoded) only now.
    const filled = config.url.replace(/\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/g, (_, name: string) => {
      used.add(name);
      return encodeURIComponent(String(args[name] ?? ""));
    });
    url = new URL(await options.secrets.fill(filled, "url"));
    ({ headers, sensitive: sensitiveHeaders } = await headersToSend(toolId, config.headers as StoredHeaders, options));
  } catch (error) {
    if (error instanceof SecretMissingError || error instanceof SecretInjectionError) return { error: error.message };
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
      { method: config.method, headers, body, timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS, sensitiveHeaders },
      options.allowlist,
    );
    return { status: response.status, body: response.body };
  } catch (error) {
    // Tool failures go back to the model, which may recover; they do not fail the step.
    if (error instanceof AddressRefusedError) return { error: `refused: ${error.message}` };
    return { error: `request failed: ${(error as Error).message}` };
  }
}
