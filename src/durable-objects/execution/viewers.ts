/**
 * The execution's viewers (docs/engine.md stream): admitting a WebSocket with a snapshot or the events
 * after `after=N` and the agent text streaming now, and fanning events out to every open socket.
 */
import type { ExecutionStore } from "./store";
import { eventMessage, type StreamMessage } from "./stream-protocol";
import type { Snapshot } from "./types";
import { boundedSnapshot } from "./views";

/** Who watches: checked again while the socket is open (docs/api.md: a revoked viewer is dropped within 60 s). */
export interface Viewer {
  userId: string;
  sessionId: string | null;
  credential: "session" | "api_token";
}

/** The Worker names the admitted viewer to the object in this header (it builds the request itself). */
export const VIEWER_HEADER = "x-ipa-viewer";

/**
 * Without `after` the viewer gets a snapshot, then live events; with `after=N`, the events after
 * N, then live ones. Both are read and the socket accepted in one synchronous step, so no event
 * falls between them.
 */
export function acceptViewer(
  ctx: DurableObjectState,
  store: ExecutionStore,
  snapshot: () => Snapshot,
  request: Request,
): Response {
  const afterParam = new URL(request.url).searchParams.get("after");
  const after = afterParam === null ? null : Number(afterParam);
  const { 0: client, 1: server } = new WebSocketPair();
  ctx.acceptWebSocket(server);
  const viewer = request.headers.get(VIEWER_HEADER);
  if (viewer) server.serializeAttachment(JSON.parse(viewer) as Viewer);
  if (after === null) {
    const bounded = boundedSnapshot(snapshot());
    send(server, { type: "snapshot", seq: bounded.seq, execution: bounded.execution });
  } else {
    for (let from = after, batch = store.eventsAfter(from); batch.length > 0; batch = store.eventsAfter(from)) {
      for (const event of batch) send(server, eventMessage(event));
      from = batch[batch.length - 1].seq;
    }
  }
  // Agent text streamed so far by attempts still under way, before any live token.
  for (const streamed of store.streamedText.all()) {
    const step = store.step(streamed.stepId);
    if (step?.attempt !== streamed.attempt || (step.status !== "running" && step.status !== "waiting")) continue;
    send(server, { type: "token", ...streamed, offset: 0, replay: true });
  }
  return new Response(null, { status: 101, webSocket: client });
}

/** Sends to every viewer; a dead or slow socket never holds up the others. */
export function broadcast(ctx: DurableObjectState, message: StreamMessage): void {
  const text = JSON.stringify(message);
  for (const socket of ctx.getWebSockets()) {
    try {
      socket.send(text);
    } catch {
      // Closed between listing and sending: the runtime reports its close separately.
    }
  }
}

/** Who each open socket belongs to (sockets admitted without a viewer are left alone). */
export function viewersOf(ctx: DurableObjectState): Array<{ socket: WebSocket; viewer: Viewer }> {
  return ctx.getWebSockets().flatMap((socket) => {
    const viewer = socket.deserializeAttachment() as Viewer | null;
    return viewer ? [{ socket, viewer }] : [];
  });
}

function send(socket: WebSocket, message: StreamMessage): void {
  socket.send(JSON.stringify(message));
}
