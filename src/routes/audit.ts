/** /audit: the audit trail and its chain verification (audit:read). */
import { createRoute, z } from "@hono/zod-openapi";
import { verifyAuditChain } from "../audit/verify";
import { authenticate, requirePermission } from "../middleware/auth";
import { listAudit } from "../services/audit";
import { createRouter } from "./router";
import { bearer, json, ListQuery, pageOf, readErrors, Timestamp } from "./schemas/common";

const base = { tags: ["audit"], security: bearer, middleware: [authenticate, requirePermission("audit:read")] };

export const AuditEntrySchema = z
  .object({
    id: z.uuid(),
    seq: z.number().int(),
    actorId: z.uuid().nullable(),
    actorEmail: z.string().nullable(),
    action: z.string(),
    resourceType: z.string(),
    resourceId: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    createdAt: Timestamp,
    hash: z.string(),
  })
  .openapi("AuditEntry");

export const VerdictSchema = z
  .object({
    valid: z.boolean(),
    checked: z.number().int(),
    brokenAt: z
      .object({
        seq: z.number().int(),
        id: z.uuid(),
        reason: z.enum(["content_changed", "link_broken", "row_missing"]),
      })
      .optional(),
  })
  .openapi("AuditVerdict");

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  operationId: "listAuditEntries",
  summary: "Audit entries, newest first, with filters",
  request: {
    query: ListQuery.extend({
      actorId: z.uuid().optional(),
      action: z.string().max(100).optional(),
      resourceType: z.string().max(100).optional(),
      resourceId: z.string().max(200).optional(),
      from: z.coerce.date().optional(),
      to: z.coerce.date().optional(),
    }),
  },
  responses: { 200: json(pageOf(AuditEntrySchema, "AuditPage")), ...readErrors },
});

const verify = createRoute({
  ...base,
  method: "get",
  path: "/verify",
  operationId: "verifyAuditChain",
  summary: "Walk the hash chain and name the first broken link",
  responses: { 200: json(VerdictSchema), ...readErrors },
});

export const auditRoutes = createRouter()
  // Both link the chain's newest rows first (a write): the caller is confirmed before, not beside.
  .openapi(list, async (c) => {
    await c.var.confirmCaller();
    return c.json(await listAudit(c.var.db.db, c.req.valid("query")), 200);
  })
  .openapi(verify, async (c) => {
    await c.var.confirmCaller();
    return c.json(await verifyAuditChain(c.var.db.db), 200);
  });
