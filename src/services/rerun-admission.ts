/**
 * A rerun or retry starts a run like a start does (docs/security.md): it counts against the requester's
 * active-executions quota and passes the workflow's concurrency admission. It never queues (the
 * execution's object already holds it): when its key is full it is refused with 409
 * CONCURRENCY_LIMIT_REACHED. The checks and the run's first row change happen under the same
 * locks a start takes, so neither a start nor another rerun can take the slot in between.
 */
import { and, eq } from "drizzle-orm";
import type { AuthenticatedUser } from "../auth/principal";
import { settings } from "../config";
import type { Database } from "../db/client";
import { executions } from "../db/schema";
import type { Bindings } from "../env";
import { ConflictError } from "../errors";
import type { Definition } from "../steps/definition";
import { concurrencyKeyOf, lockKey, occupancy } from "./concurrency";
import type { ExecutionWithOwner } from "./execution-access";
import { assertQuota } from "./quotas";

type Answer = { ok: true; status: string } | { ok: false };

export async function admitRun<T extends Answer>(
  db: Database,
  env: Bindings,
  caller: AuthenticatedUser,
  found: ExecutionWithOwner,
  run: { definition: Definition; input: unknown },
  call: () => Promise<T>,
): Promise<T> {
  const key = concurrencyKeyOf(run.definition, { input: run.input });
  return db.transaction(async (tx) => {
    await assertQuota(tx, settings(env), "activeExecutions", caller);
    const limit = run.definition.concurrency?.limit;
    if (key !== null && limit !== undefined) {
      await lockKey(tx, found.row.workflowId, key);
      const { active, queued } = await occupancy(tx, found.row.workflowId, key);
      if (queued > 0 || active >= limit)
        throw new ConflictError(
          `The workflow's concurrency limit (${limit}) is full for this key; retry once one of its executions ends`,
          "CONCURRENCY_LIMIT_REACHED",
        );
    }
    const answer = await call();
    if (answer.ok) {
      // Counted at once by the next start or rerun; the object's own flush follows with the rest
      // (and, if it already came, this row is newer than what was read: it is left alone).
      await tx
        .update(executions)
        .set({
          status: answer.status as typeof executions.$inferSelect.status,
          actingUserId: caller.id,
          concurrencyKey: key,
        })
        .where(and(eq(executions.id, found.row.id), eq(executions.lastSeq, found.row.lastSeq)));
    }
    return answer;
  });
}
