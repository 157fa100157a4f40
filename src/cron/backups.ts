/**
 * The backup timetable (SPEC §9), from the one cron trigger: a full backup daily at 02:00 UTC,
 * incrementals every 15 minutes (a full instead while nothing exists to build on), verification
 * of each new backup, a daily restore-verification of the newest incremental chain, retention at
 * 04:00, log archival at 04:30 and a recovery drill on Sundays at 05:30. Each slot is claimed once; the work runs in the jobs queue.
 */
import { and, asc, desc, eq, gte, inArray, sql } from "drizzle-orm";
import { SYSTEM_ACTOR } from "../audit/record";
import { type BackupKind, type BackupRow, createPending, latestRestorable } from "../backup/catalog";
import type { Manifest } from "../backup/manifest";
import { sameMigrations } from "../backup/run-backup";
import type { Database } from "../db/client";
import { backups } from "../db/schema";
import type { Bindings } from "../env";
import { ConflictError } from "../errors";
import { enqueueJob } from "../queues/enqueue-job";
import { startDrill } from "../services/drills";
import { claimSlot } from "./job-runs";

export const INCREMENTAL_EVERY_MINUTES = 15;
export const FULL_AT_HOUR = 2;

/** Every 15 minutes: the 02:00 slot takes a full backup, the others an incremental. */
export async function scheduleBackups(db: Database, env: Bindings, slot: Date): Promise<string | null> {
  const fullTime = slot.getUTCHours() === FULL_AT_HOUR && slot.getUTCMinutes() === 0;
  let kind: BackupKind = fullTime ? "full" : "incremental";
  const newest = kind === "incremental" ? await latestRestorable(db) : null;
  // A migration since the newest backup: an incremental could not carry it, so the chain starts over.
  if (newest && !(await sameSchemaAs(db, newest))) kind = "full";
  if (kind === "incremental" && !newest) {
    // Nothing to build on yet: start the chain now rather than wait for 02:00.
    const [inFlight] = await db
      .select({ id: backups.id })
      .from(backups)
      .where(inArray(backups.status, ["pending", "running"]))
      .limit(1);
    if (inFlight) return null;
    kind = "full";
  }
  const row = await createPending(db, kind, { slot });
  if (row) await enqueueJob(env, { type: "backup", backupId: row.id });
  return row?.id ?? null;
}

/** Verifies the oldest backup of the last two days that nobody has verified yet. */
export async function scheduleVerification(db: Database, env: Bindings, slot: Date): Promise<string | null> {
  if (!(await claimSlot(db, "verify", slot))) return null;
  const [next] = await db
    .select({ id: backups.id, kind: backups.kind })
    .from(backups)
    .where(and(eq(backups.status, "completed"), gte(backups.createdAt, sql`now() - interval '2 days'`)))
    .orderBy(asc(backups.createdAt))
    .limit(1);
  if (!next) return null;
  await enqueueJob(env, { type: "verify", backupId: next.id, mode: next.kind === "full" ? "restore" : "objects" });
  return next.id;
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

/** The weekly drill (SPEC §9): once per slot, unless one is running already. */
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
