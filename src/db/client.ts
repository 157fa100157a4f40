/**
 * Database access through the Neon serverless driver (WebSocket Pool, so transactions work) and
 * drizzle. A session is opened per request or per job and closed with `waitUntil`, because an
 * I/O object cannot outlive the request that created it in workerd.
 */
import { Client, Pool, type PoolClient } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import { ConfigurationError, type Settings } from "../config";
import { directConnectionString, pooledConnectionString } from "./endpoints";

// No relational schema: nothing uses `db.query`, and drizzle would rebuild its relational
// config on every session (4% of the isolate's CPU under a stream of starts).
export type Database = NeonDatabase;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Either the database or an open transaction: services accept both. */
export type Queryable = Database | Transaction;

export interface DatabaseSession {
  db: Database;
  pool: Pool;
  close(): Promise<void>;
}

export interface ConnectionOptions {
  connectionString: string;
  /** `host:port/path` of a local WebSocket-to-TCP relay; unset against Neon. */
  wsProxy?: string;
  /** Connection attempt timeout. */
  connectTimeoutMs?: number;
  max?: number;
}

export function openDatabase(options: ConnectionOptions): DatabaseSession {
  const pool = new Pool({
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    max: options.max ?? 5,
  });
  if (options.wsProxy) pool.Client = relayedClient(options.wsProxy);
  // A client that loses its socket (a database restart, a dropped relay) fails its query; the
  // stray 'error' events that follow must not surface as uncaught exceptions.
  pool.on("error", () => {});
  pool.on("connect", (client: PoolClient) => client.on("error", () => {}));
  let closed = false;
  return {
    db: drizzle({ client: pool }),
    pool,
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end().catch(() => {});
    },
  };
}

/**
 * A session against the platform's database on its pooled endpoint (DATABASE_URL's, through the
 * local relay's pooled endpoint when NEON_WS_PROXY is set). Session state does not outlive a
 * transaction there; what needs it opens the direct endpoint.
 */
export function openPlatformDatabase(
  config: Settings,
  options: Partial<Omit<ConnectionOptions, "wsProxy" | "connectionString">> = {},
): DatabaseSession {
  return openDatabase({
    connectionString: pooledConnectionString(config.DATABASE_URL),
    ...options,
    wsProxy: config.NEON_WS_PROXY,
  });
}

/**
 * A session on the direct endpoint of `databaseUrl` (by default the platform's), for backups and
 * their verification: one snapshot in one long transaction, session settings, a session lock.
 */
export function openDirectDatabase(
  config: Settings,
  options: Partial<Omit<ConnectionOptions, "wsProxy" | "connectionString">> & { databaseUrl?: string } = {},
): DatabaseSession {
  const { databaseUrl, ...rest } = options;
  // Behind a local relay the pooled path shares connections between transactions: a backup's
  // session settings and session lock need the relay's direct path, never the pooled one instead.
  if (config.NEON_WS_PROXY && !config.NEON_DIRECT_WS_PROXY)
    throw new ConfigurationError([
      "NEON_DIRECT_WS_PROXY: must be set with NEON_WS_PROXY (backups need a direct connection, not the pooled one)",
    ]);
  return openDatabase({
    connectionString: directConnectionString(databaseUrl ?? config.DATABASE_URL),
    ...rest,
    wsProxy: config.NEON_DIRECT_WS_PROXY ?? config.NEON_WS_PROXY,
  });
}

const relayedClients = new Map<string, typeof Client>();

/**
 * A Client class that reaches Postgres through a plain-WebSocket relay. Set per client rather
 * than on the global `neonConfig`, so one isolate can use two relays (the outage tests do).
 */
function relayedClient(wsProxy: string): typeof Client {
  let RelayedClient = relayedClients.get(wsProxy);
  if (!RelayedClient) {
    RelayedClient = class extends Client {
      constructor(...args: ConstructorParameters<typeof Client>) {
        super(...args);
        this.neonConfig.wsProxy = wsProxy;
        this.neonConfig.useSecureWebSocket = false;
        this.neonConfig.pipelineTLS = false;
      }
    };
    relayedClients.set(wsProxy, RelayedClient);
  }
  return RelayedClient;
}
