/**
 * First attempts the execution's object runs itself (INLINE_STEP_ATTEMPTS, README "Steps in the
 * object"): a short queued step (http) spares the queue hop and the two calls around it. The
 * protocol is the queue's own — claim, lease, heartbeats, report, stash (step-attempt.ts) — so an
 * object evicted mid-attempt loses only its lease: when that runs out, the attempt goes to the
 * queue, as a dead consumer's would. Retries, re-sends and agent steps always take the queue.
 */
import { settings } from "../../config";
import { isQueued, stepKind } from "../../engine/definition";
import type { Bindings } from "../../env";
import { describeError } from "../../observability/describe-error";
import { logEvent } from "../../observability/log";
import type { StepMessage } from "../../queues/messages";
import { type AttemptHost, runDelivery } from "../../queues/step-attempt";
import type { QueuedKind } from "../../steps/kind";
import type { ExecutionStore } from "./store";
import type { ClaimResult } from "./types";

type Message = Omit<StepMessage, "executionId">;

export interface InlineAttemptsOptions {
  env: Bindings;
  store: () => ExecutionStore;
  /** The object itself, which answers an attempt's calls as its RPC stub would. */
  host: AttemptHost;
  /** Claims the attempt for the object (a short lease: INLINE_LEASE_MS). */
  claim(message: Message): Promise<ClaimResult>;
  waitUntil(work: Promise<unknown>): void;
  /** Hands an attempt the object could not finish to the steps queue. */
  toQueue(message: Message, delaySeconds: number): Promise<void>;
}

export class InlineAttempts {
  private readonly options: InlineAttemptsOptions;
  private running = 0;

  constructor(options: InlineAttemptsOptions) {
    this.options = options;
  }

  /** Starts the messages' attempts this object may run itself; returns the others, for the queue. */
  take(messages: Message[], executionId: string): Message[] {
    const limit = settings(this.options.env).INLINE_STEP_ATTEMPTS;
    const rest: Message[] = [];
    for (const message of messages) {
      if (this.running < limit && this.runsHere(message)) this.start({ executionId, ...message });
      else rest.push(message);
    }
    return rest;
  }

  /** The run's first attempt of a step type that allows it, never claimed nor sent before. */
  private runsHere(message: Message): boolean {
    const step = this.options.store().step(message.stepId);
    if (!step || !isQueued(step.type) || !(stepKind(step.type) as QueuedKind<never>).firstAttemptInObject) return false;
    return (
      step.attempt === message.attempt &&
      step.runAttempts === 1 &&
      step.dispatch?.claims === 0 &&
      step.dispatch.sends === 0
    );
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
