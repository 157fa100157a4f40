/**
 * Platform secrets (/secrets, secrets:manage) and workflow secrets (/workflows/:id/secrets, for
 * whoever may update the workflow): write-only; reads list names, scopes and dates (docs/api.md,
 * docs/security.md). A platform secret serves admins' workflows and agents' tools, and users' workflows only
 * when shared; `allowedHosts` bounds where a request carrying it may go.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { settings } from "../config";
import type { AppEnv } from "../middleware/app-env";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate, requirePermission } from "../middleware/auth";
import { deleteSecret, listSecrets, putSecret, type Scope, SECRET_NAME, type SecretWrite } from "../services/secrets";
import { createRouter } from "./router";
import { bearer, errors, IdParam, json, jsonBody, mutationErrors, readErrors, Timestamp } from "./schemas/common";

const AllowedHosts = z
  .array(
    z
      .string()
      .max(253)
      .regex(/^(\*\.)?([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+$/, "a host name, or *.suffix for every name under it"),
  )
  .min(1)
  .max(50)
  .nullable()
  .openapi({
    description:
      "Hosts a request carrying the value may go to (checked on the final URL and every redirect hop); null or absent: any host",
    example: ["api.stripe.com", "*.example.com"],
  });
export const SecretSchema = z
  .object({
    name: z.string(),
    allowedHosts: z.array(z.string()).nullable(),
    sharedWithUsers: z
      .boolean()
      .optional()
      .openapi({ description: "Platform secrets: whether users' workflows may use it (admins' workflows always may)" }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("Secret");
const SecretList = z.object({ items: z.array(SecretSchema), nextCursor: z.null() }).openapi("SecretList");
const value = z.string().min(1).max(16_384).openapi({ description: "write-only; never returned" });
const WorkflowSecretBody = z
  .strictObject({ value, allowedHosts: AllowedHosts.optional() })
  .openapi("WorkflowSecretValue");
const PlatformSecretBody = WorkflowSecretBody.extend({
  sharedWithUsers: z.boolean().optional().openapi({
    description: "Let users' workflows use this secret too (default false: only admins' workflows and agents' tools)",
  }),
}).openapi("PlatformSecretValue");
const Name = z
  .string()
  .regex(SECRET_NAME, "secret names are A-Z, 0-9 and _, starting with a letter (at most 64)")
  .openapi({ param: { name: "name", in: "path" }, example: "PAYMENTS_API_KEY" });

const base = { tags: ["secrets"], security: bearer };
const NameParam = z.object({ name: Name });
const WorkflowNameParam = IdParam.extend({ name: Name });
const putResponses = {
  200: json(SecretSchema, "Replaced"),
  201: json(SecretSchema, "Created"),
  ...mutationErrors,
  404: errors[404],
};
const removeResponses = { 204: { description: "Deleted" }, ...readErrors, 404: errors[404] };
const adminOnly = [authenticate, requirePermission("secrets:manage")];

const platform = {
  list: createRoute({
    ...base,
    method: "get",
    path: "/secrets",
    operationId: "listPlatformSecrets",
    summary: "List the platform secrets (names only)",
    middleware: adminOnly,
    responses: { 200: json(SecretList), ...readErrors },
  }),
  put: createRoute({
    ...base,
    method: "put",
    path: "/secrets/{name}",
    operationId: "putPlatformSecret",
    summary: "Create or replace a platform secret",
    middleware: adminOnly,
    request: { params: NameParam, body: jsonBody(PlatformSecretBody) },
    responses: putResponses,
  }),
  remove: createRoute({
    ...base,
    method: "delete",
    path: "/secrets/{name}",
    operationId: "deletePlatformSecret",
    summary: "Delete a platform secret",
    middleware: adminOnly,
    request: { params: NameParam },
    responses: removeResponses,
  }),
};

const workflow = {
  list: createRoute({
    ...base,
    method: "get",
    path: "/{id}/secrets",
    operationId: "listWorkflowSecrets",
    summary: "List the workflow's secrets (names only)",
    middleware: [authenticate],
    request: { params: IdParam },
    responses: { 200: json(SecretList), ...readErrors, 404: errors[404] },
  }),
  put: createRoute({
    ...base,
    method: "put",
    path: "/{id}/secrets/{name}",
    operationId: "putWorkflowSecret",
    summary: "Create or replace a workflow secret (it overrides a platform secret of the same name)",
    middleware: [authenticate],
    request: { params: WorkflowNameParam, body: jsonBody(WorkflowSecretBody) },
    responses: putResponses,
  }),
  remove: createRoute({
    ...base,
    method: "delete",
    path: "/{id}/secrets/{name}",
    operationId: "deleteWorkflowSecret",
    summary: "Delete a workflow secret",
    middleware: [authenticate],
    request: { params: WorkflowNameParam },
    responses: removeResponses,
  }),
};

const PLATFORM: Scope = { kind: "platform" };
const workflowScope = (workflowId: string): Scope => ({ kind: "workflow", workflowId });

function put(c: Context<AppEnv>, scope: Scope, name: string, write: SecretWrite) {
  return putSecret(c.var.db.db, settings(c.env), c.var.user, auditContextOf(c), scope, name, write);
}

export const platformSecretRoutes = createRouter()
  .openapi(platform.list, async (c) => c.json(await listSecrets(c.var.db.db, c.var.user, PLATFORM), 200))
  .openapi(platform.put, async (c) => {
    const result = await put(c, PLATFORM, c.req.valid("param").name, c.req.valid("json"));
    return result.created ? c.json(result.view, 201) : c.json(result.view, 200);
  })
  .openapi(platform.remove, async (c) => {
    await deleteSecret(c.var.db.db, c.var.user, auditContextOf(c), PLATFORM, c.req.valid("param").name);
    return c.body(null, 204);
  });

export const workflowSecretRoutes = createRouter()
  .openapi(workflow.list, async (c) =>
    c.json(await listSecrets(c.var.db.db, c.var.user, workflowScope(c.req.valid("param").id)), 200),
  )
  .openapi(workflow.put, async (c) => {
    const { id, name } = c.req.valid("param");
    const result = await put(c, workflowScope(id), name, c.req.valid("json"));
    return result.created ? c.json(result.view, 201) : c.json(result.view, 200);
  })
  .openapi(workflow.remove, async (c) => {
    const { id, name } = c.req.valid("param");
    await deleteSecret(c.var.db.db, c.var.user, auditContextOf(c), workflowScope(id), name);
    return c.body(null, 204);
  });
