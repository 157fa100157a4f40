/** Live execution streams: tickets, and the WebSocket handed to the execution's object (docs/engine.md). */
import { createRoute, z } from "@hono/zod-openapi";
import { CLOSE, refuseSocket } from "../durable-objects/execution/stream-protocol";
import { executionStub } from "../durable-objects/execution/stub";
import { VIEWER_HEADER } from "../durable-objects/execution/viewers";
import { NOT_STARTED_STATUS, RETIRED_STATUS } from "../durable-objects/execution-object";
import { BadRequestError } from "../errors";
import { authenticateBesideReads } from "../middleware/auth";
import { endedStreamMessages, replaySocket } from "../services/ended-stream";
import { findExecution } from "../services/execution-access";
import { executionView } from "../services/execution-view";
import { issueTicket, redeemTicket } from "../services/stream-tickets";
import { createRouter } from "./router";
import { bearer, errors, IdParam, json, readErrors, streamTicket, Timestamp } from "./schemas/common";

const TicketSchema = z.object({ ticket: z.string(), expiresAt: Timestamp }).openapi("StreamTicket");

const ticket = createRoute({
  method: "post",
  path: "/executions/{id}/stream-ticket",
  operationId: "createStreamTicket",
  tags: ["executions"],
  summary: "A single-use ticket (60 s) to open the execution's stream",
  security: bearer,
  middleware: [authenticateBesideReads],
  request: { params: IdParam },
  responses: { 201: json(TicketSchema, "Created"), ...readErrors, 404: errors[404] },
});

const stream = createRoute({
  method: "get",
  path: "/executions/{id}/stream",
  operationId: "openExecutionStream",
  security: streamTicket,
  tags: ["executions"],
  summary: "WebSocket: a snapshot (or the events after `after`), then live events and tokens",
  description:
    "Messages: { type: 'snapshot', seq, execution }, { type: 'event', seq, event, at, stepId, data }, " +
    "{ type: 'token', stepId, text }. Close codes: 4401 bad, expired or used ticket; 4404 not visible. " +
    "Send 'ping' for 'pong'.",
  request: {
    params: IdParam,
    query: z.object({
      ticket: z.string().max(128).optional(),
      after: z.coerce.number().int().min(0).optional(),
    }),
  },
  responses: {
    101: { description: "Switching protocols" },
    400: errors[400],
    426: { description: "Not a WebSocket upgrade" },
  },
});

export const streamRoutes = createRouter()
  .openapi(ticket, async (c) =>
    c.json(await issueTicket(c.var.db.db, c.var.user, c.req.valid("param").id, c.var.confirmCaller), 201),
  )
  .openapi(stream, async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new BadRequestError("This endpoint speaks WebSocket; send an Upgrade request");
    }
    const { id } = c.req.valid("param");
    const { ticket: presented, after } = c.req.valid("query");
    if (!presented) return refuseSocket(CLOSE.badTicket, "ticket required");
    const redemption = await redeemTicket(c.var.db.db, presented, id);
    if (!redemption.ok) {
      return redemption.close === "not_visible"
        ? refuseSocket(CLOSE.notVisible, "not visible")
        : refuseSocket(CLOSE.badTicket, "bad ticket");
    }
    const target = new URL("https://execution/stream");
    if (after !== undefined) target.searchParams.set("after", String(after));
    // Only what the object needs, built here: a client cannot pass its own viewer identity through.
    const headers = new Headers({ upgrade: "websocket", [VIEWER_HEADER]: JSON.stringify(redemption.viewer) });
    const response = await executionStub(c.env, id).fetch(new Request(target, { headers }));
    if (response.status !== RETIRED_STATUS && response.status !== NOT_STARTED_STATUS) return response;
    const found = await findExecution(c.var.db.db, id);
    if (!found) return refuseSocket(CLOSE.notVisible, "not visible");
    // Not started yet (queued, say): what Postgres has, then "try again later".
    if (response.status === NOT_STARTED_STATUS)
      return replaySocket(
        [{ type: "snapshot", seq: 0, execution: (await executionView(c.var.db.db, found)) as never }],
        {
          code: CLOSE.tryAgainLater,
          reason: `the execution is ${found.row.status}; reconnect to follow it`,
        },
      );
    return replaySocket(await endedStreamMessages(c.var.db.db, c.env.STORAGE, found, after));
  });
