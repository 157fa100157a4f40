/** How long the object's leases hold, and how often it checks what a lost notification would leave waiting. */
import type { Lease } from "./types";

/** A claimed attempt's consumer renews its lease every third of this (heartbeats). */
export const LEASE_MS = 30_000;
/**
 * The lease of an attempt the object runs itself: short, so that an object evicted mid-attempt
 * hands it to the queue within seconds (the alarm wakes the new instance), and cheap to renew.
 */
export const INLINE_LEASE_MS = 6_000;

export function leaseLength(lease: Lease | null): number {
  return lease?.ms ?? LEASE_MS;
}

/** How often a step waiting for child executions asks them, in case a notification was lost. */
export const CHILDREN_CHECK_MS = 60_000;
