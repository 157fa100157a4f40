/**
 * A transaction-mode connection pooler behind the local relay, standing in for Neon's pooled
 * endpoint (PgBouncer, pool_mode=transaction): any number of clients share at most `size`
 * Postgres connections per (user, database). A client holds a connection from its first message
 * until Postgres reports it idle outside a transaction, then gives it back; so, as on Neon's pooled
 * endpoint, session state (session advisory locks, SET without LOCAL, LISTEN) does not survive a
 * transaction, and what needs it uses the direct path. Clients past the bound wait their turn.
 */
import { connect, type Socket } from "node:net";
import type { WebSocket } from "ws";
import {
  CANCEL_REQUEST_CODE,
  cleartextPasswordRequest,
  errorResponse,
  FrameReader,
  passwordMessage,
  passwordText,
  readStartup,
  SSL_REQUEST_CODE,
  startupPacket,
} from "./pg-frames.ts";

export interface PoolerOptions {
  host: string;
  port: number;
  /** Postgres connections per (user, database), as PgBouncer's default_pool_size. */
  size: number;
  /** An idle connection is closed after this long (PgBouncer's server_idle_timeout). */
  idleMs?: number;
}

export interface Pooler {
  accept(ws: WebSocket): void;
  /** Drops every client and every Postgres connection (the relay's outage drills). */
  dropAll(): void;
  close(): void;
}

/** The application_name of pooled connections in pg_stat_activity. */
export const POOLER_APPLICATION_NAME = "ipa-local-pooler";

const MESSAGE = { sync: 0x53, query: 0x51, functionCall: 0x46, terminate: 0x58, ready: 0x5a, password: 0x70 };
const IDLE = 0x49;

interface Backend {
  socket: Socket;
  reader: FrameReader;
  session: ClientSession | null;
  idleSince: number;
}

/** A failure to hand a client a connection, with the ErrorResponse its client is sent. */
class PoolerError extends Error {
  readonly response: Buffer;

  constructor(response: Buffer) {
    super("pooler error");
    this.response = response;
  }
}

export function createPooler(options: PoolerOptions): Pooler {
  const pools = new Map<string, BackendPool>();
  const sessions = new Set<ClientSession>();
  const idleMs = options.idleMs ?? 30_000;
  const sweep = setInterval(() => {
    for (const pool of pools.values()) pool.closeIdleBefore(Date.now() - idleMs);
  }, 5_000);
  sweep.unref();

  const poolFor = (user: string, database: string) => {
    const key = `${user}\0${database}`;
    let pool = pools.get(key);
    if (!pool) {
      pool = new BackendPool(options, user, database);
      pools.set(key, pool);
    }
    return pool;
  };
  const dropAll = () => {
    for (const session of sessions) session.close();
    for (const pool of pools.values()) pool.closeAll();
  };
  return {
    accept: (ws) => {
      const session = new ClientSession(ws, poolFor, () => sessions.delete(session));
      sessions.add(session);
    },
    dropAll,
    close: () => {
      clearInterval(sweep);
      dropAll();
    },
  };
}

/** The Postgres connections of one (user, database). */
class BackendPool {
  private readonly idle: Backend[] = [];
  private readonly waiters: Array<{ resolve: (backend: Backend) => void; reject: (error: Error) => void }> = [];
  private readonly all = new Set<Backend>();
  private opening = 0;
  private password: string | null = null;
  private greeting: Buffer | null = null;
  private readonly checking = new Map<string, Promise<Buffer>>();

  private readonly options: PoolerOptions;
  private readonly user: string;
  private readonly database: string;

  constructor(options: PoolerOptions, user: string, database: string) {
    this.options = options;
    this.user = user;
    this.database = database;
  }

  /**
   * Checks a client's password by the one Postgres accepted (a new one is tried against Postgres)
   * and returns what Postgres said after authenticating, for the client to hear the same.
   */
  authenticate(password: string): Promise<Buffer> {
    if (this.greeting && password === this.password) return Promise.resolve(this.greeting);
    // Clients arriving together with one password wait on one check, not one connection each.
    let check = this.checking.get(password);
    if (!check) {
      check = this.open(password).then((backend) => {
        this.password = password;
        this.release(backend);
        return this.greeting as Buffer;
      });
      const forget = () => this.checking.delete(password);
      check.then(forget, forget);
      this.checking.set(password, check);
    }
    return check;
  }

  acquire(): Promise<Backend> {
    const backend = this.idle.pop();
    if (backend) return Promise.resolve(backend);
    if (this.all.size + this.opening < this.options.size) return this.open(this.password ?? "");
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(backend: Backend): void {
    backend.session = null;
    if (!this.all.has(backend)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(backend);
      return;
    }
    backend.idleSince = Date.now();
    this.idle.push(backend);
  }

  /** Closes a connection whose state is unknown (its client left mid-query) or that failed. */
  discard(backend: Backend): void {
    if (!this.all.delete(backend)) return;
    backend.session = null;
    const index = this.idle.indexOf(backend);
    if (index >= 0) this.idle.splice(index, 1);
    backend.socket.destroy();
    const waiter = this.waiters.shift();
    if (waiter) this.open(this.password ?? "").then(waiter.resolve, waiter.reject);
  }

  closeIdleBefore(time: number): void {
    for (const backend of this.idle.filter((each) => each.idleSince < time)) this.discard(backend);
  }

  closeAll(): void {
    for (const backend of [...this.all]) this.discard(backend);
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error("the pool was closed"));
  }

  private async open(password: string): Promise<Backend> {
    this.opening += 1;
    try {
      const { socket, reader, greeting } = await startBackend(this.options, this.user, this.database, password);
      this.greeting ??= greeting;
      const backend: Backend = { socket, reader, session: null, idleSince: Date.now() };
      this.all.add(backend);
      socket.on("data", (chunk: Buffer) => {
        const messages = reader.push(chunk);
        // An idle connection's messages (a notice, a FATAL before Postgres closes it) have no reader.
        if (messages.length > 0) backend.session?.fromBackend(messages);
      });
      const lost = () => {
        const session = backend.session;
        this.discard(backend);
        session?.close();
      };
      socket.on("error", lost);
      socket.on("close", lost);
      return backend;
    } finally {
      this.opening -= 1;
    }
  }
}

/** Opens and authenticates one Postgres connection; resolves at its first ReadyForQuery. */
function startBackend(
  options: PoolerOptions,
  user: string,
  database: string,
  password: string,
): Promise<{ socket: Socket; reader: FrameReader; greeting: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host, port: options.port, noDelay: true });
    const reader = new FrameReader();
    const greeting: Buffer[] = [];
    const fail = (error: Error) => {
      detach();
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error) => fail(new PoolerError(errorResponse("08006", error.message)));
    const onClose = () => fail(new PoolerError(errorResponse("08006", "the database closed the connection")));
    const onData = (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        const type = message[0];
        if (type === 0x52 && message.readInt32BE(5) === 3) {
          socket.write(passwordMessage(password));
        } else if (type === 0x52 && message.readInt32BE(5) !== 0) {
          // Local Postgres is set up for cleartext passwords, as Neon's proxy speaks.
          fail(new PoolerError(errorResponse("28000", "the local pooler speaks only cleartext passwords")));
        } else if (type === 0x45) {
          fail(new PoolerError(message));
        } else {
          greeting.push(message);
          if (type === MESSAGE.ready) {
            detach();
            resolve({ socket, reader, greeting: Buffer.concat(greeting) });
          }
        }
      }
    };
    const detach = () => {
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.on("connect", () =>
      socket.write(startupPacket({ user, database, application_name: POOLER_APPLICATION_NAME })),
    );
  });
}

/** One client's WebSocket: its handshake, answered here, then its messages on a borrowed connection. */
class ClientSession {
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
      (error: Error) =>
        this.fail(error instanceof PoolerError ? error.response : errorResponse("08006", error.message)),
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
      (error: Error) =>
        this.fail(error instanceof PoolerError ? error.response : errorResponse("08006", error.message)),
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
      this.idle = message[5] === IDLE;
    }
    if (this.outstanding === 0 && this.idle && this.backend && this.pool) {
      const backend = this.backend;
      this.backend = null;
      this.pool.release(backend);
    }
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
