/**
 * An `http` tool: `{{arg}}` in the URL is filled from the arguments (URL-encoded); the other
 * arguments go as the query string (GET) or a JSON body; the response body goes back to the model.
 * The same address guard as http steps applies.
 */

import { AddressRefusedError } from "../../net/address-guard";
import { guardedFetch } from "../../net/guarded-fetch";
import type { HttpToolConfig } from "../configuration";

const DEFAULT_TIMEOUT_MS = 30_000;

export async function runHttpTool(
  config: HttpToolConfig,
  args: Record<string, unknown>,
  options: { allowlist: readonly string[]; idempotencyKey: string },
): Promise<unknown> {
  const used = new Set<string>();
  const url = new URL(
    config.url.replace(/\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/g, (_, name: string) => {
      used.add(name);
      return encodeURIComponent(String(args[name] ?? ""));
    }),
  );
  const rest = Object.fromEntries(Object.entries(args).filter(([name]) => !used.has(name)));
  let body: string | undefined;
  if (config.method === "GET") {
    for (const [name, value] of Object.entries(rest))
      url.searchParams.set(name, typeof value === "string" ? value : JSON.stringify(value));
  } else if (Object.keys(rest).length > 0) {
    body = JSON.stringify(rest);
  }
  const headers = new Headers(config.headers);
  if (body && !headers.has("content-type")) headers.set("content-type", "application/json");
  // A call repeated after a crash carries the same key, so the target can tell it is a repeat.
  headers.set("Idempotency-Key", options.idempotencyKey);
  try {
    const response = await guardedFetch(
      url.toString(),
      { method: config.method, headers, body, timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS },
      options.allowlist,
    );
    return { status: response.status, body: response.body };
  } catch (error) {
    // Tool failures go back to the model, which may recover; they do not fail the step.
    if (error instanceof AddressRefusedError) return { error: `refused: ${error.message}` };
    return { error: `request failed: ${(error as Error).message}` };
  }
}
