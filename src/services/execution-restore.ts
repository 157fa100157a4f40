/**
 * Bringing back a retired execution's object from Postgres (docs/engine.md: the object's storage is freed
 * once the execution has ended and every row is flushed). Postgres rows carry every step's state;
 * an output or input kept in R2 is recognised by the key the platform gives it, never by its shape.
 */
import { eq, max } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { executionLogs, executionSteps } from "../db/schema";
import type { RestoreRequest } from "../durable-objects/execution/rpc";
import { freshStep } from "../durable-objects/execution/step-data";
import type { ContainerProgress, ExecutionRecord, StepState } from "../durable-objects/execution/types";
import type { StepError } from "../engine/vocabulary";
import { SKIP_REASONS, type SkipReason } from "../engine/vocabulary";
import type { Definition, StepType } from "../steps/definition";
import { inputKey, type OffloadRef, outputKey } from "../steps/large-values";
import type { ExecutionWithOwner } from "./execution-access";
import { executionNeeds } from "./execution-needs";

export async function restoreRequestFromRows(db: Queryable, found: ExecutionWithOwner): Promise<RestoreRequest> {
  const { row } = found;
  const definition = found.definition as Definition;
  const rows = await db.select().from(executionSteps).where(eq(executionSteps.executionId, row.id));
  const record: ExecutionRecord = {
    id: row.id,
    workflowId: row.workflowId,
    workflowVersionId: row.workflowVersionId,
    versionNumber: found.versionNumber,
    definition,
    input: row.input,
    status: row.status,
    triggerType: row.triggerType,
    triggeredBy: row.triggeredBy,
    actingUserId: row.actingUserId,
    workflowOwnerId: found.workflowOwnerId,
    parent: row.parentExecutionId
      ? { executionId: row.parentExecutionId, stepId: row.parentStepId ?? "", attempt: 0 }
      : null,
    run: row.run,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    completedAt: row.completedAt?.toISOString() ?? null,
    output: row.output,
    error: row.error as ExecutionRecord["error"],
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    costUsd: row.costUsd,
    costBudgetUsd: row.costBudgetUsd,
    trace: row.trace,
    compensation: row.compensation
      ? {
          endAs: row.status === "cancelled" ? "cancelled" : "failed",
          error: row.error as ExecutionRecord["error"],
          pending: row.compensation.notRun,
          completed: row.compensation.completed,
          failed: row.compensation.failed,
        }
      : null,
  };
  const steps: StepState[] = rows.map((step) => {
    const skipped = step.status === "skipped";
    const reason = (step.error as { reason?: string } | null)?.reason;
    return {
      ...freshStep({ id: step.stepId, type: step.stepType as StepType }, step.run),
      status: step.status,
      attempt: step.attempt,
      idempotencyKey: step.idempotencyKey,
      input: step.input,
      output: step.output,
      inputRef: ownRef(step.input, inputKey(row.id, step.stepId, step.attempt)),
      outputRef: ownRef(step.output, outputKey(row.id, step.stepId, step.attempt)),
      error: skipped ? null : (step.error as StepError | null),
      skipReason: skipped && SKIP_REASONS.includes(reason as SkipReason) ? (reason as SkipReason) : null,
      startedAt: step.startedAt?.toISOString() ?? null,
      completedAt: step.completedAt?.toISOString() ?? null,
      retries: step.retries,
      deadLetters: step.deadLetters,
      promptTokens: step.promptTokens,
      completionTokens: step.completionTokens,
      costUsd: step.costUsd,
      progress: step.progress ? { ...(step.progress as ContainerProgress), stopping: false } : null,
    };
  });
  // New events are numbered after the last one Postgres holds, whatever the execution row says
  // (its last_seq lags a log row whose execution row was refused).
  const [logged] = await db
    .select({ seq: max(executionLogs.seq) })
    .from(executionLogs)
    .where(eq(executionLogs.executionId, row.id));
  const lastSeq = Math.max(row.lastSeq, Number(logged?.seq ?? 0));
  return { record, steps, lastSeq, ...(await executionNeeds(db, definition)) };
}

/** The value as a reference when it is one the platform wrote under `key`. */
function ownRef(value: unknown, key: string): OffloadRef | null {
  if (!value || typeof value !== "object") return null;
  const ref = value as Partial<OffloadRef>;
  return ref.$ref === key && typeof ref.sha256 === "string" && typeof ref.bytes === "number"
    ? (ref as OffloadRef)
    : null;
}
