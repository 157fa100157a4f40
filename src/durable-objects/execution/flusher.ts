/**
 * Draining an execution object's outbox to Postgres (docs/engine.md), single-flight: a drain picks up
 * the events that arrive while it runs, so a burst of transitions reaches Postgres in one
 * session (drain.ts writes the batches). A failed drain retries from the object's `flush` timer
 * with backoff; once Postgres has every row of an ended execution, the object's retirement is
 * scheduled and its concurrency slot freed.
 */
import { isTerminalExecution } from "../../engine/vocabulary";
import type { Bindings } from "../../env";
import { enqueueJob } from "../../queues/enqueue-job";
import { drainOutbox } from "./drain";
import type { ExecutionStore } from "./store";

/** Storage is freed this long after the execution ended and Postgres has every row. */
export const RETIRE_AFTER_MS = 24 * 3600 * 1000;
/** A safety net: if the object is evicted mid-flush, the alarm flushes again. */
export const FLUSH_SAFETY_MS = 5_000;
/** Flush backoff while Postgres is unreachable: 1 s doubling to 30 s. */
const FLUSH_RETRY_MS = { first: 1_000, max: 30_000 };

/** What the flusher needs of its object. */
export interface FlusherHost {
  ctx: DurableObjectState;
  env: Bindings;
  /** The object's store as it is now (a restore replaces it). */
  store(): ExecutionStore;
  /** Points the alarm at the earliest timer, after a drain changed them. */
  armAlarm(): void;
  /** Hands an ended execution's concurrency slot to the next queued start (the adapter wires admission in). */
  releaseSlot(executionId: string): Promise<void>;
}

export class OutboxFlusher {
  private flushing: Promise<void> | null = null;
  private failures = 0;

  constructor(private readonly host: FlusherHost) {}

  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    const { ctx, env } = this.host;
    const outcome = await drainOutbox(this.host.store(), env, (promise) => ctx.waitUntil(promise));
    const store = this.host.store();
    let ended = false;
    ctx.storage.transactionSync(() => {
      if (outcome.ok) {
        this.failures = 0;
        if (store.lastSeq() === store.flushedSeq()) {
          store.deleteTimer({ kind: "flush" });
          const status = store.execution()?.status;
          if (status && isTerminalExecution(status) && !store.timer("retire")) {
            store.setTimer({ kind: "retire" }, Date.now() + RETIRE_AFTER_MS);
            ended = true;
          }
        }
      } else {
        this.failures += 1;
        const delay = Math.min(FLUSH_RETRY_MS.first * 2 ** (this.failures - 1), FLUSH_RETRY_MS.max);
        store.setTimer({ kind: "flush" }, Date.now() + delay);
      }
    });
    this.host.armAlarm();
    // The events recorded notifications: their sender goes now, not at the cron's next minute.
    if (outcome.ok && outcome.notified > 0) ctx.waitUntil(enqueueJob(env, { type: "notify" }).catch(() => {}));
    // Postgres has the final row: the next queued execution of a limited workflow's key may start.
    const record = store.execution();
    if (ended && record?.definition.concurrency) ctx.waitUntil(this.host.releaseSlot(record.id));
  }
}
