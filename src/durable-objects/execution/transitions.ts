/**
 * The core transitions of an execution (docs/workflows.md, docs/engine.md): scheduling ready steps, starting them
 * through their step type, and ending the execution (how a step ends is step-outcomes.ts). All
 * synchronous over the store; the object runs each command inside one storage transaction and
 * carries out the effects (stream, queue, Postgres) only once it has committed. The state they
 * share and its helpers are in execution-state.ts.
 */

import { ExpressionError } from "../../engine/expression";
import { PathError } from "../../engine/paths";
import { storable } from "../../engine/storable-text";
import { TemplateError } from "../../engine/template";
import { isTerminalStep } from "../../engine/vocabulary";
import { type Step, stepKind } from "../../steps/definition";
import type { QueuedKind, StepRuntime } from "../../steps/kind";
import { executionOutputKey, inputKey, type OffloadRef } from "../../steps/large-values";
import type { Waiting } from "../../steps/task";
import { attemptTimeoutMs } from "./step-data";
import { StepOutcomes } from "./step-outcomes";
import { spanOfExecution } from "./trace-spans";
import type { ExecutionRecord, PendingAudit, StepState } from "./types";

/** How soon an unconfirmed send of a step message is tried again. */
/** The longest attempt (its timeout) an execution's object runs itself; longer ones take the queue. */
export const INLINE_MAX_ATTEMPT_MS = 30_000;

export const RESEND_UNSENT_MS = 5_000;

export abstract class ExecutionTransitions extends StepOutcomes {
  // -- scheduling ---------------------------------------------------------------------------------

  /** Starts every step whose dependencies are settled, until nothing more can start. */
  protected schedule(): void {
    let progressed = true;
    while (progressed && this.record?.status === "running") {
      progressed = this.advanceContainers();
      if (this.record.status !== "running") return;
      for (const definition of this.record.definition.steps) {
        const step = this.store.step(definition.id);
        if (step?.status !== "pending") continue;
        const readiness = this.readiness(definition);
        if (readiness === "blocked") continue;
        if (readiness === "skip") this.skip(step, "dependency_skipped");
        else this.startStep(definition, step);
        progressed = true;
        if (this.record.status !== "running") return;
      }
    }
    if (this.record?.status === "running" && this.store.topSteps().every((step) => isTerminalStep(step.status))) {
      this.finish("completed", null);
    }
  }

  /**
   * A step runs once every dependency is completed, failed with continueOnError, or skipped, and
   * at least one is not skipped (a join after a condition); it is skipped when all of them were.
   */
  protected readiness(definition: Step): "ready" | "skip" | "blocked" {
    if (definition.dependsOn.length === 0) return "ready";
    const dependencies = definition.dependsOn.map((id) => ({
      state: this.store.step(id),
      definition: this.definitionOf(id),
    }));
    const settled = dependencies.every(
      ({ state, definition: dep }) =>
        state?.status === "completed" ||
        state?.status === "skipped" ||
        (state?.status === "failed" && dep?.continueOnError),
    );
    if (!settled) return "blocked";
    return dependencies.every(({ state }) => state?.status === "skipped") ? "skip" : "ready";
  }

  /** Starts a new attempt of `step` through its step type. */
  protected startStep(definition: Step, step: StepState): void {
    step.attempt += 1;
    step.runAttempts += 1;
    step.status = "running";
    step.startedAt ??= this.iso();
    step.attemptStartedAt = this.iso();
    step.waiting = null;
    step.lease = null;
    step.dispatch = null;
    step.children = null;
    step.attemptUsage = { promptTokens: 0, completionTokens: 0 };
    this.store.deleteAttemptProgress(step.stepId);
    this.emit("step.started", step.stepId, { type: definition.type, attempt: step.attempt, run: step.run });
    this.store.putStep(step);
    try {
      const kind = stepKind(definition.type);
      if (kind.mode === "queued") this.dispatch(definition, step, kind as QueuedKind<Step>);
      else if (kind.mode === "container") this.startContainer(definition, step);
      else kind.start(definition as never, this.runtimeFor(definition, step));
    } catch (error) {
      const reason = stepErrorReason(error);
      if (!reason) throw error;
      this.fail(definition, step, { message: (error as Error).message, reason, retryable: false });
    }
  }

  /** What a step type may do to its step (see StepRuntime). */
  protected runtimeFor(definition: Step, step: StepState): StepRuntime {
    return {
      now: this.now,
      iso: (offsetMs) => this.iso(offsetMs),
      scope: () => this.scopeFor(step),
      complete: (output) => this.succeed(definition, step, output),
      fail: (error) => this.fail(definition, step, error),
      wait: (waiting, expiresInMs) => this.wait(step, waiting, expiresInMs),
      skipBranch: (stepIds) => {
        for (const id of stepIds) {
          const branch = this.store.step(id);
          if (branch?.status === "pending") this.skip(branch, "branch_not_taken");
        }
      },
      takeEvent: (name) => this.store.inbox.takeEvent(name),
    };
  }

  /** Resolves a queued step's input and hands it to the queue (after this transition commits). */
  protected dispatch(definition: Step, step: StepState, kind: QueuedKind<Step>): void {
    const record = this.requireRecord();
    const input = storable(kind.input(definition, this.scopeFor(step)));
    const stored = this.values.store(inputKey(record.id, step.stepId, step.attempt), input);
    step.input = stored;
    step.inputRef = stored === input ? null : (stored as OffloadRef);
    step.idempotencyKey ??= crypto.randomUUID();
    step.dispatch = { sent: false, sends: 0, claims: 0, sendFailures: 0 };
    this.store.putStep(step);
    this.enqueue(step);
  }

  /** Has the object send the step's current attempt once this transition commits. */
  protected enqueue(step: StepState): void {
    if (!step.idempotencyKey) return;
    const kind = stepKind(step.type);
    const definition = this.definitionOf(step.stepId);
    const inObject =
      kind.mode === "queued" &&
      kind.firstAttemptInObject &&
      step.runAttempts === 1 &&
      step.dispatch?.claims === 0 &&
      step.dispatch.sends === 0 &&
      // Deployed, an object may be reset on a deploy or cut ~70 s after its last incoming event,
      // whatever it is waiting for: only attempts that end well inside that window run in it.
      definition !== undefined &&
      attemptTimeoutMs(definition, Infinity) <= INLINE_MAX_ATTEMPT_MS;
    this.effects.enqueue.push({
      stepId: step.stepId,
      attempt: step.attempt,
      idempotencyKey: step.idempotencyKey,
      inObject,
    });
    this.store.setTimer({ kind: "dispatch", stepId: step.stepId, attempt: step.attempt }, this.now + RESEND_UNSENT_MS);
  }

  protected wait(step: StepState, waiting: Waiting, expiresInMs: number | null): void {
    step.status = "waiting";
    step.waiting = waiting;
    this.emit("step.waiting", step.stepId, { ...waiting, attempt: step.attempt });
    this.store.putStep(step);
    if (expiresInMs !== null)
      this.store.setTimer({ kind: "wait", stepId: step.stepId, attempt: step.attempt }, this.now + expiresInMs);
  }

  // -- execution lifecycle ------------------------------------------------------------------------

  protected finish(
    status: "completed" | "failed" | "cancelled",
    error: ExecutionRecord["error"],
    audit?: PendingAudit,
    compensate = status === "failed",
  ): void {
    if (status !== "completed" && compensate && this.beginCompensation(status, error, audit)) return;
    const record = this.requireRecord();
    for (const step of this.store.steps()) {
      if (!isTerminalStep(step.status)) this.skip(step, status === "cancelled" ? "cancelled" : "execution_failed");
    }
    record.output =
      status === "completed" ? this.values.store(executionOutputKey(record.id, record.run), this.sinkOutputs()) : null;
    record.status = status;
    record.completedAt = this.iso();
    record.error = error;
    this.saveRecord();
    const data = status === "completed" ? { output: record.output } : status === "failed" ? { error } : {};
    this.emit(`execution.${status}`, null, data, status === "failed" ? "error" : "info", error?.message ?? null, audit);
    this.store.clearWorkTimers();
    this.effects.finished = true;
    if (this.traced) this.effects.spans.push(spanOfExecution(record));
  }
  // -- the hooks of control flow (containers.ts, compensation.ts) ---------------------------------

  /** Starts a map or a loop: its first sub-steps. */
  protected abstract startContainer(definition: Step, step: StepState): void;
  /** Starts the sub-steps the running containers may start now, and ends those that are done; true on a change. */
  protected abstract advanceContainers(): boolean;
  /** Turns an ending into compensation when completed steps have some to run; false when none. */
  protected abstract beginCompensation(
    endAs: "failed" | "cancelled",
    error: ExecutionRecord["error"],
    audit: PendingAudit | undefined,
  ): boolean;
}

/** The step error reason for errors of the definition language (a template that does not resolve). */
function stepErrorReason(error: unknown): string | null {
  if (error instanceof ExpressionError) return "expression_error";
  if (error instanceof TemplateError || error instanceof PathError) return "template_error";
  return null;
}
