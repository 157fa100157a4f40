/**
 * A transaction-mode connection pooler behind the local relay, standing in for Neon's pooled
 * endpoint (PgBouncer, pool_mode=transaction): any number of clients share at most `size`
 * Postgres connections per (user, database). A client holds a connection from its first message
 * until Postgres reports it idle outside a transaction, then gives it back; so, as on Neon's pooled
 * endpoint, session state (session advisory locks, SET without LOCAL, LISTEN) does not survive a
 * transaction, and what needs it uses the direct path. Clients past the bound wait their turn.
 */
import type { WebSocket } from "ws";
import { BackendPool, type BackendTarget } from "./pg-backends.ts";
import { ClientSession } from "./pg-client-session.ts";

export interface PoolerOptions extends BackendTarget {
  /** An idle connection is closed after this long (PgBouncer's server_idle_timeout). */
  idleMs?: number;
}

export interface Pooler {
  accept(ws: WebSocket): void;
  /** Drops every client and every Postgres connection (the relay's outage drills). */
  dropAll(): void;
  close(): void;
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
  // The pools first: a client closed while holding a connection would hand it to one still waiting.
  const dropAll = () => {
    for (const pool of pools.values()) pool.closeAll();
    for (const session of sessions) session.close();
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
