/** /agents and /agents/:id/tools: every role reads, admins change (docs/security.md). */
import { createRoute, z } from "@hono/zod-openapi";
import { hasPermission, type Permission } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import { settings } from "../config";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate, requirePermission } from "../middleware/auth";
import { maskCredentialUrl } from "../net/credential-mask";
import { createTool, deleteTool, getTool, listTools, updateTool } from "../services/agent-tools";
import { archiveAgent, createAgent, getAgent, listAgents, toAgentView, updateAgent } from "../services/agents";
import { createRouter } from "./router";
import {
  AgentListQuery,
  AgentSchema,
  CreateAgentBody,
  CreateToolBody,
  ToolParams,
  ToolSchema,
  UpdateAgentBody,
  UpdateToolBody,
} from "./schemas/agents";
import { bearer, errors, IdParam, json, jsonBody, mutationErrors, pageOf, readErrors } from "./schemas/common";

const base = { tags: ["agents"], security: bearer };
const allow = (permission: Permission) => [authenticate, requirePermission(permission)];
const objectErrors = { ...mutationErrors, 404: errors[404], 409: errors[409] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  operationId: "listAgents",
  summary: "List agents (every role reads them)",
  middleware: allow("agents:read"),
  request: { query: AgentListQuery },
  responses: { 200: json(pageOf(AgentSchema, "AgentPage")), ...readErrors },
});
const create = createRoute({
  ...base,
  method: "post",
  path: "/",
  operationId: "createAgent",
  summary: "Create an agent",
  middleware: allow("agents:create"),
  request: { body: jsonBody(CreateAgentBody) },
  responses: { 201: json(AgentSchema, "Created"), ...mutationErrors, 409: errors[409] },
});
const get = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  operationId: "getAgent",
  summary: "An agent (its API key is never returned)",
  middleware: allow("agents:read"),
  request: { params: IdParam },
  responses: { 200: json(AgentSchema), ...readErrors, 404: errors[404] },
});
const update = createRoute({
  ...base,
  method: "patch",
  path: "/{id}",
  operationId: "updateAgent",
  summary: "Change an agent; an omitted apiKey keeps the stored one, null removes it",
  middleware: allow("agents:update"),
  request: { params: IdParam, body: jsonBody(UpdateAgentBody) },
  responses: { 200: json(AgentSchema), ...objectErrors },
});
const archive = createRoute({
  ...base,
  method: "delete",
  path: "/{id}",
  operationId: "archiveAgent",
  summary: "Archive an agent (past executions keep referring to it)",
  middleware: allow("agents:delete"),
  request: { params: IdParam },
  responses: { 200: json(AgentSchema), ...readErrors, 404: errors[404] },
});
const toolList = createRoute({
  ...base,
  method: "get",
  path: "/{id}/tools",
  operationId: "listAgentTools",
  summary: "The agent's tools (header values masked)",
  middleware: allow("agents:read"),
  request: { params: IdParam },
  responses: { 200: json(z.object({ items: z.array(ToolSchema) })), ...readErrors, 404: errors[404] },
});
const toolCreate = createRoute({
  ...base,
  method: "post",
  path: "/{id}/tools",
  operationId: "createAgentTool",
  summary: "Add a tool to an agent",
  middleware: allow("agents:update"),
  request: { params: IdParam, body: jsonBody(CreateToolBody) },
  responses: { 201: json(ToolSchema, "Created"), ...objectErrors },
});
const toolGet = createRoute({
  ...base,
  method: "get",
  path: "/{id}/tools/{toolId}",
  operationId: "getAgentTool",
  summary: "One tool (header values masked)",
  middleware: allow("agents:read"),
  request: { params: ToolParams },
  responses: { 200: json(ToolSchema), ...readErrors, 404: errors[404] },
});
const toolUpdate = createRoute({
  ...base,
  method: "patch",
  path: "/{id}/tools/{toolId}",
  operationId: "updateAgentTool",
  summary: "Change a tool; omitted header values keep the stored ones",
  middleware: allow("agents:update"),
  request: { params: ToolParams, body: jsonBody(UpdateToolBody) },
  responses: { 200: json(ToolSchema), ...objectErrors },
});
const toolDelete = createRoute({
  ...base,
  method: "delete",
  path: "/{id}/tools/{toolId}",
  operationId: "deleteAgentTool",
  summary: "Remove a tool",
  middleware: allow("agents:update"),
  request: { params: ToolParams },
  responses: { 204: { description: "Deleted" }, ...readErrors, 404: errors[404] },
});

export const agentRoutes = createRouter()
  .openapi(list, async (c) => c.json(await listAgents(c.var.db.db, c.req.valid("query")), 200))
  .openapi(create, async (c) =>
    c.json(await createAgent(c.var.db.db, settings(c.env), auditContextOf(c), c.req.valid("json")), 201),
  )
  .openapi(get, async (c) => c.json(toAgentView(await getAgent(c.var.db.db, c.req.valid("param").id)), 200))
  .openapi(update, async (c) =>
    c.json(
      await updateAgent(c.var.db.db, settings(c.env), auditContextOf(c), c.req.valid("param").id, c.req.valid("json")),
      200,
    ),
  )
  .openapi(archive, async (c) =>
    c.json(await archiveAgent(c.var.db.db, auditContextOf(c), c.req.valid("param").id), 200),
  )
  .openapi(toolList, async (c) => {
    const tools = await listTools(c.var.db.db, c.req.valid("param").id);
    return c.json({ items: tools.map((tool) => asReadBy(c.var.user, tool)) }, 200);
  })
  .openapi(toolCreate, async (c) =>
    c.json(
      await createTool(c.var.db.db, settings(c.env), auditContextOf(c), c.req.valid("param").id, c.req.valid("json")),
      201,
    ),
  )
  .openapi(toolGet, async (c) => {
    const { id, toolId } = c.req.valid("param");
    return c.json(asReadBy(c.var.user, await getTool(c.var.db.db, id, toolId)), 200);
  })
  .openapi(toolUpdate, async (c) => {
    const { id, toolId } = c.req.valid("param");
    return c.json(
      await updateTool(c.var.db.db, settings(c.env), auditContextOf(c), id, toolId, c.req.valid("json")),
      200,
    );
  })
  .openapi(toolDelete, async (c) => {
    const { id, toolId } = c.req.valid("param");
    await deleteTool(c.var.db.db, auditContextOf(c), id, toolId);
    return c.body(null, 204);
  });

/** Admins write tools and read them as written; other readers see a URL's literal credentials masked. */
function asReadBy<T extends { configuration: Record<string, unknown> }>(user: AuthenticatedUser, tool: T): T {
  const { url } = tool.configuration;
  if (hasPermission(user, "agents:update") || typeof url !== "string") return tool;
  return { ...tool, configuration: { ...tool.configuration, url: maskCredentialUrl(url) } };
}
