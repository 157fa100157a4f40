/**
 * The execution stream's messages (docs/engine.md). Numbered events and the snapshot carry `seq`, so a
 * client that reconnects with `after=N` misses nothing. `token` messages carry no seq: each says
 * where its text starts in the attempt's text (`offset`), and a viewer who connects mid-answer
 * first gets the text so far as one `replay`, so nothing is lost and nothing shown twice.
 */
import type { ExecutionEvent, Snapshot } from "./types";

export type StreamMessage =
  | { type: "snapshot"; seq: number; execution: Snapshot["execution"] }
  | { type: "event"; seq: number; event: ExecutionEvent["event"]; at: string; stepId: string | null; data: unknown }
  | { type: "token"; stepId: string; attempt: number; offset: number; text: string; replay?: true }
  | { type: "error"; message: string };

/** Close codes of docs/engine.md. */
export const CLOSE = {
  badTicket: 4401,
  notVisible: 4404,
  /** The execution has not started (queued): the snapshot was sent; reconnect later. */
  tryAgainLater: 1013,
} as const;

export function eventMessage(event: ExecutionEvent): StreamMessage {
  return {
    type: "event",
    seq: event.seq,
    event: event.event,
    at: event.at,
    stepId: event.stepId,
    data:
      event.level === "info" && event.message === null
        ? event.data
        : { ...asObject(event.data), level: event.level, message: event.message },
  };
}

function asObject(data: unknown): Record<string, unknown> {
  return data && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>) : { value: data };
}

/** Answers an upgrade with a socket that closes at once with `code` (refused tickets, 4404). */
export function refuseSocket(code: number, reason: string): Response {
  const pair = new WebSocketPair();
  const [client, server] = Object.values(pair);
  server.accept();
  server.close(code, reason);
  return new Response(null, { status: 101, webSocket: client });
}
