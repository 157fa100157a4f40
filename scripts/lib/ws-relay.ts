/**
 * WebSocket-to-TCP relay so the Neon serverless driver (which speaks Postgres over WebSocket)
 * reaches a plain local PostgreSQL, as Neon's own proxy does in production. Like Neon it has two
 * endpoints: the pooled one (`/pooled`, a transaction-mode pooler bounding Postgres connections)
 * for everything but backups, and the direct one (`/v2`, one Postgres connection per client).
 */
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { connect, type Socket } from "node:net";
import type { WebSocket, WebSocketServer as WebSocketServerType } from "ws";
import { farEdge } from "./far-edge.ts";
import { createPooler } from "./pg-pooler.ts";

// Loaded through require: bundlers that prefer the "browser" export condition (vitest's
// workerd project) would otherwise resolve ws to its browser stub.
const { WebSocketServer } = createRequire(import.meta.url)("ws") as {
  WebSocketServer: typeof WebSocketServerType;
};

export interface Relay {
  port: number;
  /** `GET` answers `{ roundTrips, latencyMs }`: the round trips clients have made so far. */
  statsUrl: string;
  /** `host:port/path` for `neonConfig.wsProxy`: the pooled endpoint (NEON_WS_PROXY). */
  wsProxy: string;
  /** The direct endpoint (NEON_DIRECT_WS_PROXY): session state kept, for backups. */
  directWsProxy: string;
  /** Drops every open connection and refuses new ones until `up()` (outage drills in tests). */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export interface RelayOptions {
  port: number;
  /** The only `host:port` the relay forwards to, so it never becomes an open proxy. */
  target: string;
  /** Serves `POST /control/down|stall|up` so tests running inside workerd can cut the database. */
  controllable?: boolean;
  /** Postgres connections the pooled endpoint shares among its clients. */
  poolSize?: number;
  /** What each round trip costs, as from a far edge (NEON_RELAY_LATENCY_MS; default 0). */
  latencyMs?: number;
}

/** Neon's pooled endpoint allows up to 90% of the compute's connections; locally a round 40. */
const DEFAULT_POOL_SIZE = 40;

export async function startRelay(options: RelayOptions): Promise<Relay> {
  const [targetHost, targetPort] = splitHostPort(options.target);
  const open = new Set<{ ws: WebSocket; tcp: Socket }>();
  const pooler = createPooler({ host: targetHost, port: targetPort, size: options.poolSize ?? DEFAULT_POOL_SIZE });
  let isDown = false;
  /** A half-open network: connections are taken and never answered, and stay so after `up`. */
  let isStalled = false;
  const stalled = new Set<WebSocket>();
  const edge = farEdge(options.latencyMs ?? 0);

  const dropAll = () => {
    for (const pair of open) {
      pair.tcp.destroy();
      pair.ws.terminate();
    }
    open.clear();
    pooler.dropAll();
  };

  const server: Server = createServer((req, res) => {
    if (options.controllable && req.method === "POST" && req.url === "/control/down") {
      isDown = true;
      dropAll();
      res.writeHead(204).end();
    } else if (options.controllable && req.method === "POST" && req.url === "/control/stall") {
      isStalled = true;
      dropAll();
      res.writeHead(204).end();
    } else if (options.controllable && req.method === "POST" && req.url === "/control/up") {
      isDown = false;
      isStalled = false;
      res.writeHead(204).end();
    } else if (req.method === "GET" && req.url === "/stats") {
      // The bench reads round trips before and after a request (the relay listens on loopback only).
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ roundTrips: edge.roundTrips(), latencyMs: edge.latencyMs }));
    } else {
      res.writeHead(404).end();
    }
  });
  const wss = new WebSocketServer({ server });

  wss.on("connection", (ws, req) => {
    const url = new URL(req.url ?? "", "http://relay");
    const address = url.searchParams.get("address");
    const endpoint = ENDPOINTS[url.pathname];
    if (isDown || !endpoint || !address || !sameTarget(address, targetHost, targetPort)) {
      ws.close(1008, "refused");
      return;
    }
    if (isStalled) {
      stalled.add(ws);
      return;
    }
    edge.attach(ws);
    if (endpoint === "pooled") return pooler.accept(ws);
    const tcp = connect({ host: targetHost, port: targetPort, noDelay: true });
    const pair = { ws, tcp };
    open.add(pair);
    const pending: Buffer[] = [];
    let connected = false;
    tcp.on("connect", () => {
      connected = true;
      for (const chunk of pending) tcp.write(chunk);
      pending.length = 0;
    });
    tcp.on("data", (data) => ws.readyState === ws.OPEN && ws.send(data));
    const closeBoth = () => {
      open.delete(pair);
      tcp.destroy();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
    };
    tcp.on("error", closeBoth);
    tcp.on("close", closeBoth);
    ws.on("message", (data: Buffer) => (connected ? tcp.write(data) : pending.push(data)));
    ws.on("close", closeBoth);
    ws.on("error", closeBoth);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    statsUrl: `http://127.0.0.1:${port}/stats`,
    wsProxy: `127.0.0.1:${port}/pooled`,
    directWsProxy: `127.0.0.1:${port}/v2`,
    down: () => {
      isDown = true;
      dropAll();
    },
    up: () => {
      isDown = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        for (const ws of stalled) ws.terminate();
        pooler.close();
        wss.close();
        server.close(() => resolve());
      }),
  };
}

const ENDPOINTS: Record<string, "pooled" | "direct" | undefined> = { "/pooled": "pooled", "/v2": "direct" };

function splitHostPort(value: string): [string, number] {
  const index = value.lastIndexOf(":");
  return [value.slice(0, index), Number(value.slice(index + 1))];
}

const LOOPBACK = ["localhost", "127.0.0.1", "::1"];

/** The driver names the host from DATABASE_URL; it must be the one database the relay serves. */
function sameTarget(address: string, targetHost: string, targetPort: number): boolean {
  const [host, port] = splitHostPort(address);
  const sameHost = host === targetHost || (LOOPBACK.includes(host) && LOOPBACK.includes(targetHost));
  return port === targetPort && sameHost;
}
