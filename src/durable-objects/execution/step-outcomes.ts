/**
 * How a step's attempt ends (docs/engine.md): completed (its output stored, in R2 when large),
 * failed (retried by its policy when it may be, else for good), or skipped; a sub-step's end is
 * its container's to weigh, a step's failure the execution's. The children a step no longer waits
 * for are cancelled. transitions.ts starts steps and ends the execution on top of these.
 */
import type { TokenUsage } from "../../agents/state";
import { retryDelayMs, retryPolicyOf } from "../../engine/retry";
import { storable } from "../../engine/storable-text";
import type { SkipReason, StepError } from "../../engine/vocabulary";
import { isQueued, type Step } from "../../steps/definition";
import { parseSubStepId } from "../../steps/inner";
import { type OffloadRef, outputKey, ValueTooLargeError } from "../../steps/large-values";
import { workflowChildId } from "../../steps/workflow";
import { ExecutionState } from "./execution-state";
import type { TimerOf } from "./timers";
import { ledgerOf, spansOfAttempt } from "./trace-spans";
import type { ExecutionRecord, PendingAudit, StepState } from "./types";

export abstract class StepOutcomes extends ExecutionState {
  protected succeed(
    definition: Step,
    step: StepState,
    output: unknown,
    usage?: TokenUsage,
    audit = this.takeAudit(),
  ): void {
    const record = this.requireRecord();
    const clean = storable(output);
    let stored: unknown;
    try {
      stored = this.values.store(outputKey(record.id, step.stepId, step.attempt), clean);
    } catch (error) {
      if (!(error instanceof ValueTooLargeError)) throw error;
      this.fail(
        definition,
        step,
        { message: `the output is too large: ${error.message}`, reason: "output_too_large", retryable: false },
        usage,
        audit,
      );
      return;
    }
    this.countAttemptUsage(step, usage);
    this.traceAttempt(step, definition, null, () => ledgerOf(clean));
    step.status = "completed";
    step.output = stored;
    step.outputRef = stored === clean ? null : (stored as OffloadRef);
    step.error = null;
    step.waiting = null;
    step.lease = null;
    step.dispatch = null;
    step.completedAt = this.iso();
    this.emit(
      "step.completed",
      step.stepId,
      { type: definition.type, attempt: step.attempt, output: stored },
      "info",
      null,
      audit,
    );
    step.completedSeq = this.store.lastSeq();
    this.store.putStep(step);
    this.store.deleteStepTimers(step.stepId);
    this.store.deleteAttemptProgress(step.stepId);
    if (parseSubStepId(step.stepId)) this.subStepEnded(step);
  }

  /** A failed attempt: retried by the step's policy when it may be, else the step fails. */
  protected fail(
    definition: Step,
    step: StepState,
    error: StepError,
    usage?: TokenUsage,
    audit = this.takeAudit(),
  ): void {
    this.cancelChildrenOf(step);
    this.countAttemptUsage(step, usage);
    // What the attempt got to before failing: its last checkpoint's model and tool calls.
    this.traceAttempt(step, definition, error.message, () => this.checkpointOf(step.stepId, step.attempt));
    this.store.deleteStepTimers(step.stepId);
    this.store.deleteAttemptProgress(step.stepId);
    step.lease = null;
    step.dispatch = null;
    step.children = null;
    const policy = retryPolicyOf(definition.retry);
    const attemptsThisRun = step.runAttempts;
    if (error.retryable !== false && isQueued(definition.type) && attemptsThisRun < policy.maxAttempts) {
      const delayMs = retryDelayMs(policy, attemptsThisRun + 1);
      step.status = "waiting";
      step.error = error;
      step.retries += 1;
      step.waiting = { reason: "retry", nextAttemptAt: this.iso(delayMs), attempt: step.attempt + 1, error };
      const message = `attempt ${step.attempt} failed (${error.message}); retrying in ${delayMs} ms`;
      this.emit("log", step.stepId, { reason: "retry", attempt: step.attempt, delayMs, error }, "warn", message);
      this.emit("step.waiting", step.stepId, { ...step.waiting, attempt: step.attempt });
      this.store.putStep(step);
      this.store.setTimer({ kind: "retry", stepId: step.stepId, attempt: step.attempt }, this.now + delayMs);
      return;
    }
    step.status = "failed";
    step.error = error;
    step.waiting = null;
    step.completedAt = this.iso();
    if (definition.continueOnError) step.output = { error: { message: error.message, reason: error.reason } };
    this.emit(
      "step.failed",
      step.stepId,
      { type: definition.type, attempt: step.attempt, error },
      "error",
      error.message,
      audit,
    );
    this.store.putStep(step);
    // A sub-step's failure is its container's to weigh (a map may go on without the item).
    if (parseSubStepId(step.stepId)) this.subStepEnded(step);
    else if (!definition.continueOnError) this.finish("failed", { ...error, stepId: step.stepId });
  }

  protected skip(step: StepState, reason: SkipReason): void {
    this.cancelChildrenOf(step);
    step.status = "skipped";
    step.skipReason = reason;
    step.waiting = null;
    step.lease = null;
    step.dispatch = null;
    step.completedAt = this.iso();
    this.emit("step.skipped", step.stepId, { reason });
    this.store.putStep(step);
    this.store.deleteStepTimers(step.stepId);
  }

  /**
   * The children a step still waits for are cancelled once it is skipped or fails (the object's
   * cancel_children timer), including the child a workflow step's attempt may have started
   * before it could say so (its id is derived from the attempt).
   */
  private cancelChildrenOf(step: StepState): void {
    const waiting = (step.children?.waitingFor ?? [])
      .map(({ executionId }) => executionId)
      .filter((executionId) => !step.children?.results[executionId]);
    if (step.type === "workflow" && step.status === "running" && step.idempotencyKey && step.attempt > 0)
      waiting.push(workflowChildId(step.idempotencyKey, step.attempt));
    if (waiting.length === 0) return;
    const armed = this.store.timer("cancel_children")?.timer as TimerOf<"cancel_children"> | undefined;
    const executionIds = [...new Set([...(armed?.executionIds ?? []), ...waiting])];
    this.store.setTimer({ kind: "cancel_children", executionIds }, this.now);
  }

  protected traceAttempt(
    step: StepState,
    definition: Step,
    error: string | null,
    ledger: () => ReturnType<typeof ledgerOf>,
  ): void {
    if (!this.traced) return;
    const ended = { at: this.iso(), error, ledger: ledger() };
    this.effects.spans.push(...spansOfAttempt(this.requireRecord(), step, definition, ended, this.store.agents()));
  }

  /** Ends the execution (transitions.ts). */
  protected abstract finish(
    status: "completed" | "failed" | "cancelled",
    error: ExecutionRecord["error"],
    audit?: PendingAudit,
    compensate?: boolean,
  ): void;
  /** A sub-step completed or failed for good (containers.ts). */
  protected abstract subStepEnded(step: StepState): void;
}
