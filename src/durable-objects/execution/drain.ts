/**
 * Draining an execution's outbox to Postgres (docs/engine.md). Batches go in order, one transaction
 * each. A transient failure (Postgres down, a dropped connection) stops the drain, to be retried
 * with backoff. A batch Postgres refuses for good is replayed event by event, then row by row;
 * each row still refused is recorded as a sync rejection (a metric, and `syncError` on the
 * execution) and flushed past, so one poison row never blocks the rows after it.
 */
import { eq } from "drizzle-orm";
import { settings } from "../../config";
import { type Database, openPlatformDatabase } from "../../db/client";
import { isPermanent } from "../../db/errors";
import { executions, syncRejections } from "../../db/schema";
import type { Bindings } from "../../env";
import { describeError } from "../../observability/describe-error";
import { logEvent } from "../../observability/log";
import { pgError } from "../../observability/pg-error";
import {
  type OutboxBatch,
  removeStepRows,
  writeAuditRows,
  writeBatch,
  writeExecutionRow,
  writeLogRows,
  writeStepRows,
} from "./outbox";
import type { ExecutionStore } from "./store";

/** Events per transaction; a long backlog drains over several. */
const BATCH = 500;
/** How long one batch may take before the drain gives up and retries with backoff. */
const BATCH_DEADLINE_MS = 20_000;

class DeadlineError extends Error {}

function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
/** The watchdog looks this long after an object's next timer, or after this at most. */
const CHECK_GRACE_MS = 30_000;
const CHECK_AT_MOST_MS = 10 * 60_000;

/** `notified`: notification deliveries the drained events recorded (the flusher pokes their sender). */
export type DrainOutcome = { ok: true; notified: number } | { ok: false };

/** `waitUntil` gets the session's close: a pool ending after a dropped connection can hang. */
export async function drainOutbox(
  store: ExecutionStore,
  env: Bindings,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<DrainOutcome> {
  if (store.lastSeq() === store.flushedSeq() && store.removedSteps().length === 0) return { ok: true, notified: 0 };
  let notified = 0;
  const session = openPlatformDatabase(settings(env), { max: 1 });
  try {
    for (let batch = nextBatch(store, BATCH); batch; batch = nextBatch(store, BATCH)) {
      try {
        // A batch Postgres does not take within its time is retried, not waited on for ever.
        notified += await withinDeadline(writeBatch(session.db, batch), BATCH_DEADLINE_MS);
      } catch (error) {
        if (!isPermanent(error)) throw error;
        notified += await replayEventByEvent(store, session.db, batch);
        continue;
      }
      delivered(store, batch);
    }
    return { ok: true, notified };
  } catch (error) {
    logEvent("warn", "outbox_flush_failed", { executionId: store.execution()?.id, ...describeError(error) });
    return { ok: false };
  } finally {
    waitUntil(session.close());
  }
}

/** The events after the last flushed one (at most `limit`), with their steps and audits. */
function nextBatch(store: ExecutionStore, limit: number, after = store.flushedSeq()): OutboxBatch | null {
  const record = store.execution();
  const events = store.eventsAfter(after, limit);
  const removedSteps = store.removedSteps();
  if (!record || (events.length === 0 && removedSteps.length === 0)) return null;
  const upTo = events.length ? events[events.length - 1].seq : after;
  const last = upTo === store.lastSeq();
  const steps = store.stepsChangedBetween(after, last ? null : upTo);
  const nextDue = store.nextDue();
  const now = Date.now();
  return {
    record,
    events,
    steps,
    audits: store.auditsBetween(after, upTo),
    upTo,
    nextCheckAt: new Date(Math.min(nextDue === null ? Infinity : nextDue + CHECK_GRACE_MS, now + CHECK_AT_MOST_MS)),
    removedSteps,
  };
}

function delivered(store: ExecutionStore, batch: OutboxBatch): void {
  store.markFlushed(batch.upTo);
  if (batch.removedSteps.length) store.putRemovedSteps([]);
}

/** Isolates the refused rows of a batch: one event at a time, then one row at a time. */
async function replayEventByEvent(store: ExecutionStore, db: Database, batch: OutboxBatch): Promise<number> {
  let notified = 0;
  for (const event of batch.events) {
    const single = nextBatch(store, 1, event.seq - 1);
    if (!single) continue;
    try {
      notified += await writeBatch(db, single);
    } catch (error) {
      if (!isPermanent(error)) throw error;
      await replayRowByRow(db, single);
    }
    delivered(store, single);
  }
  return notified;
}

async function replayRowByRow(db: Database, batch: OutboxBatch): Promise<void> {
  const executionId = batch.record.id;
  const seq = batch.upTo;
  const parts: Array<{ target: string; stepId?: string; write: () => Promise<void> }> = [
    { target: "execution", write: () => writeExecutionRow(db, batch) },
    { target: "removed_steps", write: () => removeStepRows(db, executionId, batch.removedSteps) },
    ...batch.steps.map((step) => ({
      target: `step:${step.stepId}`,
      stepId: step.stepId,
      write: () => writeStepRows(db, executionId, [step]),
    })),
    { target: "log", write: () => writeLogRows(db, executionId, batch.events) },
    { target: "audit", write: () => writeAuditRows(db, executionId, batch.audits) },
  ];
  for (const part of parts) {
    try {
      await part.write();
    } catch (error) {
      if (!isPermanent(error)) throw error;
      await recordRejection(db, executionId, seq, part.target, part.stepId ?? null, error);
    }
  }
}

async function recordRejection(
  db: Database,
  executionId: string,
  seq: number,
  target: string,
  stepId: string | null,
  error: unknown,
): Promise<void> {
  const pg = pgError(error);
  const message = ((pg as { message?: string } | null)?.message ?? (error as Error).message ?? "refused").slice(0, 500);
  logEvent("error", "sync_rejected", { executionId, seq, target, pgCode: pg?.code, pgMessage: message });
  const rejection = { seq, target, stepId, pgCode: pg?.code ?? null, message, at: new Date().toISOString() };
  await db
    .insert(syncRejections)
    .values({ executionId, seq, target, stepId, pgCode: pg?.code ?? null, message })
    .onConflictDoNothing();
  await db.update(executions).set({ syncError: rejection }).where(eq(executions.id, executionId));
}
