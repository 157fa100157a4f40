/** /auth/api-tokens: personal API tokens for CLIs, CI and MCP clients (docs/api.md). */
import { createRoute, z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../auth/permissions";
import { settings } from "../config";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate } from "../middleware/auth";
import { createApiToken, listApiTokens, revokeApiToken } from "../services/api-tokens";
import { createRouter } from "./router";
import {
  bearer,
  errors,
  IdParam,
  json,
  jsonBody,
  ListQuery,
  mutationErrors,
  pageOf,
  Timestamp,
} from "./schemas/common";

export const TokenSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().openapi({ description: "the token's first characters, to tell tokens apart" }),
    scopes: z.array(z.enum(PERMISSIONS)).openapi({ description: "the permissions the token may use" }),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
  })
  .openapi("ApiToken");
export const CreatedTokenSchema = TokenSchema.extend({
  token: z.string().openapi({ description: "shown this once; send it as `Authorization: Bearer`" }),
}).openapi("ApiTokenCreated");
const CreateTokenBody = z
  .strictObject({
    name: z.string().min(1).max(100),
    expiresInDays: z.number().int().min(1).max(365).optional().openapi({ description: "1-365, default 90" }),
    scopes: z
      .array(z.enum(PERMISSIONS))
      .min(1)
      .optional()
      .openapi({
        description:
          "Permissions the token may use, of those your roles grant (default: all of them); never users:manage. " +
          "A request needing another answers 403 INSUFFICIENT_SCOPE.",
        example: ["workflows:read", "executions:read"],
      }),
  })
  .openapi("CreateApiToken");

const base = { tags: ["auth"], security: bearer, middleware: [authenticate] };

const create = createRoute({
  ...base,
  method: "post",
  path: "/",
  operationId: "createApiToken",
  summary: "Create a personal API token (shown once)",
  request: { body: jsonBody(CreateTokenBody) },
  responses: { 201: json(CreatedTokenSchema, "Created"), ...mutationErrors },
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  operationId: "listApiTokens",
  summary: "The caller's live API tokens, newest first (never the tokens themselves)",
  request: { query: ListQuery },
  responses: {
    200: json(pageOf(TokenSchema, "ApiTokenList")),
    400: errors[400],
    401: errors[401],
  },
});

const revoke = createRoute({
  ...base,
  method: "delete",
  path: "/{id}",
  operationId: "revokeApiToken",
  summary: "Revoke one of the caller's API tokens, at once",
  request: { params: IdParam },
  responses: { 204: { description: "Revoked" }, 401: errors[401], 404: errors[404] },
});

export const apiTokenRoutes = createRouter()
  .openapi(create, async (c) => {
    c.header("Cache-Control", "no-store");
    return c.json(
      await createApiToken(c.var.db.db, settings(c.env), c.var.user, auditContextOf(c), c.req.valid("json")),
      201,
    );
  })
  .openapi(list, async (c) => c.json(await listApiTokens(c.var.db.db, c.var.user, c.req.valid("query")), 200))
  .openapi(revoke, async (c) => {
    await revokeApiToken(c.var.db.db, c.var.user, auditContextOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
