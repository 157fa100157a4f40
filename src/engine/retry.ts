/** Retry timing of docs/workflows.md: delay before attempt n is min(initialDelayMs × factor^(n-2), maxDelayMs). */
import { type RetryPolicy, RetryPolicySchema } from "./step-fields";

export const DEFAULT_RETRY: RetryPolicy = RetryPolicySchema.parse({});

export function retryPolicyOf(retry: RetryPolicy | undefined): RetryPolicy {
  return retry ?? DEFAULT_RETRY;
}

/** Milliseconds to wait before attempt `nextAttempt` (2 for the first retry). */
export function retryDelayMs(policy: RetryPolicy, nextAttempt: number): number {
  const delay = policy.initialDelayMs * policy.factor ** Math.max(0, nextAttempt - 2);
  return Math.round(Math.min(delay, policy.maxDelayMs));
}
