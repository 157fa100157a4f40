/**
 * The transitions of an execution (SPEC §4, §5): scheduling ready steps, starting, finishing,
 * failing and skipping them, and ending the execution. All synchronous, writing the store and
 * appending events; the commands in runner.ts compose them.
 */
import type { AuditEntry } from "../../audit/record";
import type { Step, StepOf } from "../../engine/definition";
import { ExpressionError, evaluateCondition, parseExpression } from "../../engine/expression";
import { PathError, type Scope } from "../../engine/paths";
import { retryDelayMs, retryPolicyOf } from "../../engine/retry";
import { agentStepInput, httpStepInput } from "../../engine/step-input";
import { renderTemplates, TemplateError } from "../../engine/template";
import { eventOutput, freshStep, scopeOf, sinkOutputs } from "./step-data";
import type { ExecutionStore } from "./store";
import {
  type EventName,
  type ExecutionEvent,
  type ExecutionRecord,
  type ExecutionStatus,
  type PendingAudit,
  type StepError,
  type StepState,
  TERMINAL_STEP,
  type TokenUsage,
} from "./types";

/** Re-send a step message if the send was not confirmed by then (the object was evicted mid-send). */
export const DISPATCH_CHECK_MS = 10_000;

export interface Effects {
  enqueue: Array<{ stepId: string; attempt: number; idempotencyKey: string }>;
  events: ExecutionEvent[];
  finished: boolean;
}

export abstract class ExecutionTransitions {
  readonly effects: Effects = { enqueue: [], events: [], finished: false };
  protected readonly store: ExecutionStore;
  protected readonly now: number;
  protected record: ExecutionRecord | null;

  constructor(store: ExecutionStore, now = Date.now()) {
    this.store = store;
    this.now = now;
    this.record = store.execution();
  }

  // -- scheduling ---------------------------------------------------------------------------------

  /** Starts every step whose dependencies are settled, until nothing more can start. */
  protected schedule(): void {
    let progressed = true;
    while (progressed && this.record?.status === "running") {
      progressed = false;
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
    if (this.record?.status === "running" && this.store.steps().every((step) => TERMINAL_STEP.has(step.status))) {
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

  protected startStep(definition: Step, step: StepState): void {
    step.attempt += 1;
    step.status = "running";
    step.startedAt ??= this.iso();
    step.waiting = null;
    step.leaseUntil = null;
    step.agent = null;
    this.emit("step.started", step.stepId, { type: definition.type, attempt: step.attempt });
    this.store.putStep(step);
    try {
      this.begin(definition, step);
    } catch (error) {
      if (!(error instanceof TemplateError || error instanceof ExpressionError || error instanceof PathError))
        throw error;
      const reason = error instanceof ExpressionError ? "expression_error" : "template_error";
      this.fail(definition, step, { message: error.message, reason, retryable: false });
    }
  }

  /** What starting means for each type: finish at once, wait, or hand to the queue. */
  protected begin(definition: Step, step: StepState): void {
    switch (definition.type) {
      case "transform":
        this.succeed(definition, step, renderTemplates(definition.output, this.scope()));
        break;
      case "condition": {
        const result = evaluateCondition(parseExpression(definition.if), this.scope());
        this.succeed(definition, step, { result });
        for (const id of result ? definition.else : definition.then) {
          const branch = this.store.step(id);
          if (branch?.status === "pending") this.skip(branch, "branch_not_taken");
        }
        break;
      }
      case "delay": {
        const waitMs = definition.seconds * 1000;
        this.wait(step, { kind: "delay", until: this.iso(waitMs) }, waitMs, "delay");
        break;
      }
      case "approval": {
        const timeoutMs = definition.timeoutSeconds ? definition.timeoutSeconds * 1000 : null;
        const expiresAt = timeoutMs ? this.iso(timeoutMs) : null;
        this.wait(
          step,
          { kind: "approval", approverRoles: definition.approverRoles ?? null, expiresAt },
          timeoutMs,
          "approval_timeout",
        );
        break;
      }
      case "http":
      case "agent":
        this.dispatch(definition, step);
        break;
    }
  }

  protected dispatch(definition: StepOf<"http"> | StepOf<"agent">, step: StepState): void {
    const scope = this.scope();
    step.input = definition.type === "http" ? httpStepInput(definition, scope) : agentStepInput(definition, scope);
    step.idempotencyKey ??= crypto.randomUUID();
    step.dispatchPending = true;
    step.redrives = 0;
    this.store.putStep(step);
    this.enqueue(step);
    this.store.setTimer({ kind: "dispatch", due: this.now + DISPATCH_CHECK_MS, stepId: null, attempt: null });
    if (definition.timeoutSeconds) {
      this.store.setTimer({
        kind: "step_timeout",
        due: this.now + definition.timeoutSeconds * 1000,
        stepId: step.stepId,
        attempt: step.attempt,
      });
    }
  }

  /** Has the object send the step's current attempt to the queue once this transition is stored. */
  protected enqueue(step: StepState): void {
    if (!step.idempotencyKey) return;
    this.effects.enqueue.push({ stepId: step.stepId, attempt: step.attempt, idempotencyKey: step.idempotencyKey });
  }

  protected wait(
    step: StepState,
    waiting: NonNullable<StepState["waiting"]>,
    afterMs: number | null,
    timer: "delay" | "approval_timeout",
  ) {
    step.status = "waiting";
    step.waiting = waiting;
    this.emit("step.waiting", step.stepId, waiting);
    this.store.putStep(step);
    if (afterMs !== null)
      this.store.setTimer({ kind: timer, due: this.now + afterMs, stepId: step.stepId, attempt: step.attempt });
  }

  protected succeed(
    definition: Step,
    step: StepState,
    output: unknown,
    usage?: TokenUsage,
    audit?: PendingAudit,
  ): void {
    this.countTokens(step, usage);
    step.status = "completed";
    step.output = output;
    step.error = null;
    step.waiting = null;
    step.leaseUntil = null;
    step.dispatchPending = false;
    step.completedAt = this.iso();
    this.emit(
      "step.completed",
      step.stepId,
      { type: definition.type, attempt: step.attempt, ...eventOutput(output) },
      "info",
      null,
      audit,
    );
    this.store.putStep(step);
    this.store.deleteStepTimers(step.stepId);
  }

  /** A failed attempt: retried by the step's policy when it may be, else the step fails. */
  protected fail(definition: Step, step: StepState, error: StepError, usage?: TokenUsage, audit?: PendingAudit): void {
    this.countTokens(step, usage);
    this.store.deleteStepTimers(step.stepId);
    step.leaseUntil = null;
    step.dispatchPending = false;
    const policy = retryPolicyOf(definition.retry);
    if (error.retryable !== false && step.attempt < policy.maxAttempts) {
      const delayMs = retryDelayMs(policy, step.attempt + 1);
      step.status = "waiting";
      step.error = error;
      step.retries += 1;
      step.waiting = { kind: "retry", nextAttemptAt: this.iso(delayMs) };
      const message = `attempt ${step.attempt} failed (${error.message}); retrying in ${delayMs} ms`;
      this.emit("log", step.stepId, { reason: "retry", attempt: step.attempt, delayMs, error }, "warn", message);
      this.emit("step.waiting", step.stepId, { ...step.waiting, attempt: step.attempt, error });
      this.store.putStep(step);
      this.store.setTimer({ kind: "retry", due: this.now + delayMs, stepId: step.stepId, attempt: step.attempt });
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
    if (!definition.continueOnError) this.finish("failed", { ...error, stepId: step.stepId });
  }

  protected skip(step: StepState, reason: string): void {
    step.status = "skipped";
    step.skipReason = reason;
    step.waiting = null;
    step.leaseUntil = null;
    step.dispatchPending = false;
    step.completedAt = this.iso();
    this.emit("step.skipped", step.stepId, { reason });
    this.store.putStep(step);
    this.store.deleteStepTimers(step.stepId);
  }

  // -- execution lifecycle ------------------------------------------------------------------------

  protected finish(
    status: "completed" | "failed" | "cancelled",
    error: ExecutionRecord["error"],
    audit?: PendingAudit,
  ): void {
    const record = this.requireRecord();
    for (const step of this.store.steps()) {
      if (!TERMINAL_STEP.has(step.status)) this.skip(step, status === "cancelled" ? "cancelled" : "execution_failed");
    }
    record.status = status;
    record.completedAt = this.iso();
    record.error = error;
    record.output = status === "completed" ? this.sinkOutputs() : null;
    this.saveRecord();
    const data = status === "completed" ? { output: record.output } : status === "failed" ? { error } : {};
    this.emit(`execution.${status}`, null, data, status === "failed" ? "error" : "info", error?.message ?? null, audit);
    this.store.clearWorkTimers();
    this.effects.finished = true;
  }

  protected setStatus(status: ExecutionStatus, audit: PendingAudit): void {
    const record = this.requireRecord();
    record.status = status;
    this.saveRecord();
    this.emit(`execution.${status}`, null, {}, "info", null, audit);
  }

  /** Reruns a failed execution from its failed steps, keeping every completed output. */
  protected rerun(audit: PendingAudit): void {
    const record = this.requireRecord();
    record.run += 1;
    record.status = "running";
    record.completedAt = null;
    record.error = null;
    record.output = null;
    this.saveRecord();
    this.emit("execution.running", null, { retry: record.run }, "info", null, audit);
    for (const step of this.store.steps()) {
      const interrupted =
        step.status === "skipped" && (step.skipReason === "execution_failed" || step.skipReason === "cancelled");
      if (step.status !== "failed" && !interrupted) continue;
      const { retries, deadLetters, promptTokens, completionTokens } = step;
      Object.assign(step, freshStep({ id: step.stepId, type: step.type }), {
        retries,
        deadLetters,
        promptTokens,
        completionTokens,
      });
      this.emit(
        "log",
        step.stepId,
        { reason: "rerun", run: record.run },
        "info",
        `step will run again (run ${record.run})`,
      );
      this.store.putStep(step);
    }
    this.armExecutionTimeout();
    this.schedule();
  }

  protected armExecutionTimeout(): void {
    const seconds = this.record?.definition.timeoutSeconds;
    if (seconds)
      this.store.setTimer({ kind: "execution_timeout", due: this.now + seconds * 1000, stepId: null, attempt: null });
  }

  // -- helpers ------------------------------------------------------------------------------------

  protected emit(
    event: EventName,
    stepId: string | null,
    data: unknown,
    level: ExecutionEvent["level"] = "info",
    message: string | null = null,
    audit?: PendingAudit,
  ) {
    const appended = this.store.appendEvent({ at: this.iso(), event, stepId, level, message, data });
    if (audit) {
      const after = audit.entry.after ?? { status: this.record?.status, event };
      this.store.putAudit(appended.seq, { ...audit, entry: { ...audit.entry, after } satisfies AuditEntry });
    }
    this.effects.events.push(appended);
    return appended;
  }

  protected countTokens(step: StepState, usage: TokenUsage | undefined): void {
    if (!usage) return;
    const record = this.requireRecord();
    step.promptTokens += usage.promptTokens;
    step.completionTokens += usage.completionTokens;
    record.promptTokens += usage.promptTokens;
    record.completionTokens += usage.completionTokens;
    this.saveRecord();
  }

  protected scope(): Scope {
    return scopeOf(this.requireRecord(), this.store.steps());
  }

  protected sinkOutputs(): Record<string, unknown> {
    return sinkOutputs(this.requireRecord(), this.store.steps());
  }

  protected definitionOf(stepId: string): Step | undefined {
    return this.record?.definition.steps.find((step) => step.id === stepId);
  }

  protected requireRecord(): ExecutionRecord {
    if (!this.record) throw new Error("execution not started");
    return this.record;
  }

  protected saveRecord(): void {
    this.store.putExecution(this.requireRecord());
  }

  protected iso(offsetMs = 0): string {
    return new Date(this.now + offsetMs).toISOString();
  }
}
