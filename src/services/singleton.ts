/**
 * Singleton starts (docs/workflows.md `singleton`): at most one execution per key that has not
 * ended. Decided inside the start's transaction under the key's lock, so two simultaneous starts
 * never both begin: `skip` answers with the one already going, `cancel` ends it as `superseded`
 * (a queued one at once, in the same transaction; one whose object runs right after the commit).
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import type { Database, Queryable, Transaction } from "../db/client";
import { executions } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import { executionStub } from "../durable-objects/execution/stub";
import type { ExecutionStatus, StepError } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { lockKey } from "./concurrency";
import { handOffPending } from "./execution-handoff";

export const SUPERSEDED: StepError = {
  reason: "superseded",
  message: "a newer start with the same singleton key replaced it",
};

const NOT_ENDED = ["pending", "queued", "running", "paused"] as const satisfies ExecutionStatus[];

export interface ActiveExecution {
  id: string;
  status: ExecutionStatus;
}

/** Locks the key for the rest of the transaction and answers its executions that have not ended, oldest first. */
export async function activeOfKey(tx: Queryable, workflowId: string, key: string): Promise<ActiveExecution[]> {
  await lockKey(tx, workflowId, key, "singleton");
  return tx
    .select({ id: executions.id, status: executions.status })
    .from(executions)
    .where(
      and(
        eq(executions.workflowId, workflowId),
        eq(executions.singletonKey, key),
        inArray(executions.status, NOT_ENDED),
      ),
    )
    .orderBy(asc(executions.createdAt), asc(executions.id));
}

/**
 * In the start's transaction: the superseded executions still queued end here (their objects
 * never started); the ids answered run and are cancelled through their objects after the commit.
 */
export async function supersedeQueued(
  tx: Transaction,
  audit: AuditContext,
  active: ActiveExecution[],
): Promise<string[]> {
  const queued = active.filter((execution) => execution.status === "queued").map((execution) => execution.id);
  const ended = queued.length
    ? await tx
        .update(executions)
        .set({ status: "cancelled", completedAt: sql`now()`, error: SUPERSEDED })
        .where(and(inArray(executions.id, queued), eq(executions.status, "queued")))
        .returning({ id: executions.id })
    : [];
  for (const { id } of ended)
    await recordAudit(tx, audit, {
      action: "execution.cancel",
      resourceType: "execution",
      resourceId: id,
      before: { status: "queued" },
      after: { reason: SUPERSEDED.reason },
    });
  // The rest run (or were admitted since the read): their objects cancel them after the commit.
  const endedIds = new Set(ended.map(({ id }) => id));
  return active.map(({ id }) => id).filter((id) => !endedIds.has(id));
}

/**
 * After the new start committed: each superseded execution that runs is cancelled by its object
 * (handed off first if its hand-off had failed). What fails is logged; the execution then runs on.
 */
export async function cancelSuperseded(db: Database, env: Bindings, audit: AuditContext, ids: string[]): Promise<void> {
  for (const id of ids) {
    try {
      const stub = executionStub(env, id);
      const cancel = () => stub.control({ action: "cancel", actingUserId: null, audit, reason: SUPERSEDED });
      const answer = await cancel();
      if (!answer.ok && answer.code === "NOT_STARTED" && (await handOffPending(db, env, id))) await cancel();
    } catch (error) {
      logEvent("error", "singleton_supersede_failed", { executionId: id, ...describeError(error) });
    }
  }
}
