/**
 * fetch for user-configured targets (http steps, tools, model providers, MCP servers): the address
 * guard on every hop of a redirect, credentials dropped when a redirect leaves the origin, a
 * timeout, and a size cap on what is read back.
 */
import { AddressRefusedError, assertPublicUrl } from "./address-guard";

const MAX_REDIRECTS = 5;
export const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Headers that carry credentials; a redirect to another origin never receives them. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie", "api-key", "x-api-key", "x-auth-token"];

export interface GuardedInit extends RequestInit {
  timeoutMs: number;
  signal?: AbortSignal;
  /** More headers to drop on a cross-origin redirect (those that carried secrets). */
  sensitiveHeaders?: string[];
  /** Checks each URL (the first and every redirect hop) before anything is sent to it. */
  checkUrl?: (url: URL) => void;
  /** The body carries a secret: a 307/308 to another origin, which would re-send it, is refused. */
  bodyCarriesSecret?: boolean;
}

/** A redirect that would re-send a body carrying a secret to another origin. */
export class RedirectRefusedError extends Error {}

export interface GuardedResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response says it is JSON, else text; cut at MAX_RESPONSE_BYTES. */
  body: unknown;
  truncated: boolean;
}

/** The final response after guarded redirects, its body not yet read. */
export async function guardedRequest(url: string, init: GuardedInit, allowlist: readonly string[]): Promise<Response> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  const signal = init.signal ? AbortSignal.any([timeout, init.signal]) : timeout;
  const { timeoutMs: _timeoutMs, sensitiveHeaders = [], checkUrl, bodyCarriesSecret, ...rest } = init;
  let target = assertPublicUrl(url, allowlist);
  checkUrl?.(target);
  let request: RequestInit = { ...rest, redirect: "manual", signal };
  for (let hop = 0; ; hop++) {
    const response = await fetch(target, request);
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location) return response;
    await response.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw new AddressRefusedError(`more than ${MAX_REDIRECTS} redirects`);
    const next = assertPublicUrl(new URL(location, target).toString(), allowlist);
    checkUrl?.(next);
    if (next.origin !== target.origin) {
      if (bodyCarriesSecret && request.body != null && (response.status === 307 || response.status === 308))
        throw new RedirectRefusedError(
          `a ${response.status} redirect to ${next.host} would re-send a body carrying a secret`,
        );
      request = { ...request, headers: withoutCredentials(request.headers, sensitiveHeaders) };
    }
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && request.method === "POST")
    ) {
      request = { ...request, method: "GET", body: undefined };
    }
    target = next;
  }
}

export async function guardedFetch(
  url: string,
  init: GuardedInit,
  allowlist: readonly string[],
): Promise<GuardedResponse> {
  const response = await guardedRequest(url, init, allowlist);
  const { text, truncated } = await readCapped(response, MAX_RESPONSE_BYTES);
  const type = response.headers.get("content-type") ?? "";
  return { status: response.status, headers: response.headers, body: parseBody(text, type, truncated), truncated };
}

/** The body as text, cut after `maxBytes`. */
export async function readCapped(response: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), truncated: false };
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      return { text: text + decoder.decode(value.subarray(0, value.byteLength - (bytes - maxBytes))), truncated: true };
    }
    text += decoder.decode(value, { stream: true });
  }
}

export class ResponseTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(`the answer is larger than ${maxBytes} bytes`);
  }
}

/** A body stream that errors once more than `maxBytes` have passed (streamed model answers). */
export function cappedStream(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  let bytes = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        if (bytes > maxBytes) controller.error(new ResponseTooLargeError(maxBytes));
        else controller.enqueue(chunk);
      },
    }),
  );
}

function withoutCredentials(headers: HeadersInit | undefined, sensitive: string[]): Headers {
  const next = new Headers(headers);
  for (const name of [...CREDENTIAL_HEADERS, ...sensitive]) next.delete(name);
  return next;
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
