/**
 * Handing an execution to its Durable Object: from the start request, or rebuilt from its row
 * (the watchdog, admission, controls, replays). A hand-off that fails leaves the row `pending`
 * for the watchdog.
 */
import type { Queryable } from "../db/client";
import type { StartRequest } from "../durable-objects/execution/rpc";
import { executionStub } from "../durable-objects/execution/stub";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import type { Definition } from "../steps/definition";
import { type ExecutionWithOwner, findExecution } from "./execution-access";
import { executionNeeds } from "./execution-needs";

/** Starts the Durable Object; a failure leaves the row pending for the watchdog. */
export async function handOff(env: Bindings, request: StartRequest): Promise<"pending" | "running"> {
  try {
    await executionStub(env, request.executionId).start(request);
    return "running";
  } catch (error) {
    logEvent("error", "execution_handoff_failed", { executionId: request.executionId, ...describeError(error) });
    return "pending";
  }
}

/**
 * Hands off an execution as its row stands, if the row is still `pending` (admitted, or never
 * handed off); a row cancelled or started meanwhile is left alone. Null when it was not handed off.
 */
export async function handOffPending(db: Queryable, env: Bindings, id: string): Promise<"pending" | "running" | null> {
  const found = await findExecution(db, id);
  if (found?.row.status !== "pending") return null;
  return handOff(env, await startRequestFromRow(db, found));
}

/** Rebuilds the hand-off of an execution whose Durable Object never started (watchdog, controls, replays). */
export async function startRequestFromRow(db: Queryable, found: ExecutionWithOwner): Promise<StartRequest> {
  const definition = found.definition as Definition;
  return {
    executionId: found.row.id,
    workflowId: found.row.workflowId,
    workflowVersionId: found.row.workflowVersionId,
    versionNumber: found.versionNumber,
    definition,
    input: found.row.input,
    triggerType: found.row.triggerType,
    triggeredBy: found.row.triggeredBy,
    workflowOwnerId: found.workflowOwnerId,
    parent: found.row.parentExecutionId
      ? { executionId: found.row.parentExecutionId, stepId: found.row.parentStepId ?? "", attempt: 0 }
      : null,
    trace: found.row.trace,
    createdAt: found.row.createdAt.toISOString(),
    ...(await executionNeeds(db, definition)),
  };
}
