/** /workflows: workflows, their versions and the current-version pointer (docs/api.md). */
import { createRoute, z } from "@hono/zod-openapi";
import { settings } from "../config";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate, requirePermission } from "../middleware/auth";
import { createVersion, getVersion, listVersions, setCurrentVersion } from "../services/versions";
import { rotateWebhookSecret } from "../services/webhooks";
import {
  archiveWorkflow,
  createWorkflow,
  getVisibleWorkflow,
  listWorkflows,
  toWorkflowView,
  updateWorkflow,
} from "../services/workflows";
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
  readErrors,
} from "./schemas/common";
import {
  CreateVersionBody,
  CreateWorkflowBody,
  CurrentVersionBody,
  UpdateWorkflowBody,
  VersionParams,
  VersionSchema,
  VersionSummarySchema,
  WorkflowListQuery,
  WorkflowSchema,
} from "./schemas/workflows";

const tags = ["workflows"];
const base = { tags, security: bearer } as const;
const objectErrors = { ...mutationErrors, 404: errors[404], 409: errors[409] };

const list = createRoute({
  ...base,
  method: "get",
  path: "/",
  operationId: "listWorkflows",
  summary: "Workflows the caller may read (admins and viewers: all; users: their own)",
  middleware: [authenticate, requirePermission("workflows:read")],
  request: { query: WorkflowListQuery },
  responses: { 200: json(pageOf(WorkflowSchema, "WorkflowPage")), ...readErrors },
});

const create = createRoute({
  ...base,
  method: "post",
  path: "/",
  operationId: "createWorkflow",
  summary: "Create a workflow (in draft, without versions)",
  middleware: [authenticate, requirePermission("workflows:create")],
  request: { body: jsonBody(CreateWorkflowBody) },
  responses: { 201: json(WorkflowSchema, "Created"), ...mutationErrors },
});

const get = createRoute({
  ...base,
  method: "get",
  path: "/{id}",
  operationId: "getWorkflow",
  summary: "A workflow",
  middleware: [authenticate],
  request: { params: IdParam },
  responses: { 200: json(WorkflowSchema), ...readErrors, 404: errors[404] },
});

const update = createRoute({
  ...base,
  method: "patch",
  path: "/{id}",
  operationId: "updateWorkflow",
  summary: "Change a workflow, including its status (draft or active)",
  middleware: [authenticate],
  request: { params: IdParam, body: jsonBody(UpdateWorkflowBody) },
  responses: { 200: json(WorkflowSchema), ...objectErrors },
});

const archive = createRoute({
  ...base,
  method: "delete",
  path: "/{id}",
  operationId: "archiveWorkflow",
  summary: "Archive a workflow (it starts nothing afterwards)",
  middleware: [authenticate],
  request: { params: IdParam },
  responses: { 200: json(WorkflowSchema), ...readErrors, 404: errors[404], 409: errors[409] },
});

const versionList = createRoute({
  ...base,
  method: "get",
  path: "/{id}/versions",
  operationId: "listWorkflowVersions",
  summary: "The workflow's versions, newest first",
  middleware: [authenticate],
  request: { params: IdParam, query: ListQuery },
  responses: { 200: json(pageOf(VersionSummarySchema, "VersionPage")), ...readErrors, 404: errors[404] },
});

const versionCreate = createRoute({
  ...base,
  method: "post",
  path: "/{id}/versions",
  operationId: "createWorkflowVersion",
  summary: "Publish a validated, immutable version; it becomes current unless makeCurrent is false",
  middleware: [authenticate],
  request: { params: IdParam, body: jsonBody(CreateVersionBody) },
  responses: { 201: json(VersionSchema, "Created"), ...objectErrors },
});

const versionGet = createRoute({
  ...base,
  method: "get",
  path: "/{id}/versions/{n}",
  operationId: "getWorkflowVersion",
  summary: "One version with its definition",
  middleware: [authenticate],
  request: { params: VersionParams },
  responses: { 200: json(VersionSchema), ...readErrors, 404: errors[404] },
});

const currentVersion = createRoute({
  ...base,
  method: "put",
  path: "/{id}/current-version",
  operationId: "setCurrentVersion",
  summary: "Point the workflow at another of its versions (rollback)",
  middleware: [authenticate],
  request: { params: IdParam, body: jsonBody(CurrentVersionBody) },
  responses: { 200: json(WorkflowSchema), ...objectErrors },
});

const webhookSecret = createRoute({
  ...base,
  method: "post",
  path: "/{id}/webhook-secret",
  operationId: "rotateWebhookSecret",
  summary: "Create or rotate the webhook signing secret; it is shown only in this answer",
  middleware: [authenticate],
  request: { params: IdParam },
  responses: {
    201: json(z.object({ secret: z.string() }).openapi("WebhookSecret"), "Created"),
    ...readErrors,
    404: errors[404],
    409: errors[409],
  },
});

export const workflowRoutes = createRouter()
  .openapi(list, async (c) => {
    const { tag, ...query } = c.req.valid("query");
    return c.json(await listWorkflows(c.var.db.db, c.var.user, { ...query, tags: tag }), 200);
  })
  .openapi(create, async (c) =>
    c.json(await createWorkflow(c.var.db.db, settings(c.env), c.var.user, auditContextOf(c), c.req.valid("json")), 201),
  )
  .openapi(get, async (c) =>
    c.json(toWorkflowView(await getVisibleWorkflow(c.var.db.db, c.var.user, c.req.valid("param").id)), 200),
  )
  .openapi(update, async (c) =>
    c.json(
      await updateWorkflow(
        c.var.db.db,
        settings(c.env),
        c.var.user,
        auditContextOf(c),
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      200,
    ),
  )
  .openapi(archive, async (c) =>
    c.json(await archiveWorkflow(c.var.db.db, c.var.user, auditContextOf(c), c.req.valid("param").id), 200),
  )
  .openapi(versionList, async (c) =>
    c.json(await listVersions(c.var.db.db, c.var.user, c.req.valid("param").id, c.req.valid("query")), 200),
  )
  .openapi(versionCreate, async (c) =>
    c.json(
      await createVersion(
        c.var.db.db,
        settings(c.env),
        c.var.user,
        auditContextOf(c),
        c.req.valid("param").id,
        c.req.valid("json"),
      ),
      201,
    ),
  )
  .openapi(webhookSecret, async (c) => {
    c.header("Cache-Control", "no-store");
    const secret = await rotateWebhookSecret(
      c.var.db.db,
      settings(c.env),
      c.var.user,
      auditContextOf(c),
      c.req.valid("param").id,
    );
    return c.json(secret, 201);
  })
  .openapi(versionGet, async (c) => {
    const { id, n } = c.req.valid("param");
    return c.json(await getVersion(c.var.db.db, c.var.user, id, n), 200);
  })
  .openapi(currentVersion, async (c) =>
    c.json(
      await setCurrentVersion(
        c.var.db.db,
        c.var.user,
        auditContextOf(c),
        c.req.valid("param").id,
        c.req.valid("json").versionNumber,
      ),
      200,
    ),
  );
