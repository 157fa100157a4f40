/**
 * /mcp (docs/api.md): MCP's Streamable HTTP transport, stateless (no session to keep: every request
 * carries its bearer token and is answered as JSON), so any isolate answers any request.
 */

import { createRoute, z } from "@hono/zod-openapi";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { BadRequestError } from "../errors";
import { mcpServer } from "../mcp/server";
import type { AppEnv } from "../middleware/app-env";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate } from "../middleware/auth";
import { database } from "../middleware/database";
import { bearer, errors, json, jsonBody } from "./schemas/common";

const JsonRpcMessage = z
  .object({
    jsonrpc: z.literal("2.0"),
    id: z.union([z.string(), z.number()]).optional(),
    method: z.string().optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    result: z.unknown().optional(),
    error: z.unknown().optional(),
  })
  .openapi("JsonRpcMessage");

/** In the OpenAPI document: the transport's one endpoint (the tools themselves are listed by `tools/list`). */
export const mcpDoc = createRoute({
  method: "post",
  path: "/mcp",
  operationId: "mcp",
  tags: ["mcp"],
  summary:
    "MCP over Streamable HTTP, stateless: initialize, tools/list, tools/call (run_<workflow>, get_execution, decide_step)",
  security: bearer,
  request: { body: jsonBody(JsonRpcMessage) },
  responses: {
    200: json(JsonRpcMessage, "The JSON-RPC response"),
    202: { description: "A notification or response from the client, accepted" },
    400: errors[400],
    401: errors[401],
    406: { description: "The Accept header allows neither application/json nor text/event-stream" },
    429: errors[429],
  },
});

/** MCP 2025-06-18 removed JSON-RPC batches: a POST whose body is an array is a 400, before any of it runs. */
const noBatches = createMiddleware<AppEnv>(async function refuseBatches(c, next) {
  if (c.req.method === "POST" && (await c.req.raw.clone().text()).trimStart().startsWith("["))
    throw new BadRequestError("JSON-RPC batches are not accepted: send one message per request");
  await next();
});

export const mcpRoutes = new Hono<AppEnv>().all("/", noBatches, database, authenticate, async (c) => {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  const server = mcpServer({ db: c.var.db.db, env: c.env, user: c.var.user, audit: auditContextOf(c) });
  await server.connect(transport);
  return transport.handleRequest(c.req.raw);
});
