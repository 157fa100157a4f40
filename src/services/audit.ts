/** Reading the audit trail (audit:read): newest first, filtered, keyset-paginated by seq. */
import { and, desc, eq, gte, isNotNull, lt, lte } from "drizzle-orm";
import { linkAuditChainUnlessBusy } from "../audit/sequencer";
import type { Database } from "../db/client";
import { auditLogs } from "../db/schema";
import { decodeCursor, type Page, toPage } from "./pagination";

export interface AuditFilters {
  limit: number;
  cursor?: string;
  actorId?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  from?: Date;
  to?: Date;
}

export interface AuditView {
  id: string;
  seq: number;
  actorId: string | null;
  actorEmail: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  createdAt: string;
  hash: string;
}

export async function listAudit(db: Database, filters: AuditFilters): Promise<Page<AuditView>> {
  const after = decodeCursor(filters.cursor);
  // Readers see the whole chain: what writers appended since the sequencer last ran is linked
  // first, unless a sequencer is linking it right now (a list never queues behind that lock).
  await linkAuditChainUnlessBusy(db);
  const rows = await db
    .select()
    .from(auditLogs)
    .where(
      and(
        filters.actorId ? eq(auditLogs.actorId, filters.actorId) : undefined,
        filters.action ? eq(auditLogs.action, filters.action) : undefined,
        filters.resourceType ? eq(auditLogs.resourceType, filters.resourceType) : undefined,
        filters.resourceId ? eq(auditLogs.resourceId, filters.resourceId) : undefined,
        filters.from ? gte(auditLogs.createdAt, filters.from) : undefined,
        filters.to ? lte(auditLogs.createdAt, filters.to) : undefined,
        after ? lt(auditLogs.seq, Number(after.at)) : undefined,
        isNotNull(auditLogs.seq),
      ),
    )
    .orderBy(desc(auditLogs.seq))
    .limit(filters.limit + 1);
  return toPage(
    rows,
    filters.limit,
    (row) => ({ at: String(row.seq), id: row.id }),
    (row) => ({
      id: row.id,
      seq: row.seq as number,
      actorId: row.actorId,
      actorEmail: row.actorEmail,
      action: row.action,
      resourceType: row.resourceType,
      resourceId: row.resourceId,
      before: row.before,
      after: row.after,
      ip: row.ip,
      userAgent: row.userAgent,
      requestId: row.requestId,
      createdAt: row.createdAt.toISOString(),
      hash: row.hash,
    }),
  );
}
