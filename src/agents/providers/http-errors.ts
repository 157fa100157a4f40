/** Turning a model provider's HTTP failure into a ProviderError the retry logic understands. */
import { ProviderError } from "./types";

const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * The provider's answer names what went wrong; a provider that echoes the key it was sent
 * ("Incorrect API key provided: sk-…") has the key replaced before the text reaches a step's
 * error, its log line or its span.
 */
export async function providerErrorFrom(
  response: Response,
  provider: string,
  apiKey: string | null = null,
): Promise<ProviderError> {
  const body = await response.text().catch(() => "");
  const detail = (apiKey && apiKey.length >= 4 ? body.split(apiKey).join("[agent api key]") : body).slice(0, 300);
  const retryable = response.status === 429 || response.status === 408 || response.status >= 500;
  const error = new ProviderError(
    `${provider} answered ${response.status}${detail ? `: ${detail}` : ""}`,
    retryable,
    response.status,
  );
  error.retryAfterMs = retryAfterMs(response.headers.get("retry-after"));
  return error;
}

/** Retry-After as seconds or an HTTP date, capped so one answer cannot stall a step for long. */
export function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.round(Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_SECONDS) * 1000);
}
