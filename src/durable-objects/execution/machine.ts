/**
 * The execution's state machine: every command the object accepts (start, claims and reports
 * from consumers, controls, decisions, events, reruns, timers) as one synchronous transition over
 * the store. Results are typed; nothing is matched on message strings.
 */
import type { AgentState } from "../../agents/state";
import { type Definition, isQueued, stepKind } from "../../engine/definition";
import { storable } from "../../engine/storable-text";
import { exhaustive, isTerminalExecution } from "../../engine/vocabulary";
import { applyDecision, mayDecide } from "../../steps/approval";
import { payloadProblems, receive } from "../../steps/event";
import type { QueuedKind } from "../../steps/kind";
import { planRerun, sideEffectsOf } from "./rerun-plan";
import { freshStep, restartedStep } from "./step-data";
import type { TimerOf } from "./timers";
import { ExecutionTransitions, RESEND_UNSENT_MS } from "./transitions";
import type {
  AgentSuspension,
  ChildResult,
  ClaimResult,
  ControlRequest,
  ControlResult,
  DecisionRequest,
  DeliveryResult,
  EventDelivery,
  PendingAudit,
  Refusal,
  ReportResult,
  RerunPlan,
  RerunRequest,
  RerunResult,
  RestoreRequest,
  StartRequest,
  StepOutcome,
  StepState,
  StepTask,
} from "./types";

/** A claimed attempt's consumer renews its lease every third of this (heartbeats). */
export const LEASE_MS = 30_000;
/** Re-send an unclaimed message after 15 s, 30 s, then every 45 s (a restart loses the local queue). */
const CLAIM_CHECK_MS = [15_000, 30_000, 45_000];
/** Sends of one attempt before it is failed as lost (about half an hour). */
const MAX_SENDS = 40;
/** How often a step waiting for child executions asks them, in case a notification was lost. */
export const CHILDREN_CHECK_MS = 60_000;

export class ExecutionMachine extends ExecutionTransitions {
  /** Starts the execution once; later calls (a retried start, the watchdog) change nothing. */
  start(request: StartRequest): void {
    if (this.record) return;
    this.record = {
      id: request.executionId,
      workflowId: request.workflowId,
      workflowVersionId: request.workflowVersionId,
      versionNumber: request.versionNumber,
      definition: request.definition,
      input: storable(request.input),
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
    this.store.putAgents(request.agents);
    this.emit("execution.running", null, { triggerType: request.triggerType, version: request.versionNumber });
    for (const step of request.definition.steps) this.store.putStep(freshStep(step, 1));
    this.armExecutionTimeout();
    this.schedule();
  }

  /**
   * Rebuilds a retired execution from its Postgres rows (a rerun or a control long after it ended),
   * numbering new events after the last one Postgres holds.
   */
  restore(request: RestoreRequest): void {
    if (this.record) return;
    this.record = request.record;
    this.saveRecord();
    this.store.putAgents(request.agents);
    for (const step of request.steps) this.store.putStep(step);
    this.store.restoreSequence(request.lastSeq);
  }

  // -- steering ---------------------------------------------------------------------------------

  control(request: ControlRequest): ControlResult {
    const record = this.record;
    if (!record) return notStarted();
    const audit = (action: string): PendingAudit => ({
      context: request.audit,
      entry: { action, resourceType: "execution", resourceId: record.id, before: { status: record.status } },
    });
    switch (request.action) {
      case "cancel":
        if (isTerminalExecution(record.status)) return conflict(`The execution is already ${record.status}`);
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
      case "retry": {
        if (record.status !== "failed")
          return conflict(`Only a failed execution can be retried (it is ${record.status})`);
        const roots = this.store
          .steps()
          .filter(
            (step) =>
              step.status === "failed" ||
              (step.status === "skipped" &&
                step.skipReason !== "branch_not_taken" &&
                step.skipReason !== "dependency_skipped"),
          )
          .map((step) => step.stepId);
        this.applyRerun(this.planFor(roots, record.definition, false), record.definition, audit("execution.retry"), {
          retry: true,
        });
        break;
      }
      default:
        exhaustive(request.action);
    }
    return { ok: true, status: this.requireRecord().status };
  }

  decide(request: DecisionRequest): ControlResult {
    const record = this.record;
    if (!record) return notStarted();
    const step = this.store.step(request.stepId);
    const definition = this.definitionOf(request.stepId);
    if (!step || !definition) return notFound("Step");
    if (definition.type !== "approval") return conflict("This step is not an approval");
    if (isTerminalExecution(record.status)) return conflict(`The execution is already ${record.status}`);
    if (step.status !== "waiting" || step.waiting?.reason !== "approval")
      return conflict("This step is not waiting for a decision");
    if (!mayDecide(definition, request.actor)) {
      return {
        ok: false,
        code: "FORBIDDEN",
        message: `Only ${definition.approverRoles?.join(" or ")} may decide this step`,
      };
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
    this.auditNext = audit;
    applyDecision(this.runtimeFor(definition, step), decision);
    this.schedule();
    return { ok: true, status: this.requireRecord().status };
  }

  /**
   * An event for the execution's `event` steps: it completes the first one waiting for it, or is
   * buffered for one still to come. A payload that breaks that step's schema is refused.
   */
  deliverEvent(delivery: EventDelivery): DeliveryResult {
    const record = this.record;
    if (!record) return notStarted();
    if (delivery.idempotencyKey) {
      const earlier = this.store.deliveredEvent<DeliveryResult>(delivery.idempotencyKey);
      if (earlier) return earlier.ok ? { ...earlier, replayed: true } : earlier;
    }
    if (isTerminalExecution(record.status)) return conflict(`The execution is already ${record.status}`);
    const candidates = record.definition.steps.flatMap((definition) => {
      if (definition.type !== "event" || definition.event !== delivery.name) return [];
      const state = this.store.step(definition.id);
      return state ? [{ definition, state }] : [];
    });
    if (candidates.length === 0) return conflict(`No event step of this execution waits for "${delivery.name}"`);
    const payload = storable(delivery.payload ?? null);
    const waiting = candidates.find(({ state }) => state.status === "waiting" && state.waiting?.reason === "event");
    const upcoming = candidates.filter(({ state }) => state.status === "pending");
    const target = waiting ?? upcoming[0];
    if (!target) return conflict(`Every step waiting for "${delivery.name}" has received its event`);
    const problems = payloadProblems(target.definition, payload);
    if (problems.length)
      return {
        ok: false,
        code: "VALIDATION",
        message: "The payload does not match the event's schema",
        details: problems,
      };
    const buffered = this.store.bufferedEvents().filter((event) => event.name === delivery.name).length;
    if (!waiting && buffered >= upcoming.length)
      return conflict(`An event "${delivery.name}" is already waiting for every step that takes one`);
    const audit: PendingAudit = {
      context: delivery.audit,
      entry: {
        action: "execution.event.deliver",
        resourceType: "execution",
        resourceId: record.id,
        after: { event: delivery.name, stepId: target.definition.id, buffered: !waiting },
      },
    };
    const receivedAt = this.iso();
    if (waiting) {
      this.auditNext = audit;
      receive(this.runtimeFor(waiting.definition, waiting.state), payload, receivedAt);
      this.schedule();
    } else {
      this.store.bufferEvent({ id: crypto.randomUUID(), name: delivery.name, payload, receivedAt });
      this.emit(
        "log",
        null,
        { reason: "event_buffered", event: delivery.name },
        "info",
        `event "${delivery.name}" buffered until a step waits for it`,
        audit,
      );
    }
    const result: DeliveryResult = { ok: true, delivered: !!waiting, buffered: !waiting };
    if (delivery.idempotencyKey) this.store.rememberDelivery(delivery.idempotencyKey, result);
    return result;
  }

  /** Runs `fromStep` and everything downstream of it again (SPEC §5), or answers the plan. */
  rerun(request: RerunRequest): RerunResult {
    const record = this.record;
    if (!record) return notStarted();
    if (!isTerminalExecution(record.status))
      return conflict(`Only a completed, failed or cancelled execution can be rerun (it is ${record.status})`);
    const definition = request.version?.definition ?? record.definition;
    if (!definition.steps.some((step) => step.id === request.fromStep)) return notFound("Step");
    const inputChanged = request.input !== undefined && JSON.stringify(request.input) !== JSON.stringify(record.input);
    const plan = this.planFor([request.fromStep], definition, inputChanged);
    const rerunPlan = this.describePlan(
      plan,
      definition,
      request.fromStep,
      request.version?.versionNumber ?? record.versionNumber,
    );
    if (request.dryRun) return { ok: true, plan: rerunPlan, status: record.status };
    if (request.version) {
      record.definition = request.version.definition;
      record.workflowVersionId = request.version.workflowVersionId;
      record.versionNumber = request.version.versionNumber;
    }
    if (inputChanged) record.input = storable(request.input);
    if (Object.keys(request.agents).length > 0) this.store.putAgents(request.agents);
    const audit: PendingAudit = {
      context: request.audit,
      entry: {
        action: "execution.rerun",
        resourceType: "execution",
        resourceId: record.id,
        before: { status: record.status, run: record.run },
        after: { fromStep: request.fromStep, version: record.versionNumber, rerun: plan.rerun, keep: plan.keep },
      },
    };
    this.applyRerun(plan, definition, audit, { fromStep: request.fromStep, version: record.versionNumber });
    return { ok: true, plan: { ...rerunPlan, run: this.requireRecord().run }, status: this.requireRecord().status };
  }

  // -- queued steps: claims and reports ---------------------------------------------------------

  /** A consumer asks to run a step attempt; duplicates wait for the holder's lease to end. */
  claim(stepId: string, attempt: number, idempotencyKey: string): ClaimResult {
    const record = this.record;
    const step = this.store.step(stepId);
    const definition = this.definitionOf(stepId);
    if (!record || !step || !definition || (record.status !== "running" && record.status !== "paused"))
      return { kind: "stale" };
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
    const kind = stepKind(definition.type) as QueuedKind<typeof definition>;
    step.dispatch.claims += 1;
    step.lease = { token: crypto.randomUUID(), until: this.now + LEASE_MS };
    this.store.deleteTimer({ kind: "dispatch", stepId });
    this.store.setTimer({ kind: "lease", stepId, attempt }, step.lease.until);
    // The step timeout runs from the attempt's first claim, not from when it was queued.
    const timeoutMs = definition.timeoutSeconds ? definition.timeoutSeconds * 1000 : kind.defaultTimeoutMs;
    const timer = this.store.timer(`step_timeout:${stepId}`);
    const deadline =
      timer && (timer.timer as TimerOf<"step_timeout">).attempt === attempt ? timer.due : this.now + timeoutMs;
    if (!timer || timer.due !== deadline) this.store.setTimer({ kind: "step_timeout", stepId, attempt }, deadline);
    this.store.putStep(step);
    return { kind: "run", task: this.taskOf(step, definition.type as StepTask["type"], deadline) };
  }

  heartbeat(stepId: string, attempt: number, lease: string): ReportResult {
    const step = this.leased(stepId, attempt, lease);
    if ("accepted" in step) return step;
    step.lease = { token: lease, until: this.now + LEASE_MS };
    this.store.setTimer({ kind: "lease", stepId, attempt }, step.lease.until);
    this.store.putStep(step);
    return { accepted: true };
  }

  /** An agent attempt's progress; its tokens count now, so a crash later does not lose them. */
  checkpoint(stepId: string, attempt: number, lease: string, state: AgentState): ReportResult {
    const step = this.leased(stepId, attempt, lease);
    if ("accepted" in step) return step;
    const clean = storable(state);
    this.store.putCheckpoint(stepId, attempt, clean);
    this.countAttemptUsage(step, clean.usage);
    step.lease = { token: lease, until: this.now + LEASE_MS };
    this.store.setTimer({ kind: "lease", stepId, attempt }, step.lease.until);
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

  /** A consumer failed on its own account: let the next delivery claim the attempt at once. */
  release(stepId: string, attempt: number, lease: string): ReportResult {
    const step = this.leased(stepId, attempt, lease);
    if ("accepted" in step) return step;
    step.lease = null;
    this.store.deleteTimer({ kind: "lease", stepId });
    // If the queue gives up on the message, the dead-letter queue or this timer takes over.
    this.store.setTimer({ kind: "dispatch", stepId, attempt }, this.now + CLAIM_CHECK_MS[CLAIM_CHECK_MS.length - 1]);
    this.store.putStep(step);
    return { accepted: true };
  }

  /** An agent step hands back its conversation to wait for child workflows (no consumer held). */
  suspend(stepId: string, attempt: number, lease: string, suspension: AgentSuspension): ReportResult {
    const step = this.leased(stepId, attempt, lease);
    if ("accepted" in step) return step;
    const clean = storable(suspension);
    this.countAttemptUsage(step, clean.usage);
    this.store.putCheckpoint(stepId, attempt, clean.state);
    step.children = { waitingFor: clean.waitingFor, results: step.children?.results ?? {} };
    step.lease = null;
    step.dispatch = null;
    step.status = "waiting";
    step.waiting = { reason: "children", executionIds: clean.waitingFor.map((w) => w.executionId) };
    this.store.deleteTimer({ kind: "lease", stepId });
    this.store.deleteTimer({ kind: "step_timeout", stepId });
    this.store.setTimer({ kind: "children", stepId, attempt }, this.now + CHILDREN_CHECK_MS);
    this.emit("step.waiting", stepId, { ...step.waiting, attempt });
    this.store.putStep(step);
    this.resumeIfAnswered(step);
    return { accepted: true };
  }

  /**
   * A child execution started by an agent step has ended. Results are kept even if they arrive
   * before the step has finished suspending; the step resumes once every child has answered.
   */
  childFinished(stepId: string, result: ChildResult): boolean {
    const step = this.store.step(stepId);
    if (!this.record || isTerminalExecution(this.record.status) || !step) return true;
    if (step.status !== "running" && step.status !== "waiting") return true;
    step.children ??= { waitingFor: [], results: {} };
    if (step.children.results[result.executionId]) return true;
    step.children.results[result.executionId] = storable(result);
    this.emit("log", stepId, { reason: "child_finished", executionId: result.executionId, status: result.status });
    this.store.putStep(step);
    this.resumeIfAnswered(step);
    return true;
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

  // -- timers -----------------------------------------------------------------------------------

  /** The handlers of the timers the machine owns (the object handles flush, notify_parent, retire). */
  onTimer(
    timer: TimerOf<"retry" | "wait" | "dispatch" | "lease" | "step_timeout" | "children" | "execution_timeout">,
  ): void {
    const record = this.record;
    if (!record || isTerminalExecution(record.status)) return;
    if (timer.kind === "execution_timeout") {
      this.finish("failed", { message: "the execution timed out", reason: "timeout" });
      return;
    }
    const step = this.store.step(timer.stepId);
    const definition = this.definitionOf(timer.stepId);
    if (!step || !definition || step.attempt !== timer.attempt) return;
    switch (timer.kind) {
      case "retry":
        if (step.waiting?.reason === "retry") {
          step.status = "pending";
          step.waiting = null;
          this.store.putStep(step);
        }
        break;
      case "wait": {
        const kind = stepKind(definition.type);
        if (step.status === "waiting" && kind.mode === "inline" && kind.waitExpired)
          kind.waitExpired(definition as never, this.runtimeFor(definition, step));
        break;
      }
      case "dispatch":
        this.resend(step, definition);
        break;
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
        break;
      case "step_timeout":
        if (step.status === "running") {
          const seconds = Math.round(
            (definition.timeoutSeconds ?? 0) ||
              (stepKind(definition.type) as QueuedKind<typeof definition>).defaultTimeoutMs / 1000,
          );
          this.fail(definition, step, {
            message: `the step timed out after ${seconds} s`,
            reason: "timeout",
            retryable: true,
          });
        }
        break;
      case "children":
        if (step.status === "waiting" && step.waiting?.reason === "children")
          this.store.setTimer(
            { kind: "children", stepId: step.stepId, attempt: step.attempt },
            this.now + CHILDREN_CHECK_MS,
          );
        break;
      default:
        exhaustive(timer);
    }
    this.schedule();
  }

  /** Unclaimed executions' step messages (the watchdog's poke after a restart): send them again now. */
  redriveUnclaimed(): number {
    if (this.record?.status !== "running" && this.record?.status !== "paused") return 0;
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

  // -- internals --------------------------------------------------------------------------------

  private resend(step: StepState, definition: { id: string }): void {
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

  private resumeIfAnswered(step: StepState): void {
    if (step.status !== "waiting" || step.waiting?.reason !== "children" || !step.children) return;
    const { waitingFor, results } = step.children;
    if (!waitingFor.every(({ executionId }) => results[executionId])) return;
    step.status = "running";
    step.waiting = null;
    step.dispatch = { sent: false, sends: 0, claims: 0, sendFailures: 0 };
    this.store.deleteTimer({ kind: "children", stepId: step.stepId });
    this.emit("step.started", step.stepId, { type: step.type, attempt: step.attempt, resumed: true });
    this.store.putStep(step);
    this.enqueue(step);
  }

  /** The step, when `lease` is its current lease for `attempt`; else why the report is refused. */
  private leased(stepId: string, attempt: number, lease: string): StepState | ReportResult {
    const record = this.record;
    const step = this.store.step(stepId);
    if (!record || !step || isTerminalExecution(record.status) || step.status !== "running" || step.attempt !== attempt)
      return { accepted: false, reason: "stale" };
    if (step.lease?.token !== lease) return { accepted: false, reason: "lease_lost" };
    return step;
  }

  private taskOf(step: StepState, type: StepTask["type"], deadline: number): StepTask {
    const record = this.requireRecord();
    const definition = this.definitionOf(step.stepId);
    const agentId = definition?.type === "agent" ? definition.agentId : null;
    return {
      executionId: record.id,
      workflowId: record.workflowId,
      actingUserId: record.triggeredBy ?? record.workflowOwnerId,
      stepId: step.stepId,
      type,
      attempt: step.attempt,
      idempotencyKey: step.idempotencyKey ?? "",
      lease: step.lease?.token ?? "",
      claims: step.dispatch?.claims ?? 1,
      input: step.inputRef ? null : step.input,
      inputRef: step.inputRef,
      deadline,
      executionTokens: record.promptTokens + record.completionTokens,
      executionTokenBudget: record.definition.tokenBudget ?? null,
      agent: agentId ? (this.store.agents()[agentId] ?? null) : null,
      checkpoint: this.store.checkpoint(step.stepId, step.attempt),
      childResults: (step.children?.waitingFor ?? []).map(({ toolCallId, executionId }) => ({
        toolCallId,
        content: JSON.stringify(step.children?.results[executionId] ?? { status: "unknown" }),
      })),
    };
  }

  private planFor(roots: string[], definition: Definition, inputChanged: boolean) {
    const record = this.requireRecord();
    return planRerun({ definition, previous: record.definition, states: this.store.steps(), roots, inputChanged });
  }

  private describePlan(
    plan: { keep: string[]; rerun: string[] },
    definition: Definition,
    fromStep: string,
    versionNumber: number,
  ): RerunPlan {
    const byId = new Map(definition.steps.map((step) => [step.id, step]));
    return {
      run: this.requireRecord().run + 1,
      fromStep,
      versionNumber,
      keep: plan.keep,
      rerun: plan.rerun.map((stepId) => {
        const type = byId.get(stepId)?.type ?? "transform";
        return { stepId, type, sideEffects: stepKind(type).sideEffects };
      }),
      sideEffects: sideEffectsOf(definition, plan.rerun),
    };
  }

  /** Starts the next run: the planned steps start over (new idempotency keys), the rest keep their outputs. */
  private applyRerun(
    plan: { keep: string[]; rerun: string[] },
    definition: Definition,
    audit: PendingAudit,
    data: Record<string, unknown>,
  ): void {
    const record = this.requireRecord();
    record.run += 1;
    record.definition = definition;
    record.status = "running";
    record.completedAt = null;
    record.error = null;
    record.output = null;
    this.saveRecord();
    this.emit(
      "execution.running",
      null,
      { ...data, run: record.run, rerun: plan.rerun, keep: plan.keep },
      "info",
      null,
      audit,
    );
    const wanted = new Set(definition.steps.map((step) => step.id));
    const removed = this.store
      .steps()
      .filter((step) => !wanted.has(step.stepId))
      .map((step) => step.stepId);
    for (const stepId of removed) this.store.deleteStep(stepId);
    if (removed.length) this.store.putRemovedSteps([...new Set([...this.store.removedSteps(), ...removed])]);
    for (const step of definition.steps) {
      if (!plan.rerun.includes(step.id)) continue;
      const state = this.store.step(step.id);
      const next = state && state.type === step.type ? restartedStep(state, record.run) : freshStep(step, record.run);
      this.emit(
        "log",
        step.id,
        { reason: "rerun", run: record.run },
        "info",
        `step will run again (run ${record.run})`,
      );
      this.store.putStep(next);
      this.store.deleteStepTimers(step.id);
      this.store.deleteCheckpoint(step.id);
    }
    this.armExecutionTimeout();
    this.schedule();
  }
}

function conflict(message: string): Refusal {
  return { ok: false, code: "CONFLICT", message };
}

function notFound(what: string): Refusal {
  return { ok: false, code: "NOT_FOUND", message: `${what} not found` };
}

function notStarted(): Refusal {
  return { ok: false, code: "NOT_STARTED", message: "The execution has not reached its object yet" };
}
