/**
 * The local relay as a far edge sees Postgres: each WebSocket message waits half of `latencyMs`
 * on its way in each direction, so every round trip costs `latencyMs` (NEON_RELAY_LATENCY_MS), and
 * round trips are counted — a round trip being the client speaking after the server last spoke (or
 * first), whatever the messages were: a connection's startup and authentication, a query, a
 * transaction's statements one by one. Pipelined messages count once.
 */
import type { WebSocket } from "ws";

export interface FarEdge {
  /** Wraps a client's WebSocket: its messages both ways are delayed and its round trips counted. */
  attach(ws: WebSocket): void;
  roundTrips(): number;
  readonly latencyMs: number;
}

export function farEdge(latencyMs: number): FarEdge {
  const half = Math.max(0, latencyMs) / 2;
  let roundTrips = 0;
  return {
    latencyMs: Math.max(0, latencyMs),
    roundTrips: () => roundTrips,
    attach(ws) {
      let clientSpokeLast = false;
      const emit = ws.emit.bind(ws);
      // Incoming: the client's messages, counted as a round trip when the server spoke last.
      ws.emit = ((event: string | symbol, ...args: unknown[]) => {
        if (event !== "message") return emit(event, ...args);
        // A Terminate closing the connection waits for no answer: not a round trip.
        if (!clientSpokeLast && !isTerminate(args[0])) roundTrips += 1;
        clientSpokeLast = true;
        if (half === 0) return emit(event, ...args);
        // Equal delays keep the messages' order (timers of one delay fire in the order set).
        setTimeout(() => emit(event, ...args), half);
        return true;
      }) as typeof ws.emit;
      const send = ws.send.bind(ws);
      ws.send = ((data: unknown, ...rest: unknown[]) => {
        clientSpokeLast = false;
        if (half === 0) return send(data as Buffer, ...(rest as []));
        setTimeout(() => {
          if (ws.readyState === ws.OPEN) send(data as Buffer, ...(rest as []));
        }, half);
      }) as typeof ws.send;
    },
  };
}

/** The Terminate message ('X', length 4): a client closing its connection. */
function isTerminate(data: unknown): boolean {
  return Buffer.isBuffer(data) && data.length === 5 && data[0] === 0x58 && data.readInt32BE(1) === 4;
}
