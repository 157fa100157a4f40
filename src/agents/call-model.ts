/**
 * One model call with the resilience users expect: a timeout on every call, rate limits and
 * server errors retried with backoff (honouring Retry-After), then the fallback models in turn.
 * What still fails becomes a retryable step error, so the step's own policy has the last word.
 */
import { type ChatRequest, type ChatResponse, type ModelProvider, ProviderError } from "./providers/types";

/** Calls per model before moving to the next one. */
export const TRIES_PER_MODEL = 2;
const BACKOFF_MS = [500, 1500];

export async function callModel(
  provider: ModelProvider,
  request: Omit<ChatRequest, "model" | "signal">,
  models: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ChatResponse> {
  let last: ProviderError | undefined;
  for (const model of models) {
    for (let attempt = 1; attempt <= TRIES_PER_MODEL; attempt++) {
      try {
        const perCall = AbortSignal.timeout(timeoutMs);
        return await provider.chat({
          ...request,
          model,
          signal: signal ? AbortSignal.any([perCall, signal]) : perCall,
        });
      } catch (error) {
        // The attempt's own deadline or a lost lease ends it; only the per-call timeout is the provider's.
        signal?.throwIfAborted();
        if (!(error instanceof ProviderError)) throw error;
        last = error;
        // A model the provider does not know may exist as a fallback; other client errors will not heal.
        if (!error.retryable && error.status !== 404) throw error;
        if (!error.retryable) break;
        if (attempt < TRIES_PER_MODEL) await sleep(error.retryAfterMs ?? BACKOFF_MS[attempt - 1]);
      }
    }
  }
  throw last ?? new ProviderError("no model to call", false);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
