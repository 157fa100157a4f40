/**
 * The outbox from an execution's Durable Object to Postgres. The event log is the outbox: each
 * flush takes the events after the last flushed one, the steps they changed and their audit rows,
 * and writes them in one transaction, in order. Every write is idempotent (upserts guarded by the
 * event sequence, logs keyed by it, audits by a dedupe key), so a flush retried after a crash or a
 * Postgres outage writes each row exactly once.
 */
import { sql } from "drizzle-orm";
import { recordAudit } from "../../audit/record";
import type { Database } from "../../db/client";
import { executionLogs, executionSteps, executions } from "../../db/schema";
import type { ExecutionStore } from "./store";
import type { StepState } from "./types";

/** Events per transaction; a long backlog drains over several. */
const BATCH = 500;

/** Writes one batch; returns how many events it delivered (0 when nothing was pending). */
export async function flushOnce(store: ExecutionStore, db: Database): Promise<number> {
  const from = store.flushedSeq();
  const events = store.eventsAfter(from, BATCH);
  const record = store.execution();
  if (!record || events.length === 0) return 0;
  const upTo = events[events.length - 1].seq;
  const steps = store.stepsChangedAfter(from);
  const audits = store.auditsUpTo(upTo);

  await db.transaction(async (tx) => {
    const row = {
      id: record.id,
      workflowId: record.workflowId,
      workflowVersionId: record.workflowVersionId,
      status: record.status,
      triggerType: record.triggerType,
      triggeredBy: record.triggeredBy,
      parentExecutionId: record.parent?.executionId ?? null,
      parentStepId: record.parent?.stepId ?? null,
      input: record.input ?? {},
      output: record.output,
      error: record.error,
      promptTokens: record.promptTokens,
      completionTokens: record.completionTokens,
      lastSeq: upTo,
      startedAt: date(record.startedAt),
      completedAt: date(record.completedAt),
    };
    await tx
      .insert(executions)
      .values(row)
      .onConflictDoUpdate({
        target: executions.id,
        set: {
          status: row.status,
          output: row.output,
          error: row.error,
          promptTokens: row.promptTokens,
          completionTokens: row.completionTokens,
          lastSeq: row.lastSeq,
          startedAt: row.startedAt,
          completedAt: row.completedAt,
        },
        setWhere: sql`${executions.lastSeq} < ${upTo}`,
      });
    if (steps.length > 0) {
      await tx
        .insert(executionSteps)
        .values(steps.map((step) => stepRow(record.id, step)))
        .onConflictDoUpdate({
          target: [executionSteps.executionId, executionSteps.stepId],
          set: Object.fromEntries(
            STEP_COLUMNS.map((column) => [column, sql.raw(`excluded.${executionSteps[column].name}`)]),
          ),
        });
    }
    await tx
      .insert(executionLogs)
      .values(
        events.map((event) => ({
          executionId: record.id,
          seq: event.seq,
          level: event.level,
          event: event.event,
          stepId: event.stepId,
          message: event.message,
          data: event.data,
          createdAt: new Date(event.at),
        })),
      )
      .onConflictDoNothing();
    for (const { seq, audit } of audits) {
      await recordAudit(tx, audit.context, { ...audit.entry, dedupeKey: `execution:${record.id}:${seq}` });
    }
  });
  store.markFlushed(upTo);
  return events.length;
}

const STEP_COLUMNS = [
  "status",
  "attempt",
  "idempotencyKey",
  "input",
  "output",
  "error",
  "promptTokens",
  "completionTokens",
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
    status: step.status,
    attempt: step.attempt,
    idempotencyKey: step.idempotencyKey,
    input: step.input,
    output: step.output,
    error: step.error ?? (step.skipReason ? { reason: step.skipReason, message: `skipped: ${step.skipReason}` } : null),
    promptTokens: step.promptTokens,
    completionTokens: step.completionTokens,
    retries: step.retries,
    deadLetters: step.deadLetters,
    startedAt: date(step.startedAt),
    completedAt: date(step.completedAt),
  };
}

function date(iso: string | null): Date | null {
  return iso ? new Date(iso) : null;
}
