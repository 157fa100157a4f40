/**
 * The replica bucket (docs/backups.md): with STORAGE_REPLICA bound, every finished backup's objects and
 * then its manifest are copied there, each put checked by R2 against the sha256 the manifest (or
 * the catalog, for the manifest itself) recorded and read back to confirm it. The catalog keeps
 * the replica's state: `pending` when the backup finishes, `copied`, or `failed` with the reason;
 * the cron retries what is not copied, oldest first, so a bucket that failed for a while catches up.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { toHex } from "../crypto/encoding";
import type { Database } from "../db/client";
import { backups } from "../db/schema";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { type BackupRow, FINISHED_STATUSES, findBackup, isFinished } from "./catalog";
import { MANIFEST_NAME, type Manifest } from "./manifest";

/** A copy waits this long before the cron retries it (the backup's own job copies it first). */
export const REPLICA_RETRY_AFTER_SECONDS = 60;
/** Backups one cron minute sends to be copied. */
export const REPLICA_PER_SLOT = 5;

export class ReplicaCopyError extends Error {}

/** Copies one backup to the replica and records the outcome; never throws for a copy that failed. */
export async function replicateBackup(
  db: Database,
  primary: R2Bucket,
  replica: R2Bucket,
  backupId: string,
): Promise<BackupRow["replicaStatus"]> {
  const row = await findBackup(db, backupId);
  if (!row || !isFinished(row.status) || !row.manifestSha256) return null;
  if (row.replicaStatus === "copied") return "copied";
  const manifest = row.manifest as Manifest;
  try {
    for (const object of manifest.objects)
      await copyChecked(primary, replica, `${row.prefix}${object.name}`, object.sha256);
    // The manifest last: a replica holding a manifest holds every object it names.
    await copyChecked(primary, replica, `${row.prefix}${MANIFEST_NAME}`, row.manifestSha256);
    await db
      .update(backups)
      .set({ replicaStatus: "copied", replicaAt: sql`now()`, replicaReason: null })
      .where(eq(backups.id, backupId));
    return "copied";
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await db
      .update(backups)
      .set({ replicaStatus: "failed", replicaAt: sql`now()`, replicaReason: reason.slice(0, 2000) })
      .where(eq(backups.id, backupId));
    logEvent("error", "backup_replica_failed", { backupId, ...describeError(error) });
    return "failed";
  }
}

/** Finished backups the replica still lacks, whose last try (or finish) is a retry interval old. */
export async function backupsToReplicate(db: Database): Promise<string[]> {
  const rows = await db
    .select({ id: backups.id })
    .from(backups)
    .where(
      and(
        inArray(backups.status, [...FINISHED_STATUSES]),
        sql`${backups.replicaStatus} is distinct from 'copied'`,
        sql`coalesce(${backups.replicaAt}, ${backups.completedAt}) < now() - make_interval(secs => ${REPLICA_RETRY_AFTER_SECONDS})`,
      ),
    )
    .orderBy(asc(backups.completedAt))
    .limit(REPLICA_PER_SLOT);
  return rows.map((row) => row.id);
}

/** Puts `key` into the replica unless it already holds those bytes; R2 refuses a body whose sha256 differs. */
async function copyChecked(primary: R2Bucket, replica: R2Bucket, key: string, sha256: string): Promise<void> {
  if (await holds(replica, key, sha256)) return;
  const source = await primary.get(key);
  if (!source) throw new ReplicaCopyError(`${key} is missing from the primary bucket`);
  try {
    await replica.put(key, source.body.pipeThrough(new FixedLengthStream(source.size)), {
      sha256,
      httpMetadata: source.httpMetadata,
    });
  } catch (error) {
    throw new ReplicaCopyError(
      `${key}: the replica refused the copy: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (!(await holds(replica, key, sha256)))
    throw new ReplicaCopyError(`${key}: the replica's copy does not hash to ${sha256}`);
}

async function holds(bucket: R2Bucket, key: string, sha256: string): Promise<boolean> {
  const head = await bucket.head(key);
  const stored = head?.checksums.sha256;
  return stored !== undefined && toHex(stored) === sha256;
}
