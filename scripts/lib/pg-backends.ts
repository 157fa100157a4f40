/**
 * The Postgres side of the local pooler: per (user, database) a bounded set of authenticated
 * connections, lent to one client at a time, with clients past the bound waiting in order.
 */
import { connect, type Socket } from "node:net";
import { errorResponse, FrameReader, MESSAGE, queryMessage, startupPacket } from "./pg-frames.ts";
import { PasswordAuthError, passwordAuthenticator } from "./pg-password-auth.ts";

export interface BackendTarget {
  host: string;
  port: number;
  /** Postgres connections per (user, database), as PgBouncer's default_pool_size. */
  size: number;
}

/** The application_name of pooled connections in pg_stat_activity. */
const POOLER_APPLICATION_NAME = "ipa-local-pooler";

/** Whoever holds a connection: hears its messages, and is closed when it is lost. */
export interface BackendHolder {
  fromBackend(messages: Buffer[]): void;
  close(): void;
}

export interface Backend {
  socket: Socket;
  reader: FrameReader;
  session: BackendHolder | null;
  idleSince: number;
}

/** A failure to hand a client a connection, with the ErrorResponse its client is sent. */
export class PoolerError extends Error {
  readonly response: Buffer;

  constructor(response: Buffer) {
    super("pooler error");
    this.response = response;
  }
}

/** The Postgres connections of one (user, database). */
export class BackendPool {
  private readonly idle: Backend[] = [];
  private readonly waiters: Array<{ resolve: (backend: Backend) => void; reject: (error: Error) => void }> = [];
  private readonly all = new Set<Backend>();
  private opening = 0;
  private password: string | null = null;
  private greeting: Buffer | null = null;
  private readonly checking = new Map<string, Promise<Buffer>>();

  private readonly options: BackendTarget;
  private readonly user: string;
  private readonly database: string;

  constructor(options: BackendTarget, user: string, database: string) {
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

  /**
   * A connection its client is done with (idle, outside a transaction) is reset before anyone else
   * gets it — `DISCARD ALL`: session settings, prepared statements, temporary tables and session
   * advisory locks a client left behind never reach the next (a stricter pooler than PgBouncer's
   * transaction mode, whose reset runs only in session mode).
   */
  release(backend: Backend): void {
    if (!this.all.has(backend)) return;
    backend.session = {
      fromBackend: (messages) => {
        if (messages.some((message) => message[0] === MESSAGE.ready)) this.lend(backend);
      },
      close: () => {},
    };
    backend.socket.write(queryMessage("DISCARD ALL"));
  }

  /** A reset connection to the next waiter, else to the idle ones. */
  private lend(backend: Backend): void {
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
    // Waiters first: a discard hands its place to the next waiter with a fresh connection.
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error("the pool was closed"));
    for (const backend of [...this.all]) this.discard(backend);
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
  options: BackendTarget,
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
    const authenticate = passwordAuthenticator(user, password);
    const onData = (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        const type = message[0];
        if (type === MESSAGE.authentication && message.readInt32BE(5) !== 0) {
          try {
            const reply = authenticate(message);
            if (reply) socket.write(reply);
          } catch (error) {
            if (!(error instanceof PasswordAuthError)) throw error;
            fail(new PoolerError(errorResponse("28000", error.message)));
          }
        } else if (type === MESSAGE.error) {
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
