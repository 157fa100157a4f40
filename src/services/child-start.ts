/**
 * Starting a step's child execution (docs/workflows.md): the child is its workflow owner's run, and
 * starts only if the parent's acting user may start it. The steps consumer and the object's inline
 * attempts hand this to a step through its RunContext.
 */
import { sql } from "drizzle-orm";
import { SYSTEM_ACTOR } from "../audit/record";
import { settings } from "../config";
import { openPlatformDatabase, type Queryable } from "../db/client";
import { isPermanent } from "../db/errors";
import type { Bindings } from "../env";
import { AppError } from "../errors";
import { AttemptHandedBack, type ChildStart, type ChildStarted } from "../steps/kind";
import { startExecution } from "./execution-start";
import { principalById } from "./users";
import { workflowIdOf } from "./workflow-references";

/** How deep executions may nest: a parent, its child, …, five levels in all. */
export const MAX_DEPTH = 5;

/** The child's id, or why it was refused; throws AttemptHandedBack while Postgres is out of reach. */
export async function startChildExecution(env: Bindings, request: ChildStart): Promise<ChildStarted> {
  const session = openPlatformDatabase(settings(env), { max: 1 });
  try {
    const actingUser = await principalById(session.db, request.actingUserId);
    if (!actingUser)
      return { refused: "forbidden: the user this execution runs for may not start workflows", reason: "forbidden" };
    const workflowId = await workflowIdOf(session.db, request.workflowId, actingUser.id);
    if (!workflowId) return { refused: `forbidden: no workflow "${request.workflowId}"`, reason: "forbidden" };
    if ((await depthOf(session.db, request.parent.executionId)) >= MAX_DEPTH)
      return {
        refused: `executions nest at most ${MAX_DEPTH} levels deep; the child would be level ${MAX_DEPTH + 1}`,
        reason: "depth_exceeded",
      };
    const child = await startExecution(session.db, env, {
      executionId: request.executionId,
      authorizeAs: actingUser,
      workflowId,
      version: request.version,
      input: request.input,
      triggerType: request.triggerType,
      user: null,
      audit: { ...SYSTEM_ACTOR, actorEmail: request.startedBy },
      parent: request.parent,
    });
    return { executionId: child.id };
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      const details = (error.details ?? []).map((detail) => `${detail.path}: ${detail.message}`);
      const forbidden = error.status === 403 || error.status === 404;
      return {
        refused: [forbidden ? `forbidden: ${error.message}` : error.message, ...details].join("; "),
        reason: forbidden ? "forbidden" : "invalid",
      };
    }
    // Postgres out of reach: the attempt goes back to the object, to start the child once it answers.
    if (!(error instanceof AppError) && !isPermanent(error))
      throw new AttemptHandedBack(`the child execution could not be started: ${(error as Error).message}`);
    throw error;
  } finally {
    await session.close();
  }
}

/** How many levels deep an execution is: 1 for one without a parent. */
async function depthOf(db: Queryable, executionId: string): Promise<number> {
  const result = await db.execute<{ depth: number }>(sql`
    with recursive chain (id, parent, depth) as (
      select id, parent_execution_id, 1 from executions where id = ${executionId}
      union all
      select e.id, e.parent_execution_id, c.depth + 1 from executions e join chain c on e.id = c.parent
      where c.depth <= ${MAX_DEPTH})
    select max(depth)::int as depth from chain`);
  return Number(result.rows[0]?.depth ?? 1);
}
