/**
 * Queue expiry (docs/workflows.md `queueTtlSeconds`): an execution still `queued` when its time in
 * the queue runs out is cancelled with reason `expired`, audited, and its parent (a workflow step
 * or tool waiting for it) told. Run every minute by the cron; rows are taken with SKIP LOCKED so
 * an admission admitting one at the same moment wins it, and two sweeps never both end one.
 */
import { sql } from "drizzle-orm";
import { recordAudit, SYSTEM_ACTOR } from "../audit/record";
import type { Database } from "../db/client";
import { executions } from "../db/schema";
import type { StepError } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { logEvent } from "../observability/log";
import { tellParentOfQueued } from "./execution-controls";

/** Expired executions one sweep ends; a larger backlog ends over the next minutes. */
const BATCH = 500;

export const EXPIRED: StepError = {
  reason: "expired",
  message: "it waited in its queue longer than the workflow's queueTtlSeconds",
};

export async function expireQueued(db: Database, env: Bindings): Promise<number> {
  const expired = await db.transaction(async (tx) => {
    const rows = await tx
      .update(executions)
      .set({ status: "cancelled", completedAt: sql`now()`, error: EXPIRED })
      .where(
        sql`${executions.id} in (
          select id from executions where status = 'queued' and queue_expires_at <= now()
          order by queue_expires_at limit ${BATCH} for update skip locked)`,
      )
      .returning({
        id: executions.id,
        parentExecutionId: executions.parentExecutionId,
        parentStepId: executions.parentStepId,
      });
    for (const row of rows)
      await recordAudit(
        tx,
        { ...SYSTEM_ACTOR, actorEmail: "queue" },
        {
          action: "execution.cancel",
          resourceType: "execution",
          resourceId: row.id,
          before: { status: "queued" },
          after: { reason: EXPIRED.reason },
        },
      );
    return rows;
  });
  for (const row of expired) await tellParentOfQueued(env, row, EXPIRED);
  if (expired.length) logEvent("info", "executions_expired", { expired: expired.length });
  return expired.length;
}
