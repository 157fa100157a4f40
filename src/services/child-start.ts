/**
 * Starting a step's child execution (docs/workflows.md): the child is its workflow owner's run, and
 * starts only if the parent's acting user may start it. The steps consumer and the object's inline
 * attempts hand this to a step through its RunContext.
 */
import { SYSTEM_ACTOR } from "../audit/record";
import { settings } from "../config";
import { openPlatformDatabase } from "../db/client";
import { isPermanent } from "../db/errors";
import type { Bindings } from "../env";
import { AppError } from "../errors";
import { AttemptHandedBack, type ChildStart } from "../steps/kind";
import { startExecution } from "./execution-start";
import { principalById } from "./users";

/** The child's id, or why it was refused; throws AttemptHandedBack while Postgres is out of reach. */
export async function startChildExecution(
  env: Bindings,
  request: ChildStart,
): Promise<{ executionId: string } | { refused: string }> {
  const session = openPlatformDatabase(settings(env), { max: 1 });
  try {
    const actingUser = await principalById(session.db, request.actingUserId);
    if (!actingUser) return { refused: "forbidden: the user this execution runs for may not start workflows" };
    const child = await startExecution(session.db, env, {
      executionId: request.executionId,
      authorizeAs: actingUser,
      workflowId: request.workflowId,
      version: request.version,
      input: request.input,
      triggerType: "tool",
      user: null,
      audit: { ...SYSTEM_ACTOR, actorEmail: request.startedBy },
      parent: request.parent,
    });
    return { executionId: child.id };
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      const details = (error.details ?? []).map((detail) => `${detail.path}: ${detail.message}`);
      const forbidden = error.status === 403 || error.status === 404;
      return { refused: [forbidden ? `forbidden: ${error.message}` : error.message, ...details].join("; ") };
    }
    // Postgres out of reach: the attempt goes back to the object, to start the child once it answers.
    if (!(error instanceof AppError) && !isPermanent(error))
      throw new AttemptHandedBack(`the child execution could not be started: ${(error as Error).message}`);
    throw error;
  } finally {
    await session.close();
  }
}
