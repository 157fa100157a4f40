/**
 * Starting executions (manual, webhook, schedule, agent tool). The start request inserts the
 * execution row and its idempotency record in one transaction, then hands the execution to its
 * Durable Object; if that hand-off fails, the watchdog starts it from the row.
 */
import { and, eq, gt, sql } from "drizzle-orm";
import { type AuditContext, recordAudit } from "../audit/record";
import type { AuthenticatedUser } from "../auth/principal";
import { sha256Hex } from "../crypto/encoding";
import type { Database, Queryable, Transaction } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { executions, idempotencyKeys, workflowVersions } from "../db/schema";
import type { ExecutionStatus, StartRequest, TriggerType } from "../durable-objects/execution/types";
import { executionStub } from "../durable-objects/execution-stub";
import type { Definition } from "../engine/definition";
import type { Bindings } from "../env";
import { ConflictError } from "../errors";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { authorize } from "./access";
import type { ExecutionWithOwner } from "./execution-access";
import { findVersion } from "./versions";
import { findWorkflow, ownershipOf, type WorkflowRow } from "./workflows";

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

export interface StartOptions {
  workflowId: string;
  input: Record<string, unknown>;
  version?: number;
  triggerType: TriggerType;
  /** The caller for manual starts; null for webhooks, schedules and tools (the workflow owner's runs). */
  user: AuthenticatedUser | null;
  audit: AuditContext;
  idempotencyKey?: string;
  parent?: StartRequest["parent"];
  /** Extra writes that must commit with the execution row (a webhook delivery, a schedule run). */
  beforeCommit?: (tx: Transaction, executionId: string) => Promise<void>;
}

export interface Started {
  id: string;
  status: ExecutionStatus;
  streamUrl: string;
  /** False when an idempotent replay returned an existing execution. */
  created: boolean;
}

export async function startExecution(db: Database, env: Bindings, options: StartOptions): Promise<Started> {
  const found = await findWorkflow(db, options.workflowId);
  if (options.user) authorize(options.user, found ? ownershipOf(found.row) : null, "Workflow", "executions:create");
  const workflow = found?.row;
  if (!workflow) throw new ConflictError("The workflow does not exist", "WORKFLOW_MISSING");
  assertStartable(workflow, options.triggerType);
  const version = options.version
    ? await findVersion(db, workflow.id, options.version)
    : await currentVersion(db, workflow);

  const requestHash = await sha256Hex(
    JSON.stringify({ workflowId: workflow.id, version: options.version ?? null, input: options.input }),
  );
  if (options.user && options.idempotencyKey) {
    const replay = await findReplay(db, options.user.id, options.idempotencyKey, requestHash);
    if (replay) return replay;
  }

  const id = crypto.randomUUID();
  const createdAt = new Date();
  try {
    await db.transaction(async (tx) => {
      await tx.insert(executions).values({
        id,
        workflowId: workflow.id,
        workflowVersionId: version.id,
        status: "pending",
        triggerType: options.triggerType,
        triggeredBy: options.user?.id ?? null,
        parentExecutionId: options.parent?.executionId ?? null,
        parentStepId: options.parent?.stepId ?? null,
        input: options.input,
        createdAt,
      });
      if (options.user && options.idempotencyKey) {
        // A stale record of the same key (older than 24 h) gives way to this one.
        await tx
          .delete(idempotencyKeys)
          .where(
            and(
              eq(idempotencyKeys.userId, options.user.id),
              eq(idempotencyKeys.key, options.idempotencyKey),
              sql`${idempotencyKeys.expiresAt} <= now()`,
            ),
          );
        await tx.insert(idempotencyKeys).values({
          userId: options.user.id,
          key: options.idempotencyKey,
          requestHash,
          executionId: id,
          expiresAt: new Date(createdAt.getTime() + IDEMPOTENCY_TTL_MS),
        });
      }
      await options.beforeCommit?.(tx, id);
      await recordAudit(tx, options.audit, {
        action: "execution.start",
        resourceType: "execution",
        resourceId: id,
        after: { workflowId: workflow.id, version: version.versionNumber, triggerType: options.triggerType },
      });
    });
  } catch (error) {
    // Two requests raced with one key: the loser answers with the winner's execution.
    if (options.user && options.idempotencyKey && isUniqueViolation(error, "idempotency_keys_pkey")) {
      const replay = await findReplay(db, options.user.id, options.idempotencyKey, requestHash);
      if (replay) return replay;
    }
    throw error;
  }

  const request: StartRequest = {
    executionId: id,
    workflowId: workflow.id,
    workflowVersionId: version.id,
    versionNumber: version.versionNumber,
    definition: version.definition as Definition,
    input: options.input,
    triggerType: options.triggerType,
    triggeredBy: options.user?.id ?? null,
    workflowOwnerId: workflow.ownerId,
    parent: options.parent ?? null,
    createdAt: createdAt.toISOString(),
  };
  const status = await handOff(env, request);
  return { id, status, streamUrl: streamUrlOf(id), created: true };
}

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

/** Rebuilds the hand-off of an execution whose Durable Object never started (watchdog, controls). */
export function startRequestFromRow(found: ExecutionWithOwner): StartRequest {
  return {
    executionId: found.row.id,
    workflowId: found.row.workflowId,
    workflowVersionId: found.row.workflowVersionId,
    versionNumber: found.versionNumber,
    definition: found.definition as Definition,
    input: found.row.input,
    triggerType: found.row.triggerType,
    triggeredBy: found.row.triggeredBy,
    workflowOwnerId: found.workflowOwnerId,
    parent: found.row.parentExecutionId
      ? { executionId: found.row.parentExecutionId, stepId: found.row.parentStepId ?? "", attempt: 0 }
      : null,
    createdAt: found.row.createdAt.toISOString(),
  };
}

export function streamUrlOf(id: string): string {
  return `/api/v1/executions/${id}/stream`;
}

function assertStartable(workflow: WorkflowRow, trigger: TriggerType): void {
  if (workflow.status === "archived") throw new ConflictError("The workflow is archived", "WORKFLOW_ARCHIVED");
  if ((trigger === "webhook" || trigger === "schedule") && workflow.status !== "active") {
    throw new ConflictError("Only active workflows run from webhooks and schedules", "WORKFLOW_NOT_ACTIVE");
  }
}

async function currentVersion(db: Queryable, workflow: WorkflowRow) {
  if (!workflow.currentVersionId) throw new ConflictError("The workflow has no version to run", "NO_VERSION");
  const [version] = await db.select().from(workflowVersions).where(eq(workflowVersions.id, workflow.currentVersionId));
  return version;
}

async function findReplay(db: Queryable, userId: string, key: string, requestHash: string): Promise<Started | null> {
  const [record] = await db
    .select({
      executionId: idempotencyKeys.executionId,
      requestHash: idempotencyKeys.requestHash,
      status: executions.status,
    })
    .from(idempotencyKeys)
    .innerJoin(executions, eq(executions.id, idempotencyKeys.executionId))
    .where(
      and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key), gt(idempotencyKeys.expiresAt, sql`now()`)),
    );
  if (!record) return null;
  if (record.requestHash !== requestHash) {
    throw new ConflictError("This Idempotency-Key was used with a different request", "IDEMPOTENCY_KEY_REUSED");
  }
  return { id: record.executionId, status: record.status, streamUrl: streamUrlOf(record.executionId), created: false };
}
