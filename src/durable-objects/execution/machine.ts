import { storable } from "../../engine/storable-text";
import { exhaustive, isTerminalExecution } from "../../engine/vocabulary";
import { applyDecision, mayDecide } from "../../steps/approval";
import { stepKind } from "../../steps/definition";
import { payloadProblems, receive } from "../../steps/event";
import { RETIRE_AFTER_MS } from "./flusher";
import { type InvariantKind, missingTimers } from "./invariants";
import { RerunTransitions } from "./reruns";
import type {
  ControlRequest,
  ControlResult,
  DecisionRequest,
  DeliveryResult,
  EventDelivery,
  RestoreRequest,
  StartRequest,
} from "./rpc";
import { conflict, notFound, notStarted } from "./rpc";
import { freshStep } from "./step-data";
import type { Timer, TimerOf } from "./timers";
import type { PendingAudit } from "./types";

export class ExecutionMachine extends RerunTransitions {
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
      trace: request.trace ?? null,
      run: 1,
      createdAt: request.createdAt,
      startedAt: this.iso(),
      completedAt: null,
      output: null,
      error: null,
      promptTokens: 0,
      completionTokens: 0,
      costUsd: 0,
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
    // Brought back for a look (a stream, a refused control), it retires again unless a rerun follows.
    if (isTerminalExecution(request.record.status)) this.store.setTimer({ kind: "retire" }, this.now + RETIRE_AFTER_MS);
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
        // Compensations under way finish (they undo what was done); the execution then ends cancelled.
        if (record.status === "compensating")
          this.cancelWhileCompensating(request.reason ?? null, audit("execution.cancel"));
        else this.finish("cancelled", request.reason ?? null, audit("execution.cancel"), request.compensate === true);
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
        this.startPendingSubSteps();
        this.schedule();
        break;
      case "retry": {
        if (record.status !== "failed")
          return conflict(`Only a failed execution can be retried (it is ${record.status})`);
        const roots = this.store
          .topSteps()
          .filter(
            (step) =>
              step.status === "failed" ||
              (step.status === "skipped" &&
                step.skipReason !== "branch_not_taken" &&
                step.skipReason !== "dependency_skipped"),
          )
          .map((step) => step.stepId);
        this.applyRerun(
          this.planFor(roots, record.definition, false),
          record.definition,
          audit("execution.retry"),
          { retry: true },
          request.actingUserId,
        );
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
    if (isTerminalExecution(record.status)) return conflict(`The execution is already ${record.status}`);
    if (step.status === "waiting" && step.waiting?.reason === "budget")
      return this.decideBudget(step, definition, request);
    if (definition.type !== "approval") return conflict("This step is not an approval");
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
      const earlier = this.store.inbox.deliveredEvent<DeliveryResult>(delivery.idempotencyKey);
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
    const buffered = this.store.inbox.bufferedEvents().filter((event) => event.name === delivery.name).length;
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
      this.store.inbox.bufferEvent({ id: crypto.randomUUID(), name: delivery.name, payload, receivedAt });
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
    if (delivery.idempotencyKey) this.store.inbox.rememberDelivery(delivery.idempotencyKey, result);
    return result;
  }

  // -- timers -----------------------------------------------------------------------------------

  /** A timer's handler failed and it was re-armed: the execution's log says so (and the metrics count it). */
  noteTimerFailure(timer: Timer, failures: number, retryInMs: number): void {
    this.emit(
      "log",
      "stepId" in timer ? timer.stepId : null,
      { reason: "timer_failed", timer: timer.kind, failures, retryInMs },
      "warn",
      `the ${timer.kind} timer's handler failed; it fires again in ${Math.ceil(retryInMs / 1000)} s`,
    );
  }

  /**
   * The watchdog's check: every timer the execution's state needs is there; each missing one is
   * armed again and logged. Returns the repairs by kind.
   */
  checkInvariants(): Partial<Record<InvariantKind, number>> {
    const record = this.record;
    if (!record) return {};
    const repairs: Partial<Record<InvariantKind, number>> = {};
    const missing = missingTimers({
      record,
      steps: this.store.steps(),
      timers: this.store.timers(),
      unflushed: this.store.flushedSeq() < this.store.lastSeq(),
      now: this.now,
      timeoutMsOf: (stepId) => this.attemptTimeoutMs(stepId),
      retireAfterMs: RETIRE_AFTER_MS,
    });
    for (const { kind, timer, due } of missing) {
      this.store.setTimer(timer, due);
      repairs[kind] = (repairs[kind] ?? 0) + 1;
      this.emit(
        "log",
        "stepId" in timer ? timer.stepId : null,
        { reason: "invariant_repaired", kind },
        "warn",
        `repaired: the missing ${timer.kind} timer was armed again`,
      );
    }
    return repairs;
  }

  /** The handlers of the timers the machine owns (the object handles flush, notify_parent, retire). */
  onTimer(
    timer: TimerOf<"retry" | "wait" | "dispatch" | "lease" | "step_timeout" | "children" | "execution_timeout">,
  ): void {
    const record = this.record;
    if (!record || isTerminalExecution(record.status)) return;
    if (timer.kind === "execution_timeout") {
      // The deadline bounds the work, not the undoing of it.
      if (record.status === "compensating") return;
      this.finish("failed", { message: "the execution timed out", reason: "timeout" });
      return;
    }
    const step = this.store.step(timer.stepId);
    const definition = this.definitionOf(timer.stepId);
    if (!step || !definition || step.attempt !== timer.attempt) return;
    switch (timer.kind) {
      case "retry":
        if (step.waiting?.reason === "retry" && !this.wakeSubStep(step)) {
          step.status = "pending";
          step.waiting = null;
          this.store.putStep(step);
        }
        break;
      case "wait": {
        if (step.waiting?.reason === "delay" && this.wakeSubStep(step)) break;
        const kind = stepKind(definition.type);
        if (step.status === "waiting" && kind.mode === "inline" && kind.waitExpired)
          kind.waitExpired(definition as never, this.runtimeFor(definition, step));
        break;
      }
      case "dispatch":
      case "lease":
      case "step_timeout":
      case "children":
        this.onQueuedTimer(timer, step, definition);
        break;
      default:
        exhaustive(timer);
    }
    this.schedule();
  }
}
