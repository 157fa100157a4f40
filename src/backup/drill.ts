/**
 * A recovery drill (docs/backups.md): restore the newest finished backup's chain into the verification
 * database — the same checked, statement-by-statement load and table-by-table comparison as
 * verification — and record what an operator needs to trust it: the RTO (how long the restore
 * took), the RPO (how old the newest restored change was when the drill began) and every table's
 * result. The report goes to the `drills` table and, as JSON, to R2 beside the backups.
 */
import { and, eq, sql } from "drizzle-orm";
import { recordAudit, SYSTEM_ACTOR } from "../audit/record";
import type { Database, Queryable } from "../db/client";
import { drills } from "../db/schema";
import { recordNotice } from "../notifications/record";
import { logEvent } from "../observability/log";
import { latestRestorable } from "./catalog";
import type { BackupContext } from "./run-backup";
import { type Verification, verifyBackup } from "./verify";

export interface DrillReport {
  backupId: string | null;
  snapshotAt: string | null;
  chain: string[];
  objects: number;
  tables: Verification["tables"];
}

const DRILL_ACTOR = { ...SYSTEM_ACTOR, actorEmail: "drills" };

export const drillReportKey = (drillId: string) => `drills/${drillId}.json`;

export async function runDrill(context: BackupContext, drillId: string): Promise<void> {
  const [drill] = await context.db.select().from(drills).where(eq(drills.id, drillId));
  // A redelivered message for a drill that already ended changes nothing.
  if (drill?.status !== "running") return;
  const newest = await latestRestorable(context.db);
  const report: DrillReport = { backupId: newest?.id ?? null, snapshotAt: null, chain: [], objects: 0, tables: [] };
  let verdict: Verification | null = null;
  if (newest) {
    report.snapshotAt = newest.snapshotAt?.toISOString() ?? null;
    verdict = await verifyBackup(context, newest.id, { mode: "restore" });
    Object.assign(report, { chain: verdict.chain, objects: verdict.objects, tables: verdict.tables });
  }
  const passed = verdict?.ok === true;
  const reason = newest ? (verdict?.reason ?? null) : "no finished backup to restore";
  // An empty interval after the snapshot found the backup still current then.
  const currentAt = newest?.snapshotAt
    ? Math.max(newest.snapshotAt.getTime(), newest.unchangedAt?.getTime() ?? 0)
    : null;
  const rpoSeconds =
    currentAt === null ? null : Math.max(0, Math.round((drill.startedAt.getTime() - currentAt) / 1000));
  await context.bucket.put(
    drillReportKey(drillId),
    JSON.stringify({ id: drillId, passed, reason, rpoSeconds, ...report }),
    {
      httpMetadata: { contentType: "application/json" },
    },
  );
  await context.db
    .update(drills)
    .set({
      status: passed ? "passed" : "failed",
      backupId: report.backupId,
      completedAt: sql`now()`,
      rtoMs: verdict?.durationMs ?? null,
      rpoSeconds,
      report,
      reason,
    })
    .where(eq(drills.id, drillId));
  if (!passed) await noticeDrillFailed(context.db, drillId, reason);
  await recordAudit(context.db, DRILL_ACTOR, {
    action: passed ? "drill.pass" : "drill.fail",
    resourceType: "drill",
    resourceId: drillId,
    after: { backupId: report.backupId, reason },
  });
  logEvent(passed ? "info" : "error", "drill_finished", {
    drillId,
    passed,
    reason,
    rtoMs: verdict?.durationMs,
    rpoSeconds,
  });
}

/** A drill whose job was dead-lettered: still running, it failed (with `reason`), and says so in the audit. */
export async function abandonDrill(db: Database, drillId: string, reason: string): Promise<boolean> {
  const changed = await db
    .update(drills)
    .set({ status: "failed", completedAt: sql`now()`, reason })
    .where(and(eq(drills.id, drillId), eq(drills.status, "running")))
    .returning({ id: drills.id });
  if (changed.length === 0) return false;
  await noticeDrillFailed(db, drillId, reason);
  await recordAudit(db, DRILL_ACTOR, {
    action: "drill.fail",
    resourceType: "drill",
    resourceId: drillId,
    after: { backupId: null, reason },
  });
  return true;
}

/** The platform's channels hear that a drill failed, once. */
function noticeDrillFailed(db: Queryable, drillId: string, reason: string | null): Promise<number> {
  return recordNotice(db, {
    event: "drill.failed",
    workflowId: null,
    dedupeKey: `drill:${drillId}:failed`,
    payload: { drillId, reason, link: "/admin/drills" },
  });
}
