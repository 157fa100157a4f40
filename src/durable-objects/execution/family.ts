/**
 * Parents and children (docs/engine.md): a child tells its parent's step that it ended, and a parent
 * whose step waits asks its children, in case a notification was lost.
 */
import { eq } from "drizzle-orm";
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
