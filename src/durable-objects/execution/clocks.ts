/** How long the object's leases hold, and how often it checks what a lost notification would leave waiting. */
import type { Lease } from "./types";

/** A claimed attempt's consumer renews its lease every third of this (heartbeats). */
export const LEASE_MS = 30_000;
/**
 * The lease of an attempt the object runs itself: short, so that an object evicted mid-attempt
 * hands it to the queue within seconds (the alarm wakes the new instance), and cheap to renew.
 */
export const INLINE_LEASE_MS = 6_000;

/**
 * A consumer's lease on an attempt: a third of the attempt's timeout, between INLINE_LEASE_MS and
 * LEASE_MS. It must run out well before the attempt's deadline, so that the attempt of a consumer
 * that died (or stashed a result it could not report) is claimed again, and reported, in time; a
 * lease as long as the timeout turned every such fault into a timed-out attempt.
 */
export function queueLeaseMs(attemptTimeoutMs: number): number {
  return Math.min(LEASE_MS, Math.max(INLINE_LEASE_MS, Math.floor(attemptTimeoutMs / 3)));
}

export function leaseLength(lease: Lease | null): number {
  return lease?.ms ?? LEASE_MS;
}

/** How often a step waiting for child executions asks them, in case a notification was lost. */
export const CHILDREN_CHECK_MS = 60_000;
