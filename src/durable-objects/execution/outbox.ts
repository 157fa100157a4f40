/**
 * The rows an execution's outbox writes to Postgres. The event log is the outbox: each batch is
 * the events after the last flushed one, the steps they changed and their audit rows. Every
 * write is idempotent (upserts guarded by the event sequence, logs keyed by it, audits by a
 * dedupe key), so a batch retried after a crash or an outage writes each row exactly once.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { recordAudit } from "../../audit/record";
import type { Queryable } from "../../db/client";
import { addEngineCounts } from "../../db/engine-counters";
import { executionLogs, executionSteps, executions } from "../../db/schema";
import { parseSubStepId } from "../../steps/inner";
import { recordNotices } from "./notices";
import { compensationView } from "./step-data";
import type { ExecutionEvent, ExecutionRecord, PendingAudit, StepState } from "./types";

/** One event's rows, or a whole batch's. */
export interface OutboxBatch {
  record: ExecutionRecord;
  events: ExecutionEvent[];
  steps: StepState[];
  audits: Array<{ seq: number; audit: PendingAudit }>;
  upTo: number;
  /** When the watchdog should look at this execution next if it hears nothing. */
  nextCheckAt: Date;
  removedSteps: string[];
}

export async function writeExecutionRow(tx: Queryable, batch: OutboxBatch): Promise<void> {
  const { record, upTo } = batch;
  const row = {
    id: record.id,
    workflowId: record.workflowId,
    workflowVersionId: record.workflowVersionId,
    status: record.status,
    triggerType: record.triggerType,
    triggeredBy: record.triggeredBy,
    actingUserId: record.actingUserId ?? null,
    parentExecutionId: record.parent?.executionId ?? null,
    parentStepId: record.parent?.stepId ?? null,
    input: record.input ?? {},
    output: record.output,
    error: record.error,
    compensation: compensationView(record.compensation),
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    costUsd: record.costUsd ?? null,
    costBudgetUsd: record.costBudgetUsd ?? null,
    run: record.run,
    lastSeq: upTo,
    nextCheckAt: batch.nextCheckAt,
    startedAt: date(record.startedAt),
    completedAt: date(record.completedAt),
  };
  const {
    id: _id,
    triggerType: _t,
    triggeredBy: _b,
    parentExecutionId: _p,
    parentStepId: _s,
    workflowId: _w,
    ...changes
  } = row;
  await tx
    .insert(executions)
    .values(row)
    .onConflictDoUpdate({ target: executions.id, set: changes, setWhere: sql`${executions.lastSeq} < ${upTo}` });
}

export async function writeStepRows(tx: Queryable, executionId: string, steps: StepState[]): Promise<void> {
  if (steps.length === 0) return;
  await tx
    .insert(executionSteps)
    .values(steps.map((step) => stepRow(executionId, step)))
    .onConflictDoUpdate({
      target: [executionSteps.executionId, executionSteps.stepId],
      set: Object.fromEntries(
        STEP_COLUMNS.map((column) => [column, sql.raw(`excluded.${executionSteps[column].name}`)]),
      ),
    });
}

export async function removeStepRows(tx: Queryable, executionId: string, stepIds: string[]): Promise<void> {
  if (stepIds.length === 0) return;
  await tx
    .delete(executionSteps)
    .where(and(eq(executionSteps.executionId, executionId), inArray(executionSteps.stepId, stepIds)));
}

export async function writeLogRows(tx: Queryable, executionId: string, events: ExecutionEvent[]): Promise<void> {
  if (events.length === 0) return;
  const inserted = await tx
    .insert(executionLogs)
    .values(
      events.map((event) => ({
        executionId,
        seq: event.seq,
        level: event.level,
        event: event.event,
        stepId: event.stepId,
        message: event.message,
        data: event.data,
        createdAt: new Date(event.at),
      })),
    )
    .onConflictDoNothing()
    .returning({ data: executionLogs.data });
  // A timer that failed is counted once, with the log line that says so (a batch written again adds nothing).
  const failed: Record<string, number> = {};
  for (const { data } of inserted) {
    const timer = timerFailureOf(data);
    if (timer) failed[timer] = (failed[timer] ?? 0) + 1;
  }
  await addEngineCounts(tx, "timer_failed", failed);
}

function timerFailureOf(data: unknown): string | null {
  const logged = data as { reason?: unknown; timer?: unknown } | null;
  return logged?.reason === "timer_failed" && typeof logged.timer === "string" ? logged.timer : null;
}

export async function writeAuditRows(tx: Queryable, executionId: string, audits: OutboxBatch["audits"]): Promise<void> {
  for (const { seq, audit } of audits) {
    await recordAudit(tx, audit.context, { ...audit.entry, dedupeKey: `execution:${executionId}:${seq}` });
  }
}

/** The whole batch in one transaction, in order. */
/** Answers how many notification deliveries the batch's events recorded (notices.ts). */
export async function writeBatch(tx: Queryable, batch: OutboxBatch): Promise<number> {
  await writeExecutionRow(tx, batch);
  await removeStepRows(tx, batch.record.id, batch.removedSteps);
  await writeStepRows(tx, batch.record.id, batch.steps);
  await writeLogRows(tx, batch.record.id, batch.events);
  await writeAuditRows(tx, batch.record.id, batch.audits);
  return recordNotices(tx, batch.record, batch.events);
}

const STEP_COLUMNS = [
  "status",
  "progress",
  "stepType",
  "attempt",
  "run",
  "idempotencyKey",
  "input",
  "output",
  "error",
  "waiting",
  "promptTokens",
  "completionTokens",
  "costUsd",
  "retries",
  "deadLetters",
  "startedAt",
  "completedAt",
] as const;

function stepRow(executionId: string, step: StepState) {
  return {
    executionId,
    stepId: step.stepId,
    stepType: step.type,
    ...containerColumns(step),
    status: step.status,
    attempt: step.attempt,
    run: step.run,
    idempotencyKey: step.idempotencyKey,
    input: step.input,
    output: step.output,
    error: step.error ?? (step.skipReason ? { reason: step.skipReason, message: `skipped: ${step.skipReason}` } : null),
    waiting: step.waiting,
    promptTokens: step.promptTokens,
    completionTokens: step.completionTokens,
    costUsd: step.costUsd ?? null,
    retries: step.retries,
    deadLetters: step.deadLetters,
    startedAt: date(step.startedAt),
    completedAt: date(step.completedAt),
  };
}

function containerColumns(step: StepState) {
  const place = parseSubStepId(step.stepId);
  const progress = step.progress ? { ...step.progress, stopping: undefined } : null;
  return {
    containerStepId: place?.containerId ?? null,
    itemIndex: typeof place?.n === "number" ? place.n : null,
    progress,
  };
}

function date(iso: string | null): Date | null {
  return iso ? new Date(iso) : null;
}
