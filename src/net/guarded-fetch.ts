/** fetch for user-configured targets: the address guard on every hop, a timeout, a size cap. */
import { AddressRefusedError, assertPublicUrl } from "./address-guard";

const MAX_REDIRECTS = 5;
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface GuardedResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response says it is JSON, else text; cut at MAX_RESPONSE_BYTES. */
  body: unknown;
  truncated: boolean;
}

export async function guardedFetch(
  url: string,
  init: RequestInit & { timeoutMs: number; signal?: AbortSignal },
  allowlist: readonly string[],
): Promise<GuardedResponse> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  const signal = init.signal ? AbortSignal.any([timeout, init.signal]) : timeout;
  let target = assertPublicUrl(url, allowlist);
  const { timeoutMs: _timeoutMs, ...rest } = init;
  let request: RequestInit = { ...rest, redirect: "manual", signal };
  for (let hop = 0; ; hop++) {
    const response = await fetch(target, request);
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new AddressRefusedError(`more than ${MAX_REDIRECTS} redirects`);
      target = assertPublicUrl(new URL(location, target).toString(), allowlist);
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && request.method === "POST")
      ) {
        request = { ...request, method: "GET", body: undefined };
      }
      continue;
    }
    const { text, truncated } = await readCapped(response);
    const type = response.headers.get("content-type") ?? "";
    return { status: response.status, headers: response.headers, body: parseBody(text, type, truncated), truncated };
  }
}

async function readCapped(response: Response): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), truncated: false };
    bytes += value.byteLength;
    if (bytes > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      return {
        text: text + decoder.decode(value.subarray(0, value.byteLength - (bytes - MAX_RESPONSE_BYTES))),
        truncated: true,
      };
    }
    text += decoder.decode(value, { stream: true });
  }
}

function parseBody(text: string, contentType: string, truncated: boolean): unknown {
  if (!truncated && /\bjson\b/i.test(contentType) && text) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
