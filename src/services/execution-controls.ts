/**
 * Steering an execution: cancel, pause, resume, retry and approval decisions. The change happens
 * in the execution's Durable Object, which writes the audit row with the transition through its
 * outbox (SPEC §2).
 */

import type { AuditContext } from "../audit/record";
import type { Permission } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Database } from "../db/client";
import { type ControlRequest, type ControlResult, EXECUTION_NOT_STARTED } from "../durable-objects/execution/types";
import { executionStub } from "../durable-objects/execution-stub";
import type { Bindings } from "../env";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors";
import { actionableExecution, type ExecutionWithOwner } from "./execution-access";
import { handOff, startRequestFromRow } from "./execution-start";

const PERMISSION: Record<ControlRequest["action"], Permission> = {
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
  action: ControlRequest["action"],
) {
  const found = await actionableExecution(db, user, id, PERMISSION[action]);
  const result = await withStartedObject(env, found, (stub) => stub.control({ action, audit }));
  return { id, status: unwrap(result) };
}

export async function decideStep(
  db: Database,
  env: Bindings,
  user: AuthenticatedUser,
  audit: AuditContext,
  id: string,
  stepId: string,
  decision: { approved: boolean; comment: string | null },
) {
  const found = await actionableExecution(db, user, id, "executions:approve");
  const actor = { id: user.id, email: user.email, roles: user.roles };
  const result = await withStartedObject(env, found, (stub) => stub.decide({ stepId, ...decision, actor, audit }));
  return { id, stepId, status: unwrap(result) };
}

type Stub = ReturnType<typeof executionStub>;

/** Runs a call on the execution's object, first handing off an execution still waiting for it. */
async function withStartedObject(env: Bindings, found: ExecutionWithOwner, call: (stub: Stub) => Promise<unknown>) {
  const stub = executionStub(env, found.row.id);
  let result = (await call(stub)) as ControlResult;
  if (!result.ok && result.code === "NOT_FOUND" && result.message === EXECUTION_NOT_STARTED) {
    await handOff(env, startRequestFromRow(found));
    result = (await call(stub)) as ControlResult;
  }
  return result;
}

function unwrap(result: ControlResult) {
  if (result.ok) return result.status;
  if (result.code === "NOT_FOUND") throw new NotFoundError(result.message.replace(/ not found$/, ""));
  if (result.code === "FORBIDDEN") throw new ForbiddenError(result.message);
  throw new ConflictError(result.message, "INVALID_STATE");
}
