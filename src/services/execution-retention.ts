/**
 * Retention per workflow (docs/workflows.md `retentionDays`): an execution of a workflow with
 * `retentionDays` leaves that many days after it ended. Its log lines still in Postgres are
 * archived to R2 first (the same per-day objects as log archival), then its row goes, and with it
 * its steps, logs and records (their keys cascade); a child that outlives it loses the link to
 * it. Workflows without `retentionDays` keep their executions. Run by the daily retention job,
 * oldest end first, a bounded number per run; one audit row says what each run removed.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { recordAudit, SYSTEM_ACTOR } from "../audit/record";
import type { Database } from "../db/client";
import { executions } from "../db/schema";
import { TERMINAL_EXECUTION_STATUSES } from "../engine/vocabulary";
import { archiveExecutionLogs } from "../logs/archive";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";

/** Executions one run removes; a larger backlog leaves over the next days' runs. */
const PER_RUN = 5_000;

export interface RetentionOutcome {
  removed: number;
  archivedLines: number;
  failed: number;
  /** Removed per workflow. */
  byWorkflow: Record<string, number>;
}

export async function removeExpiredExecutions(
  db: Database,
  bucket: R2Bucket,
  now = new Date(),
): Promise<RetentionOutcome> {
  const outcome: RetentionOutcome = { removed: 0, archivedLines: 0, failed: 0, byWorkflow: {} };
  const { rows } = await db.execute<{ id: string; workflow_id: string; retention_days: number }>(sql`
    select e.id, e.workflow_id, w.retention_days
    from workflows w
    cross join lateral (
      select id, workflow_id, completed_at from executions
      where workflow_id = w.id and completed_at is not null
        and completed_at < ${now.toISOString()}::timestamptz - make_interval(days => w.retention_days)
        and status in ('completed', 'failed', 'cancelled')
      order by completed_at limit ${PER_RUN}) e
    where w.retention_days is not null
    order by e.completed_at limit ${PER_RUN}`);
  for (const row of rows) {
    try {
      outcome.archivedLines += await archiveExecutionLogs(db, bucket, row.id);
      const removed = await db.transaction(async (tx) => {
        // Checked again under the row's lock: a retry or rerun since the scan made it live, and it stays.
        const [still] = await tx
          .select({ id: executions.id })
          .from(executions)
          .where(
            and(
              eq(executions.id, row.id),
              inArray(executions.status, [...TERMINAL_EXECUTION_STATUSES]),
              sql`${executions.completedAt} < ${now.toISOString()}::timestamptz - make_interval(days => ${row.retention_days})`,
            ),
          )
          .for("update");
        if (!still) return false;
        await tx.update(executions).set({ parentExecutionId: null }).where(eq(executions.parentExecutionId, row.id));
        await tx.delete(executions).where(eq(executions.id, row.id));
        return true;
      });
      if (!removed) continue;
      outcome.removed++;
      outcome.byWorkflow[row.workflow_id] = (outcome.byWorkflow[row.workflow_id] ?? 0) + 1;
    } catch (error) {
      outcome.failed++;
      logEvent("error", "execution_retention_failed", { executionId: row.id, ...describeError(error) });
    }
  }
  if (outcome.removed > 0) {
    await recordAudit(
      db,
      { ...SYSTEM_ACTOR, actorEmail: "retention" },
      { action: "execution.retention", resourceType: "execution", resourceId: null, after: outcome },
    );
    logEvent("info", "executions_removed_by_retention", { ...outcome });
  }
  return outcome;
}
