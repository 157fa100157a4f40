/** Backups for admins (backups:manage): list, start, inspect, verify, and fetch stored objects. */
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import { type BackupKind, type BackupProgress, type BackupRow, createPending, findBackup } from "../backup/catalog";
import { MANIFEST_NAME, type Manifest } from "../backup/manifest";
import type { Database } from "../db/client";
import { backups } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import type { Bindings } from "../env";
import { ConflictError, NotFoundError } from "../errors";
import { enqueueJob } from "../queues/enqueue-job";
import { decodeCursor, toPage } from "./pagination";

export function toBackupView(row: BackupRow, withManifest = false) {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    slot: row.slot?.toISOString() ?? null,
    prefix: row.prefix,
    baseId: row.baseId,
    previousId: row.previousId,
    snapshotAt: row.snapshotAt?.toISOString() ?? null,
    sizeBytes: row.sizeBytes,
    rows: row.rows,
    startedAt: row.startedAt?.toISOString() ?? null,
    completedAt: row.completedAt?.toISOString() ?? null,
    durationMs: row.durationMs,
    verifiedAt: row.verifiedAt?.toISOString() ?? null,
    verification: row.verification ?? null,
    progress: (row.progress as BackupProgress | null) ?? null,
    reason: row.reason,
    unchangedAt: row.unchangedAt?.toISOString() ?? null,
    replica: row.replicaStatus
      ? { status: row.replicaStatus, at: row.replicaAt?.toISOString() ?? null, reason: row.replicaReason }
      : null,
    createdAt: row.createdAt.toISOString(),
    ...(withManifest ? { manifest: (row.manifest as Manifest | null) ?? null } : {}),
  };
}

export async function listBackups(
  db: Database,
  filters: { limit: number; cursor?: string; kind?: BackupKind; status?: BackupRow["status"] },
) {
  const after = decodeCursor(filters.cursor);
  const conditions: Array<SQL | undefined> = [
    filters.kind ? eq(backups.kind, filters.kind) : undefined,
    filters.status ? eq(backups.status, filters.status) : undefined,
    after ? lt(backups.createdAt, new Date(after.at)) : undefined,
  ];
  const rows = await db
    .select()
    .from(backups)
    .where(and(...conditions))
    .orderBy(desc(backups.createdAt))
    .limit(filters.limit + 1);
  return toPage(
    rows,
    filters.limit,
    (row) => ({ at: row.createdAt.toISOString(), id: row.id }),
    (row) => toBackupView(row),
  );
}

export async function getBackup(db: Database, id: string) {
  const row = await findBackup(db, id);
  if (!row) throw new NotFoundError("Backup");
  return row;
}

export async function requestBackup(db: Database, env: Bindings, audit: AuditContext, kind: BackupKind) {
  const row = await db.transaction(async (tx) => {
    const created = (await createPending(tx, kind, { requestedBy: audit.actorId })) as BackupRow;
    await recordAudit(tx, audit, {
      action: "backup.request",
      resourceType: "backup",
      resourceId: created.id,
      after: { kind },
    });
    return created;
  });
  await enqueueJob(env, { type: "backup", backupId: row.id });
  return toBackupView(row);
}

export async function requestVerification(db: Database, env: Bindings, audit: AuditContext, id: string) {
  const row = await getBackup(db, id);
  if (!["completed", "verified", "verification_failed"].includes(row.status)) {
    throw new ConflictError(`A ${row.status} backup cannot be verified`, "BACKUP_NOT_FINISHED");
  }
  await recordAudit(db, audit, { action: "backup.verify_request", resourceType: "backup", resourceId: id });
  await enqueueJob(env, { type: "verify", backupId: id, mode: "restore" });
  return toBackupView(row);
}

/** One stored object (or the manifest) of a backup, streamed from R2 for off-site copies and restores. */
export async function backupObject(db: Database, bucket: R2Bucket, id: string, name: string): Promise<R2ObjectBody> {
  const row = await getBackup(db, id);
  const manifest = row.manifest as Manifest | null;
  const known = name === MANIFEST_NAME || manifest?.objects.some((object) => object.name === name);
  if (!known) throw new NotFoundError("Backup object");
  const object = await bucket.get(`${row.prefix}${name}`);
  if (!object) throw new NotFoundError("Backup object");
  return object;
}
