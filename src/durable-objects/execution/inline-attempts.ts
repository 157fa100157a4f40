/**
 * First attempts the execution's object runs itself (INLINE_STEP_ATTEMPTS, README "Steps in the
 * object"): a short queued step (http) spares the queue hop and the two calls around it. The
 * protocol is the queue's own — claim, lease, heartbeats, report, stash (step-attempt.ts) — so an
 * object evicted mid-attempt loses only its lease: when that runs out, the attempt goes to the
 * queue, as a dead consumer's would. Retries, re-sends and agent steps always take the queue.
 */
import { settings } from "../../config";
import type { Bindings } from "../../env";
import { describeError } from "../../observability/describe-error";
import { logEvent } from "../../observability/log";
import type { StepMessage } from "../../queues/messages";
import { type AttemptHost, type Delivery, runDelivery } from "../../queues/step-attempt";
import type { ClaimResult } from "../../steps/task";
import type { Effects } from "./execution-state";

type Dispatched = Effects["enqueue"][number];

export interface InlineAttemptsOptions {
  env: Bindings;
  /** The object itself, which answers an attempt's calls as its RPC stub would. */
  host: AttemptHost;
  /** Claims the attempt for the object (a short lease: INLINE_LEASE_MS). */
  claim(message: StepMessage): Promise<ClaimResult>;
  waitUntil(work: Promise<unknown>): void;
  /** Starts a step's child execution (the adapter wires in services/child-start.ts). */
  startChild: Delivery["startChild"];
  /** Hands an attempt the object could not finish to the steps queue. */
  toQueue(message: StepMessage, delaySeconds: number): Promise<void>;
}

export class InlineAttempts {
  private readonly options: InlineAttemptsOptions;
  private running = 0;

  constructor(options: InlineAttemptsOptions) {
    this.options = options;
  }

  /** Starts the dispatched attempts this object may run itself, up to the limit; returns the others, for the queue. */
  take(dispatched: Dispatched[], executionId: string): Dispatched[] {
    const limit = settings(this.options.env).INLINE_STEP_ATTEMPTS;
    return dispatched.filter(({ inObject, stepId, attempt, idempotencyKey }) => {
      if (!inObject || this.running >= limit) return true;
      this.start({ executionId, stepId, attempt, idempotencyKey });
      return false;
    });
  }

  private start(message: StepMessage): void {
    this.running += 1;
    const { env, host } = this.options;
    // After the transition that dispatched it has carried out its other effects.
    const run = Promise.resolve()
      .then(() =>
        runDelivery({
          message,
          deliveries: 1,
          env,
          claim: () => this.options.claim(message),
          host: () => host,
          faults: settings(env).FAULT_INJECTION,
          startChild: this.options.startChild,
        }),
      )
      .then((disposition) => {
        if (disposition.kind === "again") return this.options.toQueue(message, disposition.delaySeconds);
      })
      .catch((error) => {
        // As a consumer dying mid-attempt: its lease runs out and the attempt is sent to the queue.
        logEvent("error", "inline_attempt_died", {
          executionId: message.executionId,
          stepId: message.stepId,
          ...describeError(error),
        });
      })
      .finally(() => {
        this.running -= 1;
      });
    this.options.waitUntil(run);
  }
}
