/**
 * The rows an execution's outbox writes to Postgres. The event log is the outbox: each batch is
 * the events after the last flushed one, the steps they changed and their audit rows. Every
 * write is idempotent (upserts guarded by the event sequence, logs keyed by it, audits by a
 * dedupe key), so a batch retried after a crash or an outage writes each row exactly once.
 */
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { auditRowOf, recordAudit } from "../../audit/record";
import type { Database, Queryable } from "../../db/client";
import { addEngineCounts } from "../../db/engine-counters";
import { executionLogs, executionSteps, executions } from "../../db/schema";
import { noticeInsert } from "../../notifications/record";
import { parseSubStepId } from "../../steps/inner";
import { noticesOf, recordNotices } from "./notices";
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
  await executionRowUpsert(tx, batch);
}

/** The execution's row, written unless a later batch already wrote it. */
function executionRowUpsert(tx: Queryable, batch: OutboxBatch) {
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
  return tx
    .insert(executions)
    .values(row)
    .onConflictDoUpdate({ target: executions.id, set: changes, setWhere: sql`${executions.lastSeq} < ${upTo}` });
}

export async function writeStepRows(tx: Queryable, executionId: string, steps: StepState[]): Promise<void> {
  // A statement takes at most 65,535 parameters: a cancelled map of thousands changes as many rows.
  for (let from = 0; from < steps.length; from += STEPS_PER_STATEMENT)
    await stepRowsUpsert(tx, executionId, steps.slice(from, from + STEPS_PER_STATEMENT));
}

/** ~22 parameters a step row: 1,000 rows stay well inside a statement's 65,535. */
const STEPS_PER_STATEMENT = 1_000;

function stepRowsUpsert(tx: Queryable, executionId: string, steps: StepState[]) {
  return tx
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
  const inserted = await logRowsInsert(tx, executionId, events);
  // A timer that failed is counted once, with the log line that says so (a batch written again adds nothing).
  const failed: Record<string, number> = {};
  for (const { data } of inserted) {
    const timer = timerFailureOf(data);
    if (timer) failed[timer] = (failed[timer] ?? 0) + 1;
  }
  await addEngineCounts(tx, "timer_failed", failed);
}

/** The events' log lines (each once: keyed by its sequence number), answering the lines it inserted. */
function logRowsInsert(tx: Queryable, executionId: string, events: ExecutionEvent[]) {
  return tx
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
}

function timerFailureOf(data: unknown): string | null {
  const logged = data as { reason?: unknown; timer?: unknown } | null;
  return logged?.reason === "timer_failed" && typeof logged.timer === "string" ? logged.timer : null;
}

export async function writeAuditRows(tx: Queryable, executionId: string, audits: OutboxBatch["audits"]): Promise<void> {
  for (const { seq, audit } of audits) await recordAudit(tx, audit.context, auditEntryOf(executionId, seq, audit));
}

/** A pending audit row's entry, its dedupe key the event's sequence number (a batch written again adds none). */
function auditEntryOf(executionId: string, seq: number, audit: PendingAudit) {
  return { ...audit.entry, dedupeKey: `execution:${executionId}:${seq}` };
}

/**
 * The whole batch. Answers how many notification deliveries its events recorded (notices.ts).
 * Usually one statement (one round trip to Postgres, atomic without a transaction); a batch that
 * removes steps, or too large for one statement's parameters, goes statement by statement in a
 * transaction, the removals first.
 */
export async function writeBatch(db: Database, batch: OutboxBatch): Promise<number> {
  // Past one statement's parameters (a step row ~22, a log line 8) the batch goes in several.
  const tooLarge = batch.steps.length > STEPS_PER_STATEMENT || batch.events.length > STEPS_PER_STATEMENT;
  if (batch.removedSteps.length > 0 || tooLarge) return db.transaction((tx) => writeBatchInOrder(tx, batch));
  const { rows } = await db.execute<{ notified: number }>(batchStatement(db, batch));
  return Number(rows[0]?.notified ?? 0);
}

async function writeBatchInOrder(tx: Queryable, batch: OutboxBatch): Promise<number> {
  await writeExecutionRow(tx, batch);
  await removeStepRows(tx, batch.record.id, batch.removedSteps);
  await writeStepRows(tx, batch.record.id, batch.steps);
  await writeLogRows(tx, batch.record.id, batch.events);
  await writeAuditRows(tx, batch.record.id, batch.audits);
  return recordNotices(tx, batch.record, batch.events);
}

/**
 * The batch's writes as the parts of one statement (data-modifying WITH queries, each on its own
 * table): the same rows, guards and dedupe keys as the writers above, which replay a refused
 * batch row by row.
 */
function batchStatement(db: Database, batch: OutboxBatch): SQL {
  const { record, events, steps, audits } = batch;
  const parts: SQL[] = [];
  const part = (name: string, query: SQL) => {
    parts.push(sql`${sql.identifier(name)} as (${query})`);
  };
  part("execution_row", executionRowUpsert(db, batch).getSQL());
  if (steps.length > 0) part("step_rows", stepRowsUpsert(db, record.id, steps).getSQL());
  if (events.length > 0) {
    part("log_rows", logRowsInsert(db, record.id, events).getSQL());
    // writeLogRows' count of failed timers, from the lines this statement inserted.
    part(
      "timer_failures",
      sql`insert into engine_counters (name, kind, count)
        select 'timer_failed', data->>'timer', count(*) from log_rows
        where data->>'reason' = 'timer_failed' and jsonb_typeof(data->'timer') = 'string'
        group by data->>'timer'
        on conflict (name, kind) do update set count = engine_counters.count + excluded.count, updated_at = now()`,
    );
  }
  if (audits.length > 0) {
    // Rows of one statement share its millisecond, and the chain orders rows by (created_at, id):
    // time-ordered ids keep them in the order of their events.
    const rows = audits.map(({ seq, audit }) => ({
      id: uuidv7(),
      ...auditRowOf(audit.context, auditEntryOf(record.id, seq, audit)),
    }));
    // recordAudit's dedupe: a row goes in only if its key was claimed now.
    part(
      "audit_claims",
      sql`insert into audit_dedupe_keys (dedupe_key)
        select jsonb_array_elements_text(${JSON.stringify(rows.map((row) => row.dedupeKey))}::jsonb)
        on conflict do nothing returning dedupe_key`,
    );
    part(
      "audit_rows",
      sql`insert into audit_logs (id, actor_id, actor_email, ip, user_agent, request_id, action, resource_type,
          resource_id, before, after, dedupe_key)
        select a.id, a."actorId", a."actorEmail", a.ip, a."userAgent", a."requestId", a.action, a."resourceType",
          a."resourceId", a.before, a.after, a."dedupeKey"
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as a(id uuid, "actorId" uuid, "actorEmail" text,
          ip inet, "userAgent" text, "requestId" text, action text, "resourceType" text, "resourceId" text,
          before jsonb, after jsonb, "dedupeKey" text)
        where a."dedupeKey" in (select dedupe_key from audit_claims)`,
    );
  }
  const notices = noticesOf(record, events);
  for (const [i, notice] of notices.entries()) part(`notice_${i}`, noticeInsert(notice));
  const notified = notices.map((_, i) => sql`(select count(*) from ${sql.identifier(`notice_${i}`)})`);
  return sql`with ${sql.join(parts, sql`, `)} select (${notified.length ? sql.join(notified, sql` + `) : sql`0`})::int as notified`;
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
