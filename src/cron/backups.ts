/**
 * The backup timetable (docs/backups.md), from the one cron trigger: a full backup daily at 02:00 UTC,
 * incrementals every BACKUP_INCREMENTAL_MINUTES (a full instead while nothing exists to build on,
 * and nothing but a timestamp when nothing changed), verification of each new backup, a daily
 * restore-verification of the newest incremental chain, retention at 04:00, log archival at 04:30
 * and a recovery drill on Sundays at 05:30. Each slot is claimed once; the work runs in the jobs
 * queue.
 */
import { and, asc, desc, eq, gte, inArray, sql } from "drizzle-orm";
import { SYSTEM_ACTOR } from "../audit/record";
import { type BackupKind, type BackupRow, createPending, latestRestorable, recordUnchanged } from "../backup/catalog";
import type { Manifest } from "../backup/manifest";
import { backupsToReplicate } from "../backup/replica";
import { sameMigrations } from "../backup/run-backup";
import type { Database } from "../db/client";
import { claimSlot } from "../db/job-runs";
import { backups } from "../db/schema";
import type { Bindings } from "../env";
import { ConflictError } from "../errors";
import { enqueueJob } from "../queues/enqueue-job";
import { startDrill } from "../services/drills";

export const FULL_AT_HOUR = 2;

/** Whether `slot` is one of the backup schedule's (every `everyMinutes`, counted from midnight UTC). */
export function isBackupSlot(slot: Date, everyMinutes: number): boolean {
  return (slot.getUTCHours() * 60 + slot.getUTCMinutes()) % everyMinutes === 0;
}

/**
 * One backup slot: 02:00 takes a full backup, the others an incremental of what changed since the
 * newest backup. Returns the new backup's id, or null when the slot needs none: a run is already
 * waiting (it will take these changes too), or nothing changed (recorded on the newest backup).
 */
export async function scheduleBackups(db: Database, env: Bindings, slot: Date): Promise<string | null> {
  const fullTime = slot.getUTCHours() === FULL_AT_HOUR && slot.getUTCMinutes() === 0;
  let kind: BackupKind = fullTime ? "full" : "incremental";
  const newest = kind === "incremental" ? await latestRestorable(db) : null;
  // A migration since the newest backup: an incremental could not carry it, so the chain starts over.
  if (newest && !(await sameSchemaAs(db, newest))) kind = "full";
  if (kind === "incremental") {
    const [inFlight] = await db
      .select({ status: backups.status })
      .from(backups)
      .where(inArray(backups.status, newest ? ["pending"] : ["pending", "running"]))
      .limit(1);
    if (inFlight) return null;
    // Nothing to build on yet: start the chain now rather than wait for 02:00.
    if (!newest) kind = "full";
    else if (await recordUnchanged(db, newest)) return null;
  }
  const row = await createPending(db, kind, { slot });
  if (row) await enqueueJob(env, { type: "backup", backupId: row.id });
  return row?.id ?? null;
}

/** Backups one verification slot takes on: ten every five minutes outpace incrementals every minute. */
export const VERIFY_PER_SLOT = 10;

/** Verifies the oldest backups of the last two days that nobody has verified yet. */
export async function scheduleVerification(db: Database, env: Bindings, slot: Date): Promise<string[]> {
  if (!(await claimSlot(db, "verify", slot))) return [];
  const next = await db
    .select({ id: backups.id, kind: backups.kind })
    .from(backups)
    .where(and(eq(backups.status, "completed"), gte(backups.createdAt, sql`now() - interval '2 days'`)))
    .orderBy(asc(backups.createdAt))
    .limit(VERIFY_PER_SLOT);
  for (const backup of next) {
    await enqueueJob(env, {
      type: "verify",
      backupId: backup.id,
      mode: backup.kind === "full" ? "restore" : "objects",
    });
  }
  return next.map((backup) => backup.id);
}

/** Once a day, restore the newest incremental's whole chain. */
export async function scheduleChainRestore(db: Database, env: Bindings, slot: Date): Promise<string | null> {
  if (!(await claimSlot(db, "verify-chain", slot))) return null;
  const [newest] = await db
    .select({ id: backups.id })
    .from(backups)
    .where(and(eq(backups.kind, "incremental"), inArray(backups.status, ["completed", "verified"])))
    .orderBy(desc(backups.snapshotAt))
    .limit(1);
  if (!newest) return null;
  await enqueueJob(env, { type: "verify", backupId: newest.id, mode: "restore" });
  return newest.id;
}

/** True when the database has the migrations the backup's manifest lists (no schema change since). */
async function sameSchemaAs(db: Database, backup: BackupRow): Promise<boolean> {
  const listed = (backup.manifest as Manifest | null)?.migrations;
  if (!listed) return true;
  const { rows } = await db.execute<{ hash: string }>(sql`select hash from drizzle.__drizzle_migrations order by id`);
  return sameMigrations(listed, rows);
}

/** The weekly drill (docs/backups.md): once per slot, unless one is running already. */
export async function scheduleDrill(db: Database, env: Bindings, slot: Date): Promise<string | null> {
  if (!(await claimSlot(db, "drill", slot))) return null;
  try {
    return (await startDrill(db, env, { ...SYSTEM_ACTOR, actorEmail: "cron" }, "schedule")).id;
  } catch (error) {
    if (error instanceof ConflictError) return null;
    throw error;
  }
}

export async function scheduleMaintenance(db: Database, env: Bindings, slot: Date, job: "retention" | "archive-logs") {
  if (!(await claimSlot(db, job, slot))) return false;
  await enqueueJob(env, { type: job, slot: slot.toISOString() });
  return true;
}

/** Every minute with a replica bound: send what it still lacks to be copied (replica.ts retries). */
export async function scheduleReplication(db: Database, env: Bindings): Promise<string[]> {
  if (!env.STORAGE_REPLICA) return [];
  const ids = await backupsToReplicate(db);
  for (const backupId of ids) await enqueueJob(env, { type: "replicate", backupId });
  return ids;
}
