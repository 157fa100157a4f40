/**
 * Steering an execution: cancel, pause, resume, retry, rerun, approval decisions and events. The
 * change happens in the execution's Durable Object, which writes the audit row with the transition
 * through its outbox (docs/api.md).
 */
import { and, eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import type { Permission } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Database } from "../db/client";
import { executions } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import type { ControlAction, ControlResult, Refusal, ValidationRefusal } from "../durable-objects/execution/rpc";
import { executionStub } from "../durable-objects/execution/stub";
import { exhaustive, isTerminalExecution, type StepError } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../errors";
import type { Definition } from "../steps/definition";
import { actionableExecution, type ExecutionWithOwner } from "./execution-access";
import { handOff, startRequestFromRow } from "./execution-handoff";
import { restoreRequestFromRows } from "./execution-restore";
import { admitRun } from "./rerun-admission";

const PERMISSION: Record<ControlAction, Permission> = {
  cancel: "executions:cancel",
  pause: "executions:cancel",
  resume: "executions:cancel",
  retry: "executions:retry",
};

export async function controlExecution(
  db: Database,
  env: Bindings,
  user: AuthenticatedUser,
  audit: AuditContext,
  id: string,
  action: ControlAction,
  options: { compensate?: boolean } = {},
) {
  const found = await actionableExecution(db, user, id, PERMISSION[action]);
  if (action === "cancel" && found.row.status === "queued" && (await cancelQueued(db, audit, id))) {
    await tellParentOfQueued(env, found.row);
    return { id, status: "cancelled" as const };
  }
  const control = () =>
    withStartedObject<ControlResult>(db, env, found, (stub) =>
      stub.control({ action, actingUserId: user.id, audit, ...(options.compensate ? { compensate: true } : {}) }),
    );
  // A retry starts a run: it is admitted like a start (quota, concurrency) and acts for its requester.
  const result =
    action === "retry"
      ? await admitRun(
          db,
          env,
          user,
          found,
          { definition: found.definition as Definition, input: found.row.input },
          control,
        )
      : await control();
  return { id, status: unwrap(result).status };
}

/**
 * A queued execution never started its object: cancelling it is one row in Postgres, with its
 * audit row. False when admission took it first (then its object cancels it).
 */
async function cancelQueued(db: Database, audit: AuditContext, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [cancelled] = await tx
      .update(executions)
      .set({ status: "cancelled", completedAt: sql`now()` })
      .where(and(eq(executions.id, id), eq(executions.status, "queued")))
      .returning({ id: executions.id });
    if (!cancelled) return false;
    await recordAudit(tx, audit, {
      action: "execution.cancel",
      resourceType: "execution",
      resourceId: id,
      before: { status: "queued" },
    });
    return true;
  });
}

/**
 * A queued child ended before its object started (cancelled, or expired in its queue): its
 * parent's step, waiting for it, hears it now (and, should this call be lost, from its own poll
 * of the child, which reads the row).
 */
export async function tellParentOfQueued(
  env: Bindings,
  child: { id: string; parentExecutionId: string | null; parentStepId: string | null },
  error: StepError = CANCELLED_BEFORE_START,
): Promise<void> {
  if (!child.parentExecutionId || !child.parentStepId) return;
  await executionStub(env, child.parentExecutionId)
    .childFinished(child.parentStepId, { executionId: child.id, status: "cancelled", output: null, error })
    .catch(() => false);
}

const CANCELLED_BEFORE_START: StepError = {
  reason: "cancelled",
  message: "the child execution was cancelled before it started",
};

export async function decideStep(
  db: Database,
  env: Bindings,
  user: AuthenticatedUser,
  audit: AuditContext,
  id: string,
  stepId: string,
  decision: { approved: boolean; comment: string | null; raiseBudgetUsd?: number | null },
  /** Awaited before the decision reaches the object: the caller confirmed live (the read goes beside that check). */
  confirmCaller: () => Promise<void> = async () => {},
) {
  const found = await actionableExecution(db, user, id, "executions:approve");
  await confirmCaller();
  const actor = { id: user.id, email: user.email, roles: user.roles };
  const result = await withStartedObject<ControlResult>(db, env, found, (stub) =>
    stub.decide({ stepId, ...decision, raiseBudgetUsd: decision.raiseBudgetUsd ?? null, actor, audit }),
  );
  return { id, stepId, status: unwrap(result).status };
}

type Stub = ReturnType<typeof executionStub>;
type Answer = { ok: true } | Refusal | ValidationRefusal;

/**
 * Runs a call on the execution's object, first handing off an execution still waiting for it, or
 * bringing back one whose object was retired after it ended.
 */
export async function withStartedObject<T extends Answer>(
  db: Database,
  env: Bindings,
  found: ExecutionWithOwner,
  call: (stub: Stub) => Promise<unknown>,
): Promise<T> {
  // Its object has not started, and starting it would jump the queue.
  if (found.row.status === "queued")
    throw new ConflictError(
      "The execution is queued behind its workflow's concurrency limit; it can only be cancelled until it starts",
      "EXECUTION_QUEUED",
    );
  const stub = executionStub(env, found.row.id);
  let result = (await call(stub)) as T;
  if (!result.ok && result.code === "NOT_STARTED") {
    if (isTerminalExecution(found.row.status)) await stub.restore(await restoreRequestFromRows(db, found));
    else await handOff(env, await startRequestFromRow(db, found));
    result = (await call(stub)) as T;
  }
  return result;
}

/** The object's answer, or the API error its refusal means. */
export function unwrap<T extends Answer>(result: T): Extract<T, { ok: true }> {
  if (result.ok) return result as Extract<T, { ok: true }>;
  const refusal = result as Refusal | ValidationRefusal;
  switch (refusal.code) {
    case "NOT_FOUND":
      throw new NotFoundError(refusal.message.replace(/ not found$/, ""));
    case "FORBIDDEN":
      throw new ForbiddenError(refusal.message);
    case "VALIDATION":
      throw new ValidationError(refusal.details, refusal.message);
    case "NOT_STARTED":
    case "CONFLICT":
      throw new ConflictError(refusal.message, "INVALID_STATE");
    default:
      return exhaustive(refusal);
  }
}
