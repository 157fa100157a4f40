import { freshStep } from "./step-data";
import { ExecutionTransitions } from "./transitions";
import {
  type AgentSuspension,
  type ChildResult,
  type ClaimResult,
  type ControlRequest,
  type ControlResult,
  type DecisionRequest,
  EXECUTION_NOT_STARTED,
  type ExecutionRecord,
  type PendingAudit,
  type StartRequest,
  type StepOutcome,
  type StepState,
  TERMINAL_EXECUTION,
} from "./types";

/** A queued step's consumer may hold an attempt this long beyond its timeout before others retry. */
const LEASE_MARGIN_MS = 30_000;
const DEFAULT_TIMEOUT_MS = { http: 30_000, agent: 300_000 } as const;
/** An unclaimed message this old is presumed lost by the watchdog. */
const LOST_AFTER_MS = 5 * 60_000;
const MAX_REDRIVES = 3;

export class ExecutionRunner extends ExecutionTransitions {
  get execution(): ExecutionRecord | null {
    return this.record;
  }

  /** Starts the execution once; later calls (a retried start, the watchdog) change nothing. */
  start(request: StartRequest): void {
    if (this.record) return;
    this.record = {
      id: request.executionId,
      workflowId: request.workflowId,
      workflowVersionId: request.workflowVersionId,
      versionNumber: request.versionNumber,
      definition: request.definition,
      input: request.input,
      status: "running",
      triggerType: request.triggerType,
      triggeredBy: request.triggeredBy,
      workflowOwnerId: request.workflowOwnerId,
      parent: request.parent,
      run: 1,
      createdAt: request.createdAt,
      startedAt: this.iso(),
      completedAt: null,
      output: null,
      error: null,
      promptTokens: 0,
      completionTokens: 0,
    };
    this.saveRecord();
    this.emit("execution.running", null, { triggerType: request.triggerType, version: request.versionNumber });
    for (const step of request.definition.steps) this.store.putStep(freshStep(step));
    this.armExecutionTimeout();
    this.schedule();
  }

  control(request: ControlRequest): ControlResult {
    const record = this.record;
    if (!record) return { ok: false, code: "NOT_FOUND", message: EXECUTION_NOT_STARTED };
    const audit = (action: string): PendingAudit => ({
      context: request.audit,
      entry: { action, resourceType: "execution", resourceId: record.id, before: { status: record.status } },
    });
    switch (request.action) {
      case "cancel":
        if (TERMINAL_EXECUTION.has(record.status)) return conflict(`The execution is already ${record.status}`);
        this.finish("cancelled", null, audit("execution.cancel"));
        break;
      case "pause":
        if (record.status !== "running")
          return conflict(`Only a running execution can be paused (it is ${record.status})`);
        this.setStatus("paused", audit("execution.pause"));
        break;
      case "resume":
        if (record.status !== "paused")
          return conflict(`Only a paused execution can be resumed (it is ${record.status})`);
        this.setStatus("running", audit("execution.resume"));
        this.schedule();
        break;
      case "retry":
        if (record.status !== "failed")
          return conflict(`Only a failed execution can be retried (it is ${record.status})`);
        this.rerun(audit("execution.retry"));
        break;
    }
    return { ok: true, status: this.requireRecord().status };
  }

  decide(request: DecisionRequest): ControlResult {
    const record = this.record;
    if (!record) return { ok: false, code: "NOT_FOUND", message: EXECUTION_NOT_STARTED };
    const step = this.store.step(request.stepId);
    const definition = this.definitionOf(request.stepId);
    if (!step || !definition) return { ok: false, code: "NOT_FOUND", message: "Step not found" };
    if (definition.type !== "approval") return conflict("This step is not an approval");
    if (TERMINAL_EXECUTION.has(record.status)) return conflict(`The execution is already ${record.status}`);
    if (step.status !== "waiting" || step.waiting?.kind !== "approval")
      return conflict("This step is not waiting for a decision");
    const allowed = definition.approverRoles;
    if (allowed && !request.actor.roles.some((role) => (allowed as string[]).includes(role))) {
      return { ok: false, code: "FORBIDDEN", message: `Only ${allowed.join(" or ")} may decide this step` };
    }
    const decision = {
      approved: request.approved,
      decidedBy: request.actor.id,
      comment: request.comment,
      decidedAt: this.iso(),
    };
    const audit: PendingAudit = {
      context: request.audit,
      entry: {
        action: request.approved ? "execution.step.approve" : "execution.step.reject",
        resourceType: "execution",
        resourceId: record.id,
        after: { stepId: request.stepId, ...decision },
      },
    };
    if (request.approved) {
      this.succeed(definition, step, decision, undefined, audit);
    } else {
      const message = request.comment ? `rejected: ${request.comment}` : "rejected";
      this.fail(definition, step, { message, reason: "rejected", retryable: false }, undefined, audit);
    }
    this.schedule();
    return { ok: true, status: this.requireRecord().status };
  }

  /** A consumer asks to run a step attempt; duplicates wait for the holder's lease to end. */
  claim(stepId: string, attempt: number): ClaimResult {
    const record = this.record;
    const step = this.store.step(stepId);
    const definition = this.definitionOf(stepId);
    if (!record || !step || !definition || TERMINAL_EXECUTION.has(record.status)) return { kind: "stale" };
    if (
      step.status !== "running" ||
      step.attempt !== attempt ||
      (definition.type !== "http" && definition.type !== "agent")
    ) {
      return { kind: "stale" };
    }
    if (step.leaseUntil && step.leaseUntil > this.now) {
      return { kind: "busy", retryAfterSeconds: Math.max(1, Math.ceil((step.leaseUntil - this.now) / 1000)) };
    }
    const timeoutMs = definition.timeoutSeconds
      ? definition.timeoutSeconds * 1000
      : DEFAULT_TIMEOUT_MS[definition.type];
    step.leaseUntil = this.now + timeoutMs + LEASE_MARGIN_MS;
    step.dispatchPending = false;
    this.store.putStep(step);
    return {
      kind: "run",
      task: {
        executionId: record.id,
        workflowId: record.workflowId,
        stepId,
        type: definition.type,
        attempt,
        idempotencyKey: step.idempotencyKey ?? "",
        input: step.input,
        timeoutMs,
        executionTokens: record.promptTokens + record.completionTokens,
        executionTokenBudget: record.definition.tokenBudget ?? null,
        resume: step.agent?.state
          ? {
              state: step.agent.state,
              toolResults: step.agent.waitingFor.map(({ toolCallId, executionId }) => ({
                toolCallId,
                content: JSON.stringify(step.agent?.results[executionId] ?? { status: "unknown" }),
              })),
            }
          : null,
      },
    };
  }

  /** An agent step hands back its conversation to wait for child workflows (no consumer held). */
  suspend(stepId: string, attempt: number, suspension: AgentSuspension): boolean {
    const step = this.store.step(stepId);
    if (
      !this.record ||
      TERMINAL_EXECUTION.has(this.record.status) ||
      step?.status !== "running" ||
      step.attempt !== attempt
    )
      return false;
    this.countTokens(step, suspension.usage);
    const earlier = step.agent?.results ?? {};
    step.agent = { state: suspension.state, waitingFor: suspension.waitingFor, results: earlier };
    step.leaseUntil = null;
    step.status = "waiting";
    step.waiting = { kind: "tools", executionIds: suspension.waitingFor.map((w) => w.executionId) };
    this.emit("step.waiting", stepId, { ...step.waiting, attempt });
    this.store.putStep(step);
    this.resumeIfAnswered(step);
    return true;
  }

  /**
   * A child execution started by an agent step has ended. Results are kept even if they arrive
   * before the step has finished suspending; the step resumes once every child it waits for has
   * answered. Returns true once the result needs no further delivery.
   */
  childFinished(stepId: string, result: ChildResult): boolean {
    const step = this.store.step(stepId);
    if (!this.record || TERMINAL_EXECUTION.has(this.record.status) || !step) return true;
    if (step.status !== "running" && step.status !== "waiting") return true;
    step.agent ??= { state: null, waitingFor: [], results: {} };
    step.agent.results[result.executionId] = result;
    this.emit(
      "log",
      stepId,
      { reason: "child_finished", executionId: result.executionId, status: result.status },
      "info",
      null,
    );
    this.store.putStep(step);
    this.resumeIfAnswered(step);
    return true;
  }

  private resumeIfAnswered(step: StepState): void {
    if (step.status !== "waiting" || step.waiting?.kind !== "tools" || !step.agent) return;
    const answered = step.agent.waitingFor.every(({ executionId }) => step.agent?.results[executionId]);
    if (!answered) return;
    step.status = "running";
    step.waiting = null;
    step.dispatchPending = true;
    this.emit("step.started", step.stepId, { type: step.type, attempt: step.attempt, resumed: true });
    this.store.putStep(step);
    this.enqueue(step);
  }

  release(stepId: string, attempt: number): void {
    const step = this.store.step(stepId);
    if (step?.status === "running" && step.attempt === attempt && step.leaseUntil) {
      step.leaseUntil = null;
      this.store.putStep(step);
    }
  }

  /** Accepts one result per (step, attempt); duplicates and stale attempts are ignored. */
  complete(stepId: string, attempt: number, outcome: StepOutcome): boolean {
    const record = this.record;
    const step = this.store.step(stepId);
    const definition = this.definitionOf(stepId);
    if (!record || !step || !definition || TERMINAL_EXECUTION.has(record.status)) return false;
    if (step.status !== "running" || step.attempt !== attempt) return false;
    if (outcome.ok) this.succeed(definition, step, outcome.output, outcome.usage);
    else this.fail(definition, step, outcome.error, outcome.usage);
    this.schedule();
    return true;
  }

  /** A step message ended in the dead-letter queue: count it, and fail the attempt it carried. */
  deadLetter(stepId: string, attempt: number): boolean {
    const step = this.store.step(stepId);
    const definition = this.definitionOf(stepId);
    if (!this.record || !step || !definition) return false;
    step.deadLetters += 1;
    this.emit(
      "log",
      stepId,
      { reason: "dead_lettered", attempt },
      "warn",
      `the message for attempt ${attempt} was dead-lettered`,
    );
    this.store.putStep(step);
    if (TERMINAL_EXECUTION.has(this.record.status) || step.status !== "running" || step.attempt !== attempt)
      return false;
    const message = "the step message could not be delivered and was dead-lettered";
    this.fail(definition, step, { message, reason: "dead_lettered", retryable: false });
    this.schedule();
    return true;
  }

  /** Fires one due timer. */
  onTimer(kind: string, stepId: string | null, attempt: number | null): void {
    const record = this.record;
    if (!record || TERMINAL_EXECUTION.has(record.status)) return;
    if (kind === "execution_timeout") {
      this.finish("failed", { message: "the execution timed out", reason: "timeout" });
      return;
    }
    if (kind === "dispatch") {
      for (const step of this.store.steps()) {
        if (step.status === "running" && step.dispatchPending) this.enqueue(step);
      }
      return;
    }
    const step = stepId ? this.store.step(stepId) : null;
    const definition = stepId ? this.definitionOf(stepId) : null;
    if (!step || !definition) return;
    if (kind === "retry" && step.waiting?.kind === "retry" && step.attempt === attempt) {
      step.status = "pending";
      step.waiting = null;
      this.store.putStep(step);
    } else if (kind === "delay" && step.waiting?.kind === "delay") {
      this.succeed(definition, step, { waitedSeconds: definition.type === "delay" ? definition.seconds : 0 });
    } else if (kind === "approval_timeout" && step.waiting?.kind === "approval") {
      this.fail(definition, step, {
        message: "no decision before the approval timed out",
        reason: "timeout",
        retryable: false,
      });
    } else if (kind === "step_timeout" && step.status === "running" && step.attempt === attempt) {
      const seconds = definition.timeoutSeconds ?? 0;
      this.fail(definition, step, {
        message: `the step timed out after ${seconds} s`,
        reason: "timeout",
        retryable: true,
      });
    }
    this.schedule();
  }

  /**
   * The watchdog's check for lost step messages: an attempt nobody has claimed long after its
   * message was sent, or whose consumer's lease ran out without a result, is sent again; after
   * MAX_REDRIVES the attempt fails with reason `lost` and the step's retry policy takes over.
   */
  redriveLost(): number {
    if (this.record?.status !== "running" && this.record?.status !== "paused") return 0;
    let redriven = 0;
    for (const step of this.store.steps()) {
      if (step.status !== "running" || !step.idempotencyKey) continue;
      const quietSince = step.leaseUntil ?? (step.dispatchedAt !== null ? step.dispatchedAt + LOST_AFTER_MS : null);
      if (!step.dispatchPending && (quietSince === null || quietSince > this.now)) continue;
      const definition = this.definitionOf(step.stepId);
      if (!definition) continue;
      if (step.redrives >= MAX_REDRIVES) {
        this.fail(definition, step, { message: "the step message was lost", reason: "lost", retryable: true });
        continue;
      }
      step.redrives += 1;
      step.leaseUntil = null;
      step.dispatchPending = true;
      this.emit(
        "log",
        step.stepId,
        { reason: "redrive", attempt: step.attempt, redrive: step.redrives },
        "warn",
        "step message re-sent",
      );
      this.store.putStep(step);
      this.enqueue(step);
      redriven++;
    }
    this.schedule();
    return redriven;
  }

  /** Marks steps whose messages were handed to the queue. */
  markDispatched(stepIds: string[]): void {
    for (const stepId of stepIds) {
      const step = this.store.step(stepId);
      if (step?.dispatchPending) {
        step.dispatchPending = false;
        step.dispatchedAt = this.now;
        this.store.putStep(step);
      }
    }
    if (!this.store.steps().some((step) => step.status === "running" && step.dispatchPending))
      this.store.deleteTimer("dispatch");
  }
}

function conflict(message: string): ControlResult {
  return { ok: false, code: "CONFLICT", message };
}
