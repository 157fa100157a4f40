/**
 * A child execution as Postgres holds it, for a parent that asked the child's object and got no
 * answer: a child cancelled while queued never started its object, and only its row says it ended.
 */
import { eq } from "drizzle-orm";
import { settings } from "../../config";
import { openPlatformDatabase } from "../../db/client";
import { executions } from "../../db/schema";
import { isTerminalExecution } from "../../engine/vocabulary";
import type { Bindings } from "../../env";
import type { ChildResult } from "./types";

export async function endedChildRow(env: Bindings, executionId: string): Promise<ChildResult | null> {
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
