/**
 * The client side of the local pooler: one WebSocket's handshake, answered by the pooler itself
 * (cleartext password, checked against Postgres), then its messages on a borrowed connection,
 * given back when Postgres is idle outside a transaction with nothing outstanding.
 */
import type { WebSocket } from "ws";
import { type Backend, type BackendHolder, type BackendPool, PoolerError } from "./pg-backends.ts";
import {
  CANCEL_REQUEST_CODE,
  cleartextPasswordRequest,
  errorResponse,
  FrameReader,
  IDLE_STATUS,
  MESSAGE,
  passwordText,
  readStartup,
  SSL_REQUEST_CODE,
} from "./pg-frames.ts";

/** One client's WebSocket: its handshake, answered here, then its messages on a borrowed connection. */
export class ClientSession implements BackendHolder {
  private readonly reader = new FrameReader(true);
  private phase: "startup" | "password" | "authenticating" | "ready" | "closed" = "startup";
  private pool: BackendPool | null = null;
  private user = "";
  private database = "";
  private pending: Buffer[] = [];
  private backend: Backend | null = null;
  private acquiring = false;
  /** Syncs and simple queries sent whose ReadyForQuery has not come back. */
  private outstanding = 0;
  private idle = true;

  private readonly ws: WebSocket;
  private readonly poolFor: (user: string, database: string) => BackendPool;
  private readonly onClose: () => void;

  constructor(ws: WebSocket, poolFor: (user: string, database: string) => BackendPool, onClose: () => void) {
    this.ws = ws;
    this.poolFor = poolFor;
    this.onClose = onClose;
    ws.on("message", (data: Buffer) => {
      for (const message of this.reader.push(data)) this.receive(message);
      // One write per chunk received, not per message: small writes in a row wait on Nagle.
      if (this.phase === "ready") this.pump();
    });
    ws.on("close", () => this.close());
    ws.on("error", () => this.close());
  }

  private receive(message: Buffer): void {
    switch (this.phase) {
      case "startup":
        this.startup(message);
        return;
      case "password":
        this.authenticate(message);
        return;
      case "authenticating":
      case "ready":
        if (message[0] === MESSAGE.terminate) {
          this.close();
          return;
        }
        this.pending.push(message);
        return;
      case "closed":
        return;
    }
  }

  private startup(packet: Buffer): void {
    const { code, parameters } = readStartup(packet);
    if (code === SSL_REQUEST_CODE) {
      this.reader.expectUntyped();
      this.ws.send(Buffer.from("N"));
      return;
    }
    // Cancel requests are not forwarded: the key a client holds is not its connection's.
    if (code === CANCEL_REQUEST_CODE) {
      this.close();
      return;
    }
    this.user = parameters.get("user") ?? "";
    this.database = parameters.get("database") ?? this.user;
    this.phase = "password";
    this.ws.send(cleartextPasswordRequest());
  }

  private authenticate(message: Buffer): void {
    if (message[0] !== MESSAGE.password) {
      this.fail(errorResponse("08P01", "expected a password message"));
      return;
    }
    this.phase = "authenticating";
    const pool = this.poolFor(this.user, this.database);
    pool.authenticate(passwordText(message)).then(
      (greeting) => {
        if (this.phase === "closed") return;
        this.pool = pool;
        this.ws.send(greeting);
        this.phase = "ready";
        this.pump();
      },
      (error: Error) => this.failWith(error),
    );
  }

  /** Sends what waits on the connection this client holds, borrowing one first if it holds none. */
  private pump(): void {
    if (this.pending.length === 0 || !this.pool) return;
    if (this.backend) {
      this.forward(this.backend);
      return;
    }
    if (this.acquiring) return;
    this.acquiring = true;
    const pool = this.pool;
    pool.acquire().then(
      (backend) => {
        this.acquiring = false;
        if (this.phase === "closed") {
          pool.release(backend);
          return;
        }
        this.backend = backend;
        backend.session = this;
        this.forward(backend);
      },
      (error: Error) => this.failWith(error),
    );
  }

  private forward(backend: Backend): void {
    for (const message of this.pending) {
      const type = message[0];
      if (type === MESSAGE.sync || type === MESSAGE.query || type === MESSAGE.functionCall) this.outstanding += 1;
    }
    backend.socket.write(this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending));
    this.pending = [];
    this.idle = false;
  }

  /** Messages from the held connection; it goes back once Postgres is idle with nothing asked. */
  fromBackend(messages: Buffer[]): void {
    if (this.ws.readyState === this.ws.OPEN)
      this.ws.send(messages.length === 1 ? messages[0] : Buffer.concat(messages));
    for (const message of messages) {
      if (message[0] !== MESSAGE.ready) continue;
      this.outstanding -= 1;
      this.idle = message[5] === IDLE_STATUS;
    }
    if (this.outstanding === 0 && this.idle && this.backend && this.pool) {
      const backend = this.backend;
      this.backend = null;
      this.pool.release(backend);
    }
  }

  /** A pooler error carries Postgres's own answer; anything else is a broken connection. */
  private failWith(error: Error): void {
    this.fail(error instanceof PoolerError ? error.response : errorResponse("08006", error.message));
  }

  private fail(response: Buffer): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(response);
    this.close();
  }

  close(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    const backend = this.backend;
    this.backend = null;
    if (backend && this.pool) {
      // Mid-query or inside a transaction its state is unknown: the next client must not inherit it.
      if (this.outstanding === 0 && this.idle) this.pool.release(backend);
      else this.pool.discard(backend);
    }
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close();
    this.onClose();
  }
}
