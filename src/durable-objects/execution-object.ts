/**
 * One Durable Object per execution: the only writer of that execution's state (SPEC §5). Its hooks:
 * RPC calls from the API and the step consumers, the alarm that carries every timer, and the
 * outbox that feeds Postgres. Each call runs one synchronous transition of the runner, then
 * carries out its effects: queue messages, the next alarm, and a flush.
 */
import { DurableObject } from "cloudflare:workers";
import { settings } from "../config";
import { openPlatformDatabase } from "../db/client";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import type { StepMessage } from "../queues/messages";
import { flushOnce } from "./execution/outbox";
import { ExecutionRunner } from "./execution/runner";
import { ExecutionStore } from "./execution/store";
import { CLOSE, eventMessage, refuseSocket, type StreamMessage } from "./execution/stream-protocol";
import type {
  AgentSuspension,
  ChildResult,
  ClaimResult,
  ControlRequest,
  ControlResult,
  DecisionRequest,
  Snapshot,
  StartRequest,
  StepOutcome,
} from "./execution/types";
import { executionStub } from "./execution-stub";

/** Flush backoff while Postgres is unreachable: 1 s doubling to 30 s. */
const FLUSH_RETRY_MS = { first: 1_000, max: 30_000 };
/** A safety net: if the object is evicted mid-flush, the alarm flushes again. */
const FLUSH_SAFETY_MS = 5_000;

export class ExecutionObject extends DurableObject<Bindings> {
  private readonly store: ExecutionStore;
  private flushing: Promise<void> | null = null;
  private flushFailures = 0;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.store = new ExecutionStore(ctx.storage.sql);
    // Heartbeats are answered by the runtime without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /**
   * A viewer's WebSocket, already admitted by the Worker (ticket redeemed, visibility checked).
   * Without `after` the viewer gets a snapshot, then live events; with `after=N`, the events
   * after N, then live ones. Both are read and the socket accepted in one synchronous step, so
   * no event falls between them.
   */
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return new Response("expected a WebSocket", { status: 426 });
    if (!this.store.execution()) return refuseSocket(CLOSE.notVisible, "execution not started");
    const afterParam = new URL(request.url).searchParams.get("after");
    const after = afterParam === null ? null : Number(afterParam);
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    if (after === null) {
      const snapshot = this.snapshot();
      send(server, { type: "snapshot", seq: snapshot.seq, execution: snapshot.execution });
    } else {
      for (
        let from = after, batch = this.store.eventsAfter(from);
        batch.length > 0;
        batch = this.store.eventsAfter(from)
      ) {
        for (const event of batch) send(server, eventMessage(event));
        from = batch[batch.length - 1].seq;
      }
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // Viewers only listen; "ping" is answered by the auto-response before reaching here.
    if (message !== "ping") send(ws, { type: "error", message: "this stream is read-only" });
  }

  async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
  }

  /** Ephemeral model output for viewers (`token` messages carry no seq and are not stored). */
  async publishTokens(stepId: string, attempt: number, text: string): Promise<void> {
    const step = this.store.step(stepId);
    if (step?.status !== "running" || step.attempt !== attempt) return;
    this.broadcast({ type: "token", stepId, text });
  }

  async start(request: StartRequest): Promise<Snapshot> {
    await this.transition((runner) => runner.start(request));
    return this.snapshot();
  }

  async claimStep(stepId: string, attempt: number): Promise<ClaimResult> {
    return this.transition((runner) => runner.claim(stepId, attempt));
  }

  async completeStep(stepId: string, attempt: number, outcome: StepOutcome): Promise<boolean> {
    return this.transition((runner) => runner.complete(stepId, attempt, outcome));
  }

  /** A consumer failed on its own account: let the next delivery claim the attempt at once. */
  async releaseClaim(stepId: string, attempt: number): Promise<void> {
    await this.transition((runner) => runner.release(stepId, attempt));
  }

  async suspendStep(stepId: string, attempt: number, suspension: AgentSuspension): Promise<boolean> {
    return this.transition((runner) => runner.suspend(stepId, attempt, suspension));
  }

  /** A child execution (started by one of this execution's agent steps) has ended. */
  async childFinished(stepId: string, result: ChildResult): Promise<boolean> {
    return this.transition((runner) => runner.childFinished(stepId, result));
  }

  async deadLetter(stepId: string, attempt: number): Promise<boolean> {
    return this.transition((runner) => runner.deadLetter(stepId, attempt));
  }

  async control(request: ControlRequest): Promise<ControlResult> {
    return this.transition((runner) => runner.control(request));
  }

  async decide(request: DecisionRequest): Promise<ControlResult> {
    return this.transition((runner) => runner.decide(request));
  }

  snapshot(): Snapshot {
    const record = this.store.execution();
    if (!record) throw new Error("execution not started");
    const { definition: _definition, ...execution } = record;
    return { execution: { ...execution, steps: this.store.steps() }, seq: this.store.lastSeq() };
  }

  /** The watchdog's poke: re-drive lost step messages, flush, and make sure the alarm is set. */
  async watchdog(): Promise<{ started: boolean; status: string | null; redriven: number; unflushed: number }> {
    if (!this.store.execution()) return { started: false, status: null, redriven: 0, unflushed: 0 };
    const redriven = await this.transition((runner) => runner.redriveLost());
    await this.flush();
    return {
      started: true,
      status: this.store.execution()?.status ?? null,
      redriven,
      unflushed: this.store.lastSeq() - this.store.flushedSeq(),
    };
  }

  async alarm(): Promise<void> {
    const due = this.store.dueTimers(Date.now());
    await this.transition((runner) => {
      for (const timer of due) {
        // Removed before it fires, so the handler may arm a timer with the same key.
        if (this.store.timer(timer.key)?.due === timer.due)
          this.store.deleteTimer(timer.kind, timer.stepId ?? undefined);
        if (timer.kind !== "flush" && timer.kind !== "notify_parent")
          runner.onTimer(timer.kind, timer.stepId, timer.attempt);
      }
    });
    const notify = due.find((timer) => timer.kind === "notify_parent");
    if (notify) await this.notifyParent(notify.attempt ?? 0);
    if (due.some((timer) => timer.kind === "flush")) await this.flush();
  }

  /** Tells the parent execution's agent step that this child ended, until it has listened. */
  private async notifyParent(tries: number): Promise<void> {
    const record = this.store.execution();
    if (!record?.parent) return;
    const result: ChildResult = {
      executionId: record.id,
      status: record.status,
      output: record.output,
      error: record.error,
    };
    try {
      const parent = executionStub(this.env, record.parent.executionId);
      if (await parent.childFinished(record.parent.stepId, result)) return;
    } catch (error) {
      logEvent("warn", "parent_notification_failed", { executionId: record.id, tries, ...describeError(error) });
    }
    const delay = Math.min(1000 * 2 ** tries, 60_000);
    this.store.setTimer({ kind: "notify_parent", due: Date.now() + delay, stepId: null, attempt: tries + 1 });
    await this.armAlarm();
  }

  /** Runs one synchronous transition, then its effects. */
  private async transition<T>(change: (runner: ExecutionRunner) => T): Promise<T> {
    const runner = new ExecutionRunner(this.store);
    const result = change(runner);
    const { enqueue, events, finished } = runner.effects;
    if (finished && runner.execution?.parent) {
      this.store.setTimer({ kind: "notify_parent", due: Date.now(), stepId: null, attempt: 0 });
    }
    if (events.length > 0 && !this.store.timer("flush")) {
      this.store.setTimer({ kind: "flush", due: Date.now() + FLUSH_SAFETY_MS, stepId: null, attempt: null });
    }
    await this.armAlarm();
    for (const event of events) this.broadcast(eventMessage(event));
    if (enqueue.length > 0) await this.sendStepMessages(enqueue, runner.execution?.id ?? "");
    if (events.length > 0) this.ctx.waitUntil(this.flush());
    return result;
  }

  /** Sends to every viewer; a dead or slow socket never holds up the others. */
  private broadcast(message: StreamMessage): void {
    const text = JSON.stringify(message);
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(text);
      } catch {
        // Closed between listing and sending: the runtime reports its close separately.
      }
    }
  }

  private async sendStepMessages(messages: ExecutionRunner["effects"]["enqueue"], executionId: string): Promise<void> {
    try {
      await this.env.STEPS_QUEUE.sendBatch(
        messages.map((message) => ({
          body: { executionId, ...message } satisfies StepMessage,
          contentType: "json" as const,
        })),
      );
      new ExecutionRunner(this.store).markDispatched(messages.map((message) => message.stepId));
      await this.armAlarm();
    } catch (error) {
      // The dispatch timer re-sends them.
      logEvent("warn", "step_dispatch_failed", { executionId, ...describeError(error) });
    }
  }

  /** Drains the outbox; on failure, retries from the alarm with backoff. Single-flight. */
  private flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    const config = settings(this.env);
    const session = openPlatformDatabase(config, { max: 1 });
    try {
      while ((await flushOnce(this.store, session.db)) > 0) {
        // keep draining
      }
      this.flushFailures = 0;
      if (this.store.lastSeq() === this.store.flushedSeq()) this.store.deleteTimer("flush");
    } catch (error) {
      this.flushFailures += 1;
      const delay = Math.min(FLUSH_RETRY_MS.first * 2 ** (this.flushFailures - 1), FLUSH_RETRY_MS.max);
      this.store.setTimer({ kind: "flush", due: Date.now() + delay, stepId: null, attempt: null });
      logEvent("warn", "outbox_flush_failed", {
        executionId: this.store.execution()?.id,
        retryInMs: delay,
        ...describeError(error),
      });
    } finally {
      await this.armAlarm();
      this.ctx.waitUntil(session.close());
    }
  }

  private async armAlarm(): Promise<void> {
    const next = this.store.nextDue();
    const current = await this.ctx.storage.getAlarm();
    if (next === null) {
      if (current !== null) await this.ctx.storage.deleteAlarm();
    } else if (current !== next) {
      await this.ctx.storage.setAlarm(next);
    }
  }
}

function send(socket: WebSocket, message: StreamMessage): void {
  socket.send(JSON.stringify(message));
}
