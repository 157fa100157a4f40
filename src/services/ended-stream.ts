/**
 * The stream of an execution whose object has been retired (it ended, and Postgres holds every
 * row): the same protocol, read from Postgres and the log archive, then a normal close. A viewer
 * cannot tell it from a live object's stream of an ended execution.
 */
import type { Database } from "../db/client";
import { eventMessage, type StreamMessage } from "../durable-objects/execution/stream-protocol";
import type { ExecutionEvent } from "../durable-objects/execution/types";
import type { ExecutionWithOwner } from "./execution-access";
import { executionView } from "./execution-view";
import { readLogs } from "./executions";
import { encodeCursor } from "./pagination";

const PAGE = 200;

export async function endedStreamMessages(
  db: Database,
  bucket: R2Bucket,
  found: ExecutionWithOwner,
  after: number | undefined,
): Promise<StreamMessage[]> {
  const id = found.row.id;
  if (after === undefined) {
    const view = await executionView(db, found);
    return [{ type: "snapshot", seq: found.row.lastSeq, execution: view as never }];
  }
  const messages: StreamMessage[] = [];
  let cursor: string | undefined = after > 0 ? encodeCursor({ at: String(after), id }) : undefined;
  for (;;) {
    const page = await readLogs(db, bucket, id, { limit: PAGE, cursor });
    for (const line of page.items)
      messages.push(eventMessage({ ...line, event: line.event as ExecutionEvent["event"] }));
    if (!page.nextCursor) return messages;
    cursor = page.nextCursor;
  }
}

/** A WebSocket that delivers `messages` and closes (normally, unless told otherwise). */
export function replaySocket(
  messages: StreamMessage[],
  close: { code: number; reason: string } = { code: 1000, reason: "the execution has ended" },
): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  for (const message of messages) server.send(JSON.stringify(message));
  server.close(close.code, close.reason);
  return new Response(null, { status: 101, webSocket: client });
}
