/**
 * Backup retention (docs/operations.md): incrementals are kept RETENTION_INCREMENTAL_DAYS, daily fulls
 * RETENTION_DAILY_DAYS, the first full of each month RETENTION_MONTHLY_DAYS, and anything a kept
 * backup's chain still needs is kept with it. A backup's objects go first, then its catalog row,
 * so a failure half-way leaves a row that the next run finishes deleting, never an orphan row
 * pointing at nothing.
 */
import { inArray } from "drizzle-orm";
import type { Settings } from "../config";
import type { Database } from "../db/client";
import { backups } from "../db/schema";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { type BackupRow, deletePrefix } from "./catalog";

const DAY_MS = 24 * 3600 * 1000;
const IN_PROGRESS = new Set(["pending", "running"]);

export interface RetentionOutcome {
  kept: number;
  deleted: string[];
  failed: string[];
}

export async function applyRetention(
  db: Database,
  /** The primary bucket, and the replica when one is bound: a backup leaves both. */
  buckets: R2Bucket[],
  config: Settings,
  now = new Date(),
): Promise<RetentionOutcome> {
  const all = await db.select().from(backups);
  const keep = keptIds(all, config, now);
  const outcome: RetentionOutcome = { kept: keep.size, deleted: [], failed: [] };
  for (const row of all.filter((backup) => !keep.has(backup.id))) {
    try {
      for (const bucket of buckets) await deletePrefix(bucket, row.prefix);
      await db.delete(backups).where(inArray(backups.id, [row.id]));
      outcome.deleted.push(row.id);
    } catch (error) {
      outcome.failed.push(row.id);
      logEvent("error", "retention_delete_failed", { backupId: row.id, ...describeError(error) });
    }
  }
  return outcome;
}

/** Which backups stay: by age and kind, plus every link of a kept backup's chain. */
export function keptIds(all: BackupRow[], config: Settings, now: Date): Set<string> {
  const byId = new Map(all.map((row) => [row.id, row]));
  const age = (row: BackupRow) => now.getTime() - (row.snapshotAt ?? row.createdAt).getTime();
  const monthlyFirsts = firstFullOfEachMonth(all);
  const keep = new Set<string>();
  for (const row of all) {
    const days =
      row.kind === "incremental"
        ? config.RETENTION_INCREMENTAL_DAYS
        : monthlyFirsts.has(row.id)
          ? Math.max(config.RETENTION_MONTHLY_DAYS, config.RETENTION_DAILY_DAYS)
          : config.RETENTION_DAILY_DAYS;
    if (IN_PROGRESS.has(row.status) || age(row) <= days * DAY_MS) keep.add(row.id);
  }
  for (const id of [...keep]) {
    for (let link = byId.get(id); link?.previousId; link = byId.get(link.previousId)) keep.add(link.previousId);
    const baseId = byId.get(id)?.baseId;
    if (baseId) keep.add(baseId);
  }
  return keep;
}

function firstFullOfEachMonth(all: BackupRow[]): Set<string> {
  const firsts = new Map<string, BackupRow>();
  for (const row of all) {
    if (row.kind !== "full" || !row.snapshotAt || !["completed", "verified"].includes(row.status)) continue;
    const month = row.snapshotAt.toISOString().slice(0, 7);
    const current = firsts.get(month);
    if (!current || (current.snapshotAt as Date) > row.snapshotAt) firsts.set(month, row);
  }
  return new Set([...firsts.values()].map((row) => row.id));
}
