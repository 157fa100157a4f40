/**
 * One execution's stream, as docs/engine.md describes it: a single-use ticket, then a WebSocket that
 * sends a snapshot and numbered events. After any disconnect it reconnects with `after=<last seq>`,
 * so no event is missed and none is applied twice (anything at or below the last seq is dropped).
 * A `ping` every 20 s keeps it honest: no `pong` within 10 s counts as a disconnect.
 */
import { post } from "../api/client";
import type { Execution } from "../api/types";

export interface StreamEvent {
  type: "event";
  seq: number;
  event: string;
  at: string;
  stepId: string | null;
  data: Record<string, unknown> | null;
}

export interface TokenMessage {
  type: "token";
  stepId: string;
  text: string;
  attempt?: number;
  offset?: number;
  replay?: boolean;
}

export type StreamState = "connecting" | "live" | "waiting" | "reconnecting" | "closed";

export interface StreamHandlers {
  snapshot(execution: Execution, seq: number): void;
  event(event: StreamEvent): void;
  token(message: TokenMessage): void;
  state(state: StreamState, detail?: string): void;
}

const PING_MS = 20_000;
const PONG_WAIT_MS = 10_000;
const MAX_BACKOFF_MS = 10_000;
/** Close codes after which reconnecting cannot help (docs/engine.md). */
const NOT_VISIBLE = 4404;
/** "Try again later": the execution has not started (queued), so the server sent its snapshot and closed. */
const NOT_STARTED = 1013;
/** How often a page asks again whether a queued execution has started: calm, since it may wait long. */
const NOT_STARTED_RETRY_MS = 2_000;

export class ExecutionStream {
  private lastSeq = 0;
  private socket: WebSocket | null = null;
  private stopped = false;
  private failures = 0;
  /** Between "try again later" closes the page shows one steady "waiting", not a flicker of states. */
  private waitingForStart = false;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly executionId: string,
    private readonly handlers: StreamHandlers,
  ) {}

  /** The last event applied (the `after` of the next connection). */
  get seq(): number {
    return this.lastSeq;
  }

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.socket?.close(1000, "page left");
    this.handlers.state("closed");
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    if (!this.waitingForStart) this.handlers.state(this.lastSeq ? "reconnecting" : "connecting");
    let ticket: string;
    try {
      ticket = (await post<{ ticket: string }>(`/executions/${this.executionId}/stream-ticket`)).ticket;
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 401 || status === 403 || status === 404) return this.end("not allowed to watch this execution");
      return this.retry();
    }
    const url = new URL(`/api/v1/executions/${this.executionId}/stream`, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", ticket);
    if (this.lastSeq) url.searchParams.set("after", String(this.lastSeq));
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.failures = 0;
      if (!this.waitingForStart) this.handlers.state("live");
      this.pingTimer = setInterval(() => this.ping(), PING_MS);
    });
    socket.addEventListener("message", (message) => this.receive(String(message.data)));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.clearTimers();
      this.socket = null;
      if (event.code === NOT_VISIBLE) return this.end("this execution is no longer visible to you");
      if (event.code === NOT_STARTED) return this.waitForStart();
      this.retry();
    });
  }

  private receive(text: string): void {
    if (text === "pong") {
      clearTimeout(this.pongTimer);
      return;
    }
    const message = JSON.parse(text) as { type: string; seq?: number };
    if (message.type === "snapshot") {
      const snapshot = message as unknown as { seq: number; execution: Execution };
      this.lastSeq = snapshot.seq;
      this.handlers.snapshot(snapshot.execution, snapshot.seq);
      if (this.waitingForStart && snapshot.execution.status !== "queued") {
        this.waitingForStart = false;
        this.handlers.state("live");
      }
    } else if (message.type === "event") {
      const event = message as StreamEvent;
      if (event.seq <= this.lastSeq) return;
      this.lastSeq = event.seq;
      this.handlers.event(event);
    } else if (message.type === "token") {
      this.handlers.token(message as TokenMessage);
    }
  }

  private ping(): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send("ping");
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => this.socket?.close(4000, "no pong"), PONG_WAIT_MS);
  }

  private retry(): void {
    if (this.stopped) return;
    this.failures++;
    const wait = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(this.failures, 6));
    this.handlers.state("reconnecting");
    setTimeout(() => void this.connect(), wait);
  }

  private waitForStart(): void {
    if (this.stopped) return;
    if (!this.waitingForStart) this.handlers.state("waiting", "the execution has not started");
    this.waitingForStart = true;
    setTimeout(() => void this.connect(), NOT_STARTED_RETRY_MS);
  }

  private end(detail: string): void {
    this.stopped = true;
    this.clearTimers();
    this.handlers.state("closed", detail);
  }

  private clearTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }
}
