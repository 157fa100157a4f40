/**
 * Admission of queued executions (docs/workflows.md `concurrency`): as slots of a key free, its queued
 * executions become `pending` (highest priority first, then oldest) and are handed to their objects — when an execution of the
 * key ends (its object's final flush) and, for whatever that missed, by the cron every minute.
 */
import { and, asc, eq, min, sql } from "drizzle-orm";
import { settings } from "../config";
import { type Database, openPlatformDatabase } from "../db/client";
import { addEngineCounts } from "../db/engine-counters";
import { executions, workflowVersions } from "../db/schema";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import type { Definition } from "../steps/definition";
import { lockKey, occupancy, QUEUE_ORDER } from "./concurrency";
import { handOffPending } from "./execution-handoff";

/** Keys with queued executions one cron minute looks at. */
const SWEEP_KEYS = 500;

/**
 * Admits the key's first queued executions (by priority, then arrival) while it has free slots (the
 * limit is the one the first queued execution's version sets), then hands each to its object. A hand-off that fails
 * leaves the row `pending` with a near `next_check_at`: the watchdog starts it.
 */
export async function admitQueued(db: Database, env: Bindings, workflowId: string, key: string): Promise<string[]> {
  const admitted = await db.transaction(async (tx) => {
    await lockKey(tx, workflowId, key);
    const [head] = await tx
      .select({ definition: workflowVersions.definition })
      .from(executions)
      .innerJoin(workflowVersions, eq(workflowVersions.id, executions.workflowVersionId))
      .where(
        and(
          eq(executions.workflowId, workflowId),
          eq(executions.concurrencyKey, key),
          eq(executions.status, "queued"),
          eq(executions.queueReason, "concurrency"),
        ),
      )
      .orderBy(...QUEUE_ORDER)
      .limit(1);
    if (!head) return [];
    const limit = (head.definition as Definition).concurrency?.limit ?? Number.POSITIVE_INFINITY;
    const { active } = await occupancy(tx, workflowId, key);
    const free = Math.min(limit - active, 1_000);
    if (free <= 0) return [];
    const rows = await tx.execute<{ id: string }>(sql`
      update executions set status = 'pending', queue_reason = null, next_check_at = now() + interval '30 seconds'
      -- Checked again here: a cancel or expiry that committed while this waited for the row wins.
      where status = 'queued' and queue_reason = 'concurrency' and id in (
        select id from executions
        where workflow_id = ${workflowId} and concurrency_key = ${key} and status = 'queued' and queue_reason = 'concurrency'
        order by ${sql.join(QUEUE_ORDER, sql`, `)} limit ${free})
      returning id`);
    return rows.rows.map((row) => row.id);
  });
  for (const id of admitted) await handOffPending(db, env, id);
  if (admitted.length) logEvent("info", "executions_admitted", { workflowId, admitted: admitted.length });
  return admitted;
}

/**
 * Every minute: each key with queued executions gets an admission pass, the keys whose oldest
 * waiter has waited longest first. An execution admitted here is one a release missed (a crash
 * between an execution's end and its release): a repair, counted as such.
 */
export async function admitAllQueued(db: Database, env: Bindings): Promise<number> {
  // A queued row without a reason was written by code older than the start gates (a deploy's
  // overlap): it waits for a concurrency slot, the one gate that code knew. (Queued rows are the
  // ones checked at 'infinity', which the next-check index finds.)
  await db.execute(sql`
    update executions set queue_reason = 'concurrency'
    where next_check_at = 'infinity' and status = 'queued' and queue_reason is null`);
  const keys = await db
    .select({ workflowId: executions.workflowId, key: executions.concurrencyKey })
    .from(executions)
    .where(and(eq(executions.status, "queued"), eq(executions.queueReason, "concurrency")))
    .groupBy(executions.workflowId, executions.concurrencyKey)
    .orderBy(asc(min(executions.createdAt)))
    .limit(SWEEP_KEYS);
  let admitted = 0;
  for (const { workflowId, key } of keys) {
    try {
      admitted += (await admitQueued(db, env, workflowId, key ?? "")).length;
    } catch (error) {
      logEvent("warn", "admission_failed", { workflowId, ...describeError(error) });
    }
  }
  await addEngineCounts(db, "invariant_repaired", { queued_admission: admitted });
  return admitted;
}

/**
 * An execution of a limited workflow ended and Postgres has its final row: its key's next queued
 * executions may start. Run by the execution's object after its final flush; what fails here the
 * cron's sweep repeats.
 */
export async function releaseSlot(env: Bindings, executionId: string): Promise<void> {
  const session = openPlatformDatabase(settings(env), { max: 1 });
  try {
    const [row] = await session.db
      .select({ workflowId: executions.workflowId, key: executions.concurrencyKey })
      .from(executions)
      .where(eq(executions.id, executionId));
    if (row?.key !== null && row?.key !== undefined) await admitQueued(session.db, env, row.workflowId, row.key);
  } catch (error) {
    logEvent("warn", "admission_failed", { executionId, ...describeError(error) });
  } finally {
    await session.close();
  }
}
