/**
 * One Durable Object per execution: the only writer of that execution's state (docs/engine.md). Its
 * hooks: RPC calls from the API and the step consumers, the WebSocket stream, and the alarm that
 * carries every timer. Every change goes through `transition()`: the machine's command runs inside
 * one storage transaction (a command that throws leaves storage as it was), the alarm is set in
 * the same turn, and only then are its effects carried out: events to viewers, step messages to
 * the queue, rows to Postgres.
 */

import { DurableObject } from "cloudflare:workers";
import type { AgentState } from "../agents/state";
import { isTerminalExecution } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { exportTrace, tracingWanted } from "../observability/tracing/export-trace";
import type { StepMessage } from "../queues/messages";
import { releaseSlot } from "../services/admission";
import { startChildExecution } from "../services/child-start";
import type { StepSuspension } from "../steps/kind";
import { LargeValues, StorageNeeded } from "../steps/large-values";
import type { ClaimResult, ReportResult, StepOutcome } from "../steps/task";
import { INLINE_LEASE_MS } from "./execution/clocks";
import { childResultOf } from "./execution/family";
import { FLUSH_SAFETY_MS, OutboxFlusher } from "./execution/flusher";
import { InlineAttempts } from "./execution/inline-attempts";
import { ExecutionMachine } from "./execution/machine";
import type {
  ControlRequest,
  ControlResult,
  DecisionRequest,
  DeliveryResult,
  EventDelivery,
  RerunRequest,
  RerunResult,
  RestoreRequest,
  StartRequest,
  WatchdogReport,
} from "./execution/rpc";
import { compensationView } from "./execution/step-data";
import { ExecutionStore } from "./execution/store";
import { eventMessage, type StreamMessage } from "./execution/stream-protocol";
import { TimerHandlers } from "./execution/timer-handlers";
import type { ChildResult, Snapshot } from "./execution/types";
import { VIEWER_CHECK_MS } from "./execution/viewer-check";
import { acceptViewer, broadcast } from "./execution/viewers";

/** How long the watchdog's visit waits for the outbox to drain (the drain itself carries on). */
const WATCHDOG_FLUSH_WAIT_MS = 10_000;
/** A transition may need this many R2 reads and writes first (large values). */
const MAX_STORAGE_ROUNDS = 250;
/** Status of an execution whose object has been retired (the stream reads Postgres instead). */
export const RETIRED_STATUS = 410;
/** The object has not started (queued behind a concurrency limit, or its hand-off is pending). */
export const NOT_STARTED_STATUS = 425;

export class ExecutionObject extends DurableObject<Bindings> {
  private store: ExecutionStore;
  private readonly values = new LargeValues();
  private readonly outbox = new OutboxFlusher({
    ctx: this.ctx,
    env: this.env,
    store: () => this.store,
    armAlarm: () => this.armAlarm(),
    releaseSlot: (executionId) => releaseSlot(this.env, executionId),
  });
  private readonly inline = new InlineAttempts({
    env: this.env,
    host: this,
    claim: ({ stepId, attempt, idempotencyKey }) =>
      this.transition((machine) => machine.claim(stepId, attempt, idempotencyKey, INLINE_LEASE_MS)),
    waitUntil: (work) => this.ctx.waitUntil(work),
    startChild: (request) => startChildExecution(this.env, request),
    toQueue: ({ executionId, ...message }, delaySeconds) => this.sendStepMessages([message], executionId, delaySeconds),
  });
  private readonly timers = new TimerHandlers({
    ctx: this.ctx,
    env: this.env,
    store: () => this.store,
    transition: (change) => this.transition(change),
    armAlarm: () => this.armAlarm(),
    flush: () => this.outbox.flush(),
    retire: () => this.retire(),
  });
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.store = new ExecutionStore(ctx.storage.sql);
    // Heartbeats are answered by the runtime without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** A viewer's WebSocket, already admitted by the Worker (ticket redeemed, visibility checked). */
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return new Response("expected a WebSocket", { status: 426 });
    if (this.store.retired()) return new Response("retired", { status: RETIRED_STATUS });
    if (!this.store.execution()) return new Response("not started", { status: NOT_STARTED_STATUS });
    const response = acceptViewer(this.ctx, this.store, () => this.snapshot(), request);
    if (!this.store.timer("viewers")) {
      this.ctx.storage.transactionSync(() => this.store.setTimer({ kind: "viewers" }, Date.now() + VIEWER_CHECK_MS));
      this.armAlarm();
    }
    return response;
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // Viewers only listen; "ping" is answered by the auto-response before reaching here.
    if (message !== "ping")
      ws.send(JSON.stringify({ type: "error", message: "this stream is read-only" } satisfies StreamMessage));
  }

  async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
  }

  // -- RPC --------------------------------------------------------------------------------------

  /** Model output for viewers, kept for the attempt until its step ends (docs/engine.md token durability). */
  async publishTokens(stepId: string, attempt: number, offset: number, text: string): Promise<void> {
    const step = this.store.step(stepId);
    if (step?.status !== "running" || step.attempt !== attempt) return;
    const added = this.store.streamedText.append(stepId, attempt, offset, text);
    if (added) this.broadcast({ type: "token", stepId, attempt, ...added });
  }

  /** Answers nothing: the start request has all it needs, and a snapshot would cost its steps' serialization. */
  async start(request: StartRequest): Promise<void> {
    await this.transition((machine) => machine.start(request));
  }

  /** Brings a retired execution back from its Postgres rows. */
  async restore(request: RestoreRequest): Promise<void> {
    if (this.store.retired()) await this.freshStorage(null);
    await this.transition((machine) => machine.restore(request));
  }

  async claimStep(stepId: string, attempt: number, idempotencyKey: string): Promise<ClaimResult> {
    return this.transition((machine) => machine.claim(stepId, attempt, idempotencyKey));
  }

  async heartbeat(stepId: string, attempt: number, lease: string): Promise<ReportResult> {
    return this.transition((machine) => machine.heartbeat(stepId, attempt, lease));
  }

  async checkpoint(stepId: string, attempt: number, lease: string, state: AgentState): Promise<ReportResult> {
    return this.transition((machine) => machine.checkpoint(stepId, attempt, lease, state));
  }

  async completeStep(stepId: string, attempt: number, lease: string, outcome: StepOutcome): Promise<ReportResult> {
    return this.transition((machine) => machine.complete(stepId, attempt, lease, outcome));
  }

  async releaseClaim(stepId: string, attempt: number, lease: string, handedBack = false): Promise<ReportResult> {
    return this.transition((machine) => machine.release(stepId, attempt, lease, handedBack));
  }

  async suspendStep(stepId: string, attempt: number, lease: string, suspension: StepSuspension): Promise<ReportResult> {
    return this.transition((machine) => machine.suspend(stepId, attempt, lease, suspension));
  }

  /** A child execution (started by one of this execution's agent steps) has ended. */
  async childFinished(stepId: string, result: ChildResult): Promise<boolean> {
    return this.transition((machine) => machine.childFinished(stepId, result));
  }

  /** This execution as a child: its result once it has ended, else null (a parent's poll). */
  async childStatus(): Promise<ChildResult | null> {
    const record = this.store.execution();
    if (!record || !isTerminalExecution(record.status)) return null;
    return childResultOf(record);
  }

  async deadLetter(stepId: string, attempt: number, idempotencyKey: string): Promise<boolean> {
    return this.transition((machine) => machine.deadLetter(stepId, attempt, idempotencyKey));
  }

  async control(request: ControlRequest): Promise<ControlResult> {
    return this.transition((machine) => machine.control(request));
  }

  async decide(request: DecisionRequest): Promise<ControlResult> {
    return this.transition((machine) => machine.decide(request));
  }

  async deliverEvent(delivery: EventDelivery): Promise<DeliveryResult> {
    return this.transition((machine) => machine.deliverEvent(delivery));
  }

  async rerun(request: RerunRequest): Promise<RerunResult> {
    return this.transition((machine) => machine.rerun(request));
  }

  snapshot(): Snapshot {
    const record = this.store.execution();
    if (!record) throw new Error("execution not started");
    const { definition: _definition, compensation, ...execution } = record;
    // Sub-steps stay out: a map of thousands is one step here, its counts in `progress` (items are paged by the API).
    return {
      execution: { ...execution, compensation: compensationView(compensation), steps: this.store.topSteps() },
      seq: this.store.lastSeq(),
    };
  }

  /** The watchdog's poke: check the invariants (arming what is missing), re-send unclaimed step messages, set the alarm, flush. */
  async watchdog(): Promise<WatchdogReport> {
    const record = this.store.execution();
    if (!record) return { started: false };
    const repairs = await this.transition((machine) => machine.checkInvariants());
    const redriven = await this.transition((machine) => machine.redriveUnclaimed());
    this.alarmAt = undefined;
    this.armAlarm();
    // The watchdog visits many objects within its minute: it waits for a flush only so long.
    await Promise.race([this.outbox.flush(), new Promise((resolve) => setTimeout(resolve, WATCHDOG_FLUSH_WAIT_MS))]);
    return {
      started: true,
      status: this.store.execution()?.status ?? record.status,
      nextDue: this.store.nextDue(),
      unflushed: this.store.lastSeq() - this.store.flushedSeq(),
      redriven,
      repairs,
    };
  }

  // -- timers -----------------------------------------------------------------------------------

  /** Fires the due timers (execution/timer-handlers.ts), then points the alarm at the next. */
  async alarm(): Promise<void> {
    this.alarmAt = undefined;
    await this.timers.fireDue();
    this.armAlarm();
  }

  /** Frees the object's storage; Postgres (and R2 for large values) hold the execution now. */
  private async retire(): Promise<void> {
    const record = this.store.execution();
    if (!record || !isTerminalExecution(record.status)) return;
    if (this.store.flushedSeq() < this.store.lastSeq()) {
      this.ctx.storage.transactionSync(() => this.store.setTimer({ kind: "retire" }, Date.now() + 60_000));
      return;
    }
    for (const socket of this.ctx.getWebSockets()) socket.close(1000, "execution retired");
    await this.freshStorage(record.id);
    this.alarmAt = null;
  }

  /**
   * Frees the object's storage but what a later delivery needs: the idempotency keys of the events
   * delivered (a sender's retry after a rerun must still land once). With `retiredId`, marked retired.
   */
  private async freshStorage(retiredId: string | null): Promise<void> {
    const deliveries = this.store.inbox.deliveries();
    await this.ctx.storage.deleteAll();
    this.store = new ExecutionStore(this.ctx.storage.sql);
    this.ctx.storage.transactionSync(() => {
      this.store.inbox.putDeliveries(deliveries);
      if (retiredId) this.store.markRetired(retiredId);
    });
  }

  // -- the one path for changes -----------------------------------------------------------------

  /** Runs one command atomically, sets the alarm in the same turn, then carries out its effects. */
  private async transition<T>(change: (machine: ExecutionMachine) => T): Promise<T> {
    const now = Date.now();
    for (let round = 0; ; round++) {
      const machine = new ExecutionMachine(this.store, this.values, now, tracingWanted(this.env));
      let result: T;
      try {
        result = this.ctx.storage.transactionSync(() => change(machine));
      } catch (error) {
        if (!(error instanceof StorageNeeded) || round >= MAX_STORAGE_ROUNDS) throw error;
        await this.values.fulfil(this.env.STORAGE, error.request);
        continue;
      }
      const { enqueue, events, finished, spans } = machine.effects;
      if (finished && machine.execution?.parent)
        this.ctx.storage.transactionSync(() => this.store.setTimer({ kind: "notify_parent", tries: 0 }, now));
      if (events.length > 0 && !this.store.timer("flush"))
        this.ctx.storage.transactionSync(() => this.store.setTimer({ kind: "flush" }, now + FLUSH_SAFETY_MS));
      this.armAlarm();
      for (const event of events) this.broadcast(eventMessage(event));
      const executionId = machine.execution?.id ?? "";
      const queued = this.inline.take(enqueue, executionId);
      if (queued.length > 0) await this.sendStepMessages(queued, executionId);
      if (events.length > 0) this.ctx.waitUntil(this.outbox.flush());
      if (spans.length > 0) this.ctx.waitUntil(exportTrace(this.env, spans));
      return result;
    }
  }

  /** Points the alarm at the earliest timer (synchronously queued with the storage writes). */
  private armAlarm(): void {
    const next = this.store.nextDue();
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    if (next === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(next);
  }

  private broadcast(message: StreamMessage): void {
    broadcast(this.ctx, message);
  }

  private async sendStepMessages(
    messages: Array<Omit<StepMessage, "executionId">>,
    executionId: string,
    delaySeconds = 0,
  ): Promise<void> {
    try {
      await this.env.STEPS_QUEUE.sendBatch(
        messages.map(({ stepId, attempt, idempotencyKey }) => ({
          body: { executionId, stepId, attempt, idempotencyKey } satisfies StepMessage,
          contentType: "json" as const,
          ...(delaySeconds > 0 ? { delaySeconds } : {}),
        })),
      );
    } catch (error) {
      // Each message's dispatch timer sends it again, backing off.
      logEvent("warn", "step_dispatch_failed", { executionId, ...describeError(error) });
      await this.transition((machine) => machine.sendFailed(messages));
      return;
    }
    await this.transition((machine) => {
      for (const message of messages) machine.markSent(message.stepId, message.attempt);
    });
  }
}
