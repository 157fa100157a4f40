/**
 * Reruns (docs/engine.md): a step and everything downstream of it run again in the next run of the same
 * execution, on its version or another, with its input or a new one; `dryRun` answers the plan,
 * naming the steps with side effects that would fire again, and changes nothing.
 */

import type { AuthenticatedUser } from "../auth/principal";
import type { Database } from "../db/client";
import type { AuditContext } from "../db/schema/audit";
import type { RerunRequest, RerunResult } from "../durable-objects/execution/rpc";
import type { Bindings } from "../env";
import type { Definition } from "../steps/definition";
import { actionableExecution } from "./execution-access";
import { unwrap, withStartedObject } from "./execution-controls";
import { executionNeeds } from "./execution-needs";
import { assertInputFits } from "./execution-start";
import { admitRun } from "./rerun-admission";
import { findVersion } from "./versions";

export interface RerunInput {
  fromStep: string;
  version?: number;
  input?: Record<string, unknown>;
  dryRun?: boolean;
}

export async function rerunExecution(
  db: Database,
  env: Bindings,
  user: AuthenticatedUser,
  audit: AuditContext,
  executionId: string,
  body: RerunInput,
) {
  const found = await actionableExecution(db, user, executionId, "executions:retry");
  let version: RerunRequest["version"] = null;
  if (body.version !== undefined && body.version !== found.versionNumber) {
    const row = await findVersion(db, found.row.workflowId, body.version);
    version = { workflowVersionId: row.id, versionNumber: row.versionNumber, definition: row.definition as Definition };
  }
  const definition = version?.definition ?? (found.definition as Definition);
  if (body.input !== undefined) assertInputFits(definition, body.input);
  const dryRun = body.dryRun ?? false;
  const needs = dryRun ? { agents: {} } : await executionNeeds(db, definition);
  const rerun = () =>
    withStartedObject<RerunResult>(db, env, found, (stub) =>
      stub.rerun({
        fromStep: body.fromStep,
        version,
        input: body.input,
        dryRun,
        ...needs,
        actingUserId: user.id,
        audit,
      }),
    );
  // A rerun starts a run: it is admitted like a start (quota, concurrency) and acts for its requester.
  const result = dryRun
    ? await rerun()
    : await admitRun(db, env, user, found, { definition, input: body.input ?? found.row.input }, rerun);
  const { plan, status } = unwrap(result);
  return { id: executionId, status, dryRun, plan };
}
