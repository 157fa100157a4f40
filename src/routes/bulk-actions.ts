/** /executions/bulk: cancel, retry or rerun every execution a filter matches (docs/api.md "Bulk actions"). */
import { createRoute, z } from "@hono/zod-openapi";
import { BULK_ACTIONS, BULK_JOB_STATUSES } from "../engine/vocabulary";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate, requirePermission } from "../middleware/auth";
import { bulkJobView, createBulkJob, MAX_BULK_LIMIT } from "../services/bulk-actions";
import { createRouter } from "./router";
import { bearer, errors, IdParam, json, jsonBody, mutationErrors, readErrors, Timestamp } from "./schemas/common";
import { ExecutionStatus } from "./schemas/execution-views";
import { MetadataFilter, Tags } from "./schemas/executions";

const BulkFilter = z
  .strictObject({
    workflowId: z.uuid().optional(),
    status: ExecutionStatus.optional(),
    from: z.coerce.date().optional(),
    to: z.coerce.date().optional(),
    tags: Tags.optional(),
    metadata: MetadataFilter.optional(),
    q: z.string().min(1).max(256).optional(),
  })
  .openapi("BulkFilter", { description: "the executions list's filters (every one given must match)" });

const BulkBody = z
  .strictObject({
    action: z.enum(BULK_ACTIONS),
    filter: BulkFilter,
    fromStep: z.string().min(1).max(64).optional().openapi({ description: "rerun: the step to run again from" }),
    dryRun: z.boolean().default(false),
    limit: z.number().int().min(1).max(MAX_BULK_LIMIT).default(1_000),
  })
  .refine((body) => body.action !== "rerun" || body.fromStep, {
    message: "a rerun needs the step to run again from",
    path: ["fromStep"],
  })
  .openapi("BulkAction");

export const BulkCreated = z
  .object({
    id: z.uuid().optional().openapi({ description: "absent on a dry run" }),
    matched: z.number().int(),
    executionIds: z.array(z.uuid()).optional().openapi({ description: "dry run: the first 20 matched" }),
  })
  .openapi("BulkCreated");

export const BulkJobSchema = z
  .object({
    id: z.uuid(),
    action: z.enum(BULK_ACTIONS),
    filter: z.record(z.string(), z.unknown()),
    fromStep: z.string().nullable(),
    status: z.enum(BULK_JOB_STATUSES),
    matched: z.number().int(),
    done: z.number().int(),
    skipped: z.number().int().openapi({ description: "not the caller's to act on, or not in a state for the action" }),
    failed: z.number().int(),
    createdAt: Timestamp,
    completedAt: Timestamp.nullable(),
  })
  .openapi("BulkJob");

const tags = ["executions"];

const create = createRoute({
  method: "post",
  path: "/",
  operationId: "createBulkAction",
  tags,
  summary: "Cancel, retry or rerun every execution the filter matches (dry run first: the count and the first ids)",
  security: bearer,
  middleware: [authenticate, requirePermission("executions:read")],
  request: { body: jsonBody(BulkBody) },
  responses: { 200: json(BulkCreated, "Dry run"), 202: json(BulkCreated, "Accepted"), ...mutationErrors },
});

const get = createRoute({
  method: "get",
  path: "/{id}",
  operationId: "getBulkAction",
  tags,
  summary: "A bulk job's progress (only its creator sees it)",
  security: bearer,
  middleware: [authenticate],
  request: { params: IdParam },
  responses: { 200: json(BulkJobSchema), ...readErrors, 404: errors[404] },
});

export const bulkActionRoutes = createRouter()
  .openapi(create, async (c) => {
    const { filter, ...body } = c.req.valid("json");
    const answer = await createBulkJob(c.var.db.db, c.env, c.var.user, auditContextOf(c), { ...body, filter });
    if (answer.dryRun) return c.json({ matched: answer.matched, executionIds: answer.executionIds }, 200);
    return c.json({ id: answer.id, matched: answer.matched }, 202);
  })
  .openapi(get, async (c) => c.json(await bulkJobView(c.var.db.db, c.var.user, c.req.valid("param").id), 200));
