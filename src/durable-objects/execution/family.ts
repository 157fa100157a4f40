/**
 * Parents and children (docs/engine.md): a child tells its parent's step that it ended, a parent
 * whose step waits asks its children, in case a notification was lost, and a parent that ended
 * cancels the children its steps were still waiting for.
 */
import { and, eq, sql } from "drizzle-orm";
import { recordAudit, SYSTEM_ACTOR } from "../../audit/record";
import { settings } from "../../config";
import { openPlatformDatabase } from "../../db/client";
import { executions } from "../../db/schema";
import { isTerminalExecution } from "../../engine/vocabulary";
import type { Bindings } from "../../env";
import { executionStub } from "./stub";
import type { ChildResult, ExecutionRecord } from "./types";

/** What a parent's step learns of this execution as its child. */
export function childResultOf(record: ExecutionRecord): ChildResult {
  return { executionId: record.id, status: record.status, output: record.output, error: record.error };
}

/** Tells the parent's step that `record`'s execution ended: true once it has listened. */
export async function tellParent(env: Bindings, record: ExecutionRecord): Promise<boolean> {
  if (!record.parent) return true;
  const parent = executionStub(env, record.parent.executionId);
  return parent.childFinished(record.parent.stepId, childResultOf(record));
}

/** A child's result once it has ended; null while it runs or cannot be reached. */
export async function askChild(env: Bindings, executionId: string): Promise<ChildResult | null> {
  // A child whose object never started (cancelled while queued) has ended in its row only.
  return (
    (await executionStub(env, executionId)
      .childStatus()
      .catch(() => null)) ?? (await endedChildRow(env, executionId).catch(() => null))
  );
}

/**
 * A child execution as Postgres holds it, for a parent that asked the child's object and got no
 * answer: a child cancelled while queued never started its object, and only its row says it ended.
 */
async function endedChildRow(env: Bindings, executionId: string): Promise<ChildResult | null> {
  const session = openPlatformDatabase(settings(env), { max: 1 });
  try {
    const [row] = await session.db
      .select({ status: executions.status, output: executions.output, error: executions.error })
      .from(executions)
      .where(eq(executions.id, executionId));
    if (!row || !isTerminalExecution(row.status)) return null;
    return { executionId, status: row.status, output: row.output, error: row.error };
  } finally {
    await session.close();
  }
}

/** Why a child ends when its parent no longer waits for it. */
const PARENT_ENDED = { message: "the parent execution ended", reason: "parent_ended" };

/**
 * Cancels a child its parent no longer waits for: through its object when it started, else (still
 * queued) in its row. True once it has ended either way.
 */
export async function cancelChild(env: Bindings, executionId: string, parentId: string): Promise<boolean> {
  const answer = await executionStub(env, executionId).control({
    action: "cancel",
    actingUserId: null,
    audit: { ...SYSTEM_ACTOR, actorEmail: `execution:${parentId}` },
    reason: PARENT_ENDED,
  });
  if (answer.ok || answer.code === "CONFLICT") return true;
  if (answer.code !== "NOT_STARTED") return false;
  const session = openPlatformDatabase(settings(env), { max: 1 });
  try {
    return await session.db.transaction(async (tx) => {
      const [row] = await tx
        .update(executions)
        .set({ status: "cancelled", completedAt: sql`now()`, error: PARENT_ENDED })
        .where(and(eq(executions.id, executionId), eq(executions.status, "queued")))
        .returning({ id: executions.id });
      if (row)
        await recordAudit(
          tx,
          { ...SYSTEM_ACTOR, actorEmail: `execution:${parentId}` },
          {
            action: "execution.cancel",
            resourceType: "execution",
            resourceId: executionId,
            before: { status: "queued" },
            after: { status: "cancelled", reason: PARENT_ENDED.reason },
          },
        );
      // Not queued and no object: it ended, or its start is being handed over (the next try sees it).
      const [current] = await tx
        .select({ status: executions.status })
        .from(executions)
        .where(eq(executions.id, executionId));
      return !current || isTerminalExecution(current.status);
    });
  } finally {
    await session.close();
  }
}
