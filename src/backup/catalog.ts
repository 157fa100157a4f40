/** The `backups` catalog: one row per run, created pending, finished completed or failed, then verified. */
import { and, desc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import type { Database, Queryable } from "../db/client";
import { backups } from "../db/schema";
import { recordNotice } from "../notifications/record";
import type { Manifest } from "./manifest";

export type BackupRow = typeof backups.$inferSelect;
export type BackupKind = BackupRow["kind"];

/** A backup whose objects and manifest are all written (verified or not): chains, copies and freshness use these. */
export const FINISHED_STATUSES = [
  "completed",
  "verified",
  "verification_failed",
] as const satisfies BackupRow["status"][];
export const isFinished = (status: BackupRow["status"]) => (FINISHED_STATUSES as readonly string[]).includes(status);

export function prefixFor(kind: BackupKind, id: string, at = new Date()): string {
  return `backups/${kind}/${at.toISOString().slice(0, 10)}/${id}/`;
}

/** Creates the pending row; for a scheduled slot, at most one per (kind, slot). */
export async function createPending(
  db: Queryable,
  kind: BackupKind,
  options: { slot?: Date; requestedBy?: string | null } = {},
): Promise<BackupRow | null> {
  const id = crypto.randomUUID();
  const [row] = await db
    .insert(backups)
    .values({
      id,
      kind,
      slot: options.slot ?? null,
      requestedBy: options.requestedBy ?? null,
      prefix: prefixFor(kind, id),
    })
    .onConflictDoNothing()
    .returning();
  return row ?? null;
}

export async function findBackup(db: Queryable, id: string): Promise<BackupRow | null> {
  const [row] = await db.select().from(backups).where(eq(backups.id, id));
  return row ?? null;
}

/** The newest backup a new incremental can build on (completed or verified, with a snapshot). */
export async function latestRestorable(db: Queryable): Promise<BackupRow | null> {
  const [row] = await db
    .select()
    .from(backups)
    .where(and(inArray(backups.status, ["completed", "verified"]), isNotNull(backups.snapshot)))
    .orderBy(desc(backups.snapshotAt))
    .limit(1);
  return row ?? null;
}

/** Changes logged after `snapshot` (the change log's txid index finds them). */
export const changesSince = (snapshot: string) =>
  sql`exists (select 1 from change_log where txid >= pg_snapshot_xmin(${snapshot}::pg_snapshot)
    and not pg_visible_in_snapshot(txid, ${snapshot}::pg_snapshot))`;

/**
 * An empty interval (docs/backups.md): when nothing changed since `backup`'s snapshot, records that it
 * ran by moving the backup's `unchanged_at` to now and answers true; no object is written. One
 * statement: its `now()` precedes its snapshot, so every change committed by then is seen.
 */
export async function recordUnchanged(db: Queryable, backup: BackupRow): Promise<boolean> {
  if (!backup.snapshot) return false;
  const marked = await db
    .update(backups)
    .set({ unchangedAt: sql`now()` })
    .where(and(eq(backups.id, backup.id), sql`not ${changesSince(backup.snapshot)}`))
    .returning({ id: backups.id });
  return marked.length > 0;
}

/**
 * A scheduled incremental that finds nothing changed when it runs (the run before it took the
 * changes its slot saw) is an empty interval too: it is recorded on the newest backup and its own
 * row goes, having written nothing.
 */
export async function dropIfUnchanged(db: Database, row: BackupRow): Promise<boolean> {
  if (row.kind !== "incremental" || !row.slot) return false;
  const newest = await latestRestorable(db);
  if (!newest || !(await recordUnchanged(db, newest))) return false;
  await db.delete(backups).where(eq(backups.id, row.id));
  return true;
}

/** How far a running backup has got (docs/backups.md extension: the dashboard and `ipa backups start --wait` show it). */
export interface BackupProgress {
  stage: "checksums" | "schema" | "tables" | "changes" | "manifest" | "done";
  tablesDone: number;
  tablesTotal: number;
  rows: number;
  /** The table being written, while stage is "tables". */
  table?: string;
}

export async function recordProgress(db: Database, id: string, progress: BackupProgress): Promise<void> {
  await db.update(backups).set({ progress }).where(eq(backups.id, id));
}

export async function markRunning(db: Database, id: string): Promise<void> {
  await db.update(backups).set({ status: "running", startedAt: sql`now()`, reason: null }).where(eq(backups.id, id));
}

export async function markCompleted(
  db: Database,
  id: string,
  manifest: Manifest,
  manifestSha256: string,
  startedAt: Date,
  replicated: boolean,
): Promise<void> {
  await db
    .update(backups)
    .set({
      status: "completed",
      replicaStatus: replicated ? "pending" : null,
      manifest,
      manifestSha256,
      snapshot: manifest.snapshot,
      snapshotAt: new Date(manifest.snapshotAt),
      baseId: manifest.base?.id ?? null,
      previousId: manifest.previous?.id ?? null,
      sizeBytes: manifest.objects.reduce((sum, object) => sum + object.bytes, 0),
      rows: manifest.tables.reduce((sum, table) => sum + table.rows, 0),
      progress: {
        stage: "done",
        tablesDone: manifest.tables.length,
        tablesTotal: manifest.tables.length,
        rows:
          manifest.kind === "full"
            ? manifest.tables.reduce((sum, table) => sum + table.rows, 0)
            : (manifest.objects[0]?.rows ?? 0),
      } satisfies BackupProgress,
      completedAt: sql`now()`,
      durationMs: Date.now() - startedAt.getTime(),
    })
    .where(eq(backups.id, id));
}

export async function markFailed(db: Database, id: string, reason: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(backups)
      .set({ status: "failed", reason: reason.slice(0, 2000), completedAt: sql`now()` })
      .where(eq(backups.id, id));
    await noticeBackupFailed(tx, id, reason);
  });
}

/** The platform's channels hear that a backup failed (once per backup, however often its job retried). */
function noticeBackupFailed(tx: Queryable, backupId: string, reason: string): Promise<number> {
  return recordNotice(tx, {
    event: "backup.failed",
    workflowId: null,
    dedupeKey: `backup:${backupId}:failed`,
    payload: { backupId, reason: reason.slice(0, 500), link: "/admin/backups" },
  });
}

/**
 * A backup whose job was dead-lettered (every delivery failed, e.g. the lock stayed busy): when it
 * is still pending or running, it failed. Answers whether it was.
 */
export async function failUnfinished(db: Database, id: string, reason: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const changed = await tx
      .update(backups)
      .set({ status: "failed", reason: reason.slice(0, 2000), completedAt: sql`now()` })
      .where(and(eq(backups.id, id), inArray(backups.status, ["pending", "running"])))
      .returning({ id: backups.id });
    if (changed.length > 0) await noticeBackupFailed(tx, id, reason);
    return changed.length > 0;
  });
}

/**
 * Runs left `running` by a crashed worker, found while holding the backup lock (so nobody is
 * running them): they failed, and their partial objects go.
 */
export async function failInterrupted(db: Database, bucket: R2Bucket, exceptId: string): Promise<number> {
  const stale = await db
    .update(backups)
    .set({ status: "failed", reason: "interrupted: the run stopped before it finished", completedAt: sql`now()` })
    .where(and(eq(backups.status, "running"), sql`${backups.id} <> ${exceptId}`))
    .returning({ prefix: backups.prefix });
  for (const { prefix } of stale) await deletePrefix(bucket, prefix);
  return stale.length;
}

export async function deletePrefix(bucket: R2Bucket, prefix: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const listed = await bucket.list({ prefix, cursor });
    if (listed.objects.length) await bucket.delete(listed.objects.map((object) => object.key));
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor);
}
