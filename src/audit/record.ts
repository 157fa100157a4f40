/**
 * Writing audit rows. Callers pass the transaction that makes the change, so the row commits or
 * rolls back with it. Rows are appended unlinked, with no lock; the sequencer (sequencer.ts)
 * links them into the hash chain.
 */

import type { Queryable } from "../db/client";
import { type AuditContext, auditDedupeKeys, auditLogs } from "../db/schema";

/** Who did it and from where; built once per request (see `auditContextOf`). */

export interface AuditEntry {
  action: string;
  resourceType: string;
  resourceId?: string | null;
  /** Public views only: never password hashes, API keys or webhook secrets. */
  before?: unknown;
  after?: unknown;
  /** Makes a retried write (an execution outbox) land once. */
  dedupeKey?: string;
}

/** The platform acting on its own (cron jobs, webhooks, execution Durable Objects). */
export const SYSTEM_ACTOR: AuditContext = {
  actorId: null,
  actorEmail: "system",
  ip: null,
  userAgent: null,
  requestId: null,
};

export async function recordAudit(tx: Queryable, context: AuditContext, entry: AuditEntry): Promise<void> {
  // A retried write finds its key taken and writes nothing (audit_logs, partitioned by month,
  // cannot hold a unique index on the key alone). The caller's transaction makes both one.
  if (entry.dedupeKey) {
    const claimed = await tx
      .insert(auditDedupeKeys)
      .values({ dedupeKey: entry.dedupeKey })
      .onConflictDoNothing()
      .returning({ key: auditDedupeKeys.dedupeKey });
    if (claimed.length === 0) return;
  }
  await tx.insert(auditLogs).values(auditRowOf(context, entry));
}

/** The audit_logs row of an entry (without the chain's fields, which the sequencer fills in). */
export function auditRowOf(context: AuditContext, entry: AuditEntry) {
  return {
    actorId: context.actorId,
    actorEmail: context.actorEmail,
    ip: context.ip,
    userAgent: context.userAgent?.slice(0, 512) ?? null,
    requestId: context.requestId,
    action: entry.action,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId ?? null,
    before: toJson(entry.before),
    after: toJson(entry.after),
    dedupeKey: entry.dedupeKey ?? null,
  };
}

/** Dates and other class instances become their JSON form, as the API shows them. */
function toJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
