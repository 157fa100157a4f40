import type { AgentState } from "../../agents/state";
import { storable } from "../../engine/storable-text";
import { type ExecutionStatus, isTerminalExecution } from "../../engine/vocabulary";
import { isQueued, type Step, stepKind } from "../../steps/definition";
import type { QueuedKind } from "../../steps/kind";
import type { ClaimResult, ReportResult, StepOutcome } from "../../steps/task";
import { CHILDREN_CHECK_MS, LEASE_MS, leaseLength, queueLeaseMs } from "./clocks";
import { attemptTimeoutMs } from "./step-data";
import { stepTask } from "./step-task";
import type { TimerOf } from "./timers";
import { ExecutionTransitions, RESEND_UNSENT_MS } from "./transitions";
import type { StepState } from "./types";

/** Re-send an unclaimed message after 15 s, 30 s, then every 45 s (a restart loses the local queue). */
const CLAIM_CHECK_MS = [15_000, 30_000, 45_000];
/** How soon an attempt handed back is sent again (AttemptHandedBack): 5 s doubling to a minute. */
const HAND_BACK_MS = { first: 5_000, max: 60_000 };
/** The statuses in which step attempts run (compensations run while it is `compensating`). */
const WORKING = new Set<ExecutionStatus>(["running", "paused", "compensating"]);
/** Sends of one attempt before it is failed as lost (about half an hour). */
const MAX_SENDS = 40;

export abstract class QueuedStepTransitions extends ExecutionTransitions {
  // -- queued steps: claims and reports ---------------------------------------------------------

  /** A runner asks to run a step attempt; duplicates wait for the holder's lease to end. */
  claim(stepId: string, attempt: number, idempotencyKey: string, requestedLeaseMs?: number): ClaimResult {
    const record = this.record;
    const step = this.store.step(stepId);
    const definition = this.definitionOf(stepId);
    if (!record || !step || !definition || !WORKING.has(record.status)) return { kind: "stale" };
    if (
      step.status !== "running" ||
      step.attempt !== attempt ||
      step.idempotencyKey !== idempotencyKey ||
      !step.dispatch
    )
      return { kind: "stale" };
    if (!isQueued(definition.type)) return { kind: "stale" };
    if (step.lease && step.lease.until > this.now) {
      return { kind: "busy", retryAfterSeconds: Math.max(1, Math.ceil((step.lease.until - this.now) / 1000)) };
    }
    const leaseMs = requestedLeaseMs ?? queueLeaseMs(this.attemptTimeoutMs(stepId));
    step.dispatch.claims += 1;
    step.lease = { token: crypto.randomUUID(), until: this.now + leaseMs, ms: leaseMs };
    // This consumer resumes from the checkpoint: text an earlier one streamed past it comes again.
    this.store.streamedText.rewind(stepId, attempt);
    this.store.deleteTimer({ kind: "dispatch", stepId });
    this.store.setTimer({ kind: "lease", stepId, attempt }, step.lease.until);
    // The step timeout runs from the attempt's first claim, not from when it was queued.
    const timeoutMs = this.attemptTimeoutMs(stepId);
    const timer = this.store.timer(`step_timeout:${stepId}`);
    const deadline =
      timer && (timer.timer as TimerOf<"step_timeout">).attempt === attempt ? timer.due : this.now + timeoutMs;
    if (!timer || timer.due !== deadline) this.store.setTimer({ kind: "step_timeout", stepId, attempt }, deadline);
    this.store.putStep(step);
    const checkpoint = this.checkpointOf(stepId, attempt);
    return { kind: "run", task: stepTask(this.requireRecord(), step, definition, this.store, deadline, checkpoint) };
  }

  /** How long one attempt of a queued step may run: its `timeoutSeconds`, else its type's default. */
  protected attemptTimeoutMs(stepId: string): number {
    const definition = this.definitionOf(stepId);
    return definition ? attemptTimeoutMs(definition, LEASE_MS) : LEASE_MS;
  }

  heartbeat(stepId: string, attempt: number, lease: string): ReportResult {
    const step = this.leased(stepId, attempt, lease);
    if ("accepted" in step) return step;
    this.renewLease(step, lease);
    this.store.putStep(step);
    return { accepted: true };
  }

  /** An agent attempt's progress; its tokens count now, so a crash later does not lose them. */
  checkpoint(stepId: string, attempt: number, lease: string, state: AgentState): ReportResult {
    const step = this.leased(stepId, attempt, lease);
    if ("accepted" in step) return step;
    const clean = storable(state);
    this.saveCheckpoint(stepId, attempt, clean);
    this.store.streamedText.commit(stepId, attempt);
    this.countAttemptUsage(step, clean.usage);
    this.renewLease(step, lease);
    this.store.putStep(step);
    return { accepted: true };
  }

  /** Accepts one result per attempt, from the consumer holding its lease. */
  complete(stepId: string, attempt: number, lease: string, outcome: StepOutcome): ReportResult {
    const step = this.leased(stepId, attempt, lease);
    if ("accepted" in step) return step;
    const definition = this.definitionOf(stepId);
    if (!definition) return { accepted: false, reason: "stale" };
    const clean = storable(outcome);
    if (clean.ok) this.succeed(definition, step, clean.output, clean.usage);
    else this.fail(definition, step, clean.error, clean.usage);
    this.schedule();
    return { accepted: true };
  }

  /**
   * A runner failed on its own account: let the next delivery claim the attempt at once. One that
   * handed the attempt back (the step could not go on for a reason outside it) leaves its sending
   * again to the object: 5 s after the first claim, doubling to a minute, with no message retried
   * by the queue meanwhile (so no outage dead-letters it), until the attempt's sends run out.
   */
  release(stepId: string, attempt: number, lease: string, handedBack = false): ReportResult {
    const step = this.leased(stepId, attempt, lease);
    if ("accepted" in step) return step;
    step.lease = null;
    this.store.deleteTimer({ kind: "lease", stepId });
    // If the queue gives up on the message, the dead-letter queue or this timer takes over.
    const claims = step.dispatch?.claims ?? 1;
    const delay = handedBack
      ? Math.min(HAND_BACK_MS.first * 2 ** Math.min(claims - 1, 4), HAND_BACK_MS.max)
      : CLAIM_CHECK_MS[CLAIM_CHECK_MS.length - 1];
    this.store.setTimer({ kind: "dispatch", stepId, attempt }, this.now + delay);
    if (handedBack)
      this.emit(
        "log",
        stepId,
        { reason: "attempt_handed_back", attempt, retryInMs: delay },
        "warn",
        `the attempt could not go on (Postgres out of reach); it is sent again in ${Math.round(delay / 1000)} s`,
      );
    this.store.putStep(step);
    return { accepted: true };
  }

  /** A step message ended in the dead-letter queue: fail the attempt it carried, if still current. */
  deadLetter(stepId: string, attempt: number, idempotencyKey: string): boolean {
    const step = this.store.step(stepId);
    const definition = this.definitionOf(stepId);
    if (!this.record || !step || !definition || isTerminalExecution(this.record.status)) return false;
    if (step.status !== "running" || step.attempt !== attempt || step.idempotencyKey !== idempotencyKey) return false;
    step.deadLetters += 1;
    // Another copy of the message may be running right now; its consumer decides.
    if (step.lease && step.lease.until > this.now) {
      this.store.putStep(step);
      return false;
    }
    this.fail(definition, step, {
      message: "the step message could not be delivered and was dead-lettered",
      reason: "dead_lettered",
      retryable: false,
    });
    this.schedule();
    return true;
  }

  /** Sending these steps' messages failed: try again, backing off 5 s doubling to a minute. */
  sendFailed(messages: Array<{ stepId: string; attempt: number }>): void {
    for (const { stepId, attempt } of messages) {
      const step = this.store.step(stepId);
      if (step?.status !== "running" || step.attempt !== attempt || !step.dispatch || step.dispatch.sent) continue;
      step.dispatch.sendFailures += 1;
      const delay = Math.min(RESEND_UNSENT_MS * 2 ** (step.dispatch.sendFailures - 1), 60_000);
      this.store.setTimer({ kind: "dispatch", stepId, attempt }, this.now + delay);
      this.store.putStep(step);
    }
  }

  /** The send of a step message is confirmed: check later that someone claimed it. */
  markSent(stepId: string, attempt: number): void {
    const step = this.store.step(stepId);
    if (step?.status !== "running" || step.attempt !== attempt || !step.dispatch || step.lease) return;
    step.dispatch.sent = true;
    step.dispatch.sends += 1;
    step.dispatch.sendFailures = 0;
    const delay = CLAIM_CHECK_MS[Math.min(step.dispatch.sends, CLAIM_CHECK_MS.length) - 1];
    this.store.setTimer({ kind: "dispatch", stepId, attempt }, this.now + delay);
    this.store.putStep(step);
  }

  /** Unclaimed executions' step messages (the watchdog's poke after a restart): send them again now. */
  redriveUnclaimed(): number {
    if (!this.record || !WORKING.has(this.record.status)) return 0;
    let redriven = 0;
    for (const step of this.store.steps()) {
      if (step.status === "running" && step.dispatch && !step.lease && step.idempotencyKey) {
        const timer = this.store.timer(`dispatch:${step.stepId}`);
        if (timer && timer.due <= this.now + 1_000) continue;
        this.enqueue(step);
        redriven++;
      }
    }
    return redriven;
  }

  /** The queued steps' timers: a message nobody claimed, a lease run out, an attempt too slow, children to ask. */
  protected onQueuedTimer(
    timer: TimerOf<"dispatch" | "lease" | "step_timeout" | "children">,
    step: StepState,
    definition: Step,
  ): void {
    switch (timer.kind) {
      case "dispatch":
        this.resend(step, definition);
        return;
      case "lease":
        if (step.status === "running" && step.lease && step.lease.until <= this.now) {
          step.lease = null;
          this.emit(
            "log",
            step.stepId,
            { reason: "lease_expired", attempt: step.attempt },
            "warn",
            "the consumer stopped renewing its lease; the attempt is sent again",
          );
          this.store.putStep(step);
          this.enqueue(step);
        }
        return;
      case "step_timeout":
        if (step.status === "running") {
          const timeoutMs = definition.timeoutSeconds
            ? definition.timeoutSeconds * 1000
            : (stepKind(definition.type) as QueuedKind<Step>).defaultTimeoutMs;
          this.fail(definition, step, {
            message: `the step timed out after ${Math.round(timeoutMs / 1000)} s`,
            reason: "timeout",
            retryable: true,
          });
        }
        return;
      case "children":
        if (step.status === "waiting" && step.waiting?.reason === "children")
          this.store.setTimer(
            { kind: "children", stepId: step.stepId, attempt: step.attempt },
            this.now + CHILDREN_CHECK_MS,
          );
        return;
    }
  }

  // -- internals --------------------------------------------------------------------------------

  private resend(step: StepState, definition: Step): void {
    if (step.status !== "running" || !step.dispatch || (step.lease && step.lease.until > this.now)) return;
    if (step.dispatch.sends >= MAX_SENDS) {
      const stepDefinition = this.definitionOf(definition.id);
      if (stepDefinition)
        this.fail(stepDefinition, step, {
          message: "no consumer claimed the step message",
          reason: "lost",
          retryable: true,
        });
      return;
    }
    if (step.dispatch.sent) {
      this.emit(
        "log",
        step.stepId,
        { reason: "redrive", attempt: step.attempt, sends: step.dispatch.sends },
        "warn",
        "no consumer claimed the step message; sent again",
      );
    }
    this.enqueue(step);
  }

  private renewLease(step: StepState, token: string): void {
    const ms = leaseLength(step.lease);
    step.lease = { token, until: this.now + ms, ms };
    this.store.setTimer({ kind: "lease", stepId: step.stepId, attempt: step.attempt }, step.lease.until);
  }

  /** The step, when `lease` is its current lease for `attempt`; else why the report is refused. */
  protected leased(stepId: string, attempt: number, lease: string): StepState | ReportResult {
    const record = this.record;
    const step = this.store.step(stepId);
    if (!record || !step || isTerminalExecution(record.status) || step.status !== "running" || step.attempt !== attempt)
      return { accepted: false, reason: "stale" };
    if (step.lease?.token !== lease) return { accepted: false, reason: "lease_lost" };
    return step;
  }
}
