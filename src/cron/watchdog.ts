/**
 * The stuck-execution watchdog (every minute). Executions whose rows have not moved for a while
 * are poked: an execution whose Durable Object never started is handed off from its row, and
 * each object re-drives step messages that were lost and re-flushes its outbox.
 */
import { and, asc, inArray, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { executions } from "../db/schema";
import { executionStub } from "../durable-objects/execution-stub";
import type { Bindings } from "../env";
import { logEvent } from "../observability/log";
import { findExecution } from "../services/execution-access";
import { handOff, startRequestFromRow } from "../services/execution-start";

/** Rows this quiet are worth a look; the object itself decides whether anything is wrong. */
export const QUIET_AFTER_SECONDS = 120;
const BATCH = 100;

export async function runWatchdog(
  db: Database,
  env: Bindings,
): Promise<{ checked: number; handedOff: number; redriven: number }> {
  const quiet = await db
    .select({ id: executions.id, status: executions.status })
    .from(executions)
    .where(
      and(
        inArray(executions.status, ["pending", "running"]),
        lt(executions.updatedAt, sql`now() - make_interval(secs => ${QUIET_AFTER_SECONDS})`),
      ),
    )
    .orderBy(asc(executions.updatedAt))
    .limit(BATCH);
  let handedOff = 0;
  let redriven = 0;
  for (const { id } of quiet) {
    const state = await executionStub(env, id).watchdog();
    if (!state.started) {
      const found = await findExecution(db, id);
      if (found && (await handOff(env, startRequestFromRow(found))) === "running") handedOff++;
    }
    redriven += state.redriven;
  }
  if (quiet.length > 0) logEvent("info", "watchdog", { checked: quiet.length, handedOff, redriven });
  return { checked: quiet.length, handedOff, redriven };
}
