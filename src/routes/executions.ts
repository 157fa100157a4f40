/** Executions: start, read, logs, and the controls of docs/api.md. */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ControlRequest } from "../durable-objects/execution/rpc";
import { ValidationError, zodDetails } from "../errors";
import type { AppEnv } from "../middleware/app-env";
import { auditContextOf } from "../middleware/audit-context";
import { authenticate, authenticateBesideReads, requirePermission } from "../middleware/auth";
import { executionTraceparent } from "../observability/tracing/trace-context";
import { visibleExecution } from "../services/execution-access";
import { controlExecution, decideStep } from "../services/execution-controls";
import { deliverEvent } from "../services/execution-events";
import { rerunExecution } from "../services/execution-rerun";
import { startExecution } from "../services/execution-start";
import { getExecution, subStepPage } from "../services/execution-view";
import { listExecutions, listLogs } from "../services/executions";
import { stepOutput } from "../services/step-output";
import { createRouter } from "./router";
import { bearer, errors, IdParam, json, jsonBody, mutationErrors, pageOf, readErrors } from "./schemas/common";
import {
  ExecutionSchema,
  ExecutionSummarySchema,
  LogSchema,
  StepOutputSchema,
  SubStepPageSchema,
} from "./schemas/execution-views";
import {
  CancelBody,
  ControlResultSchema,
  DecisionBody,
  DecisionResultSchema,
  DeliveryResultSchema,
  EventBody,
  EventHeaders,
  EventParams,
  ExecutionListQuery,
  LogQuery,
  MetadataFilter,
  RerunBody,
  RerunResultSchema,
  StartBody,
  StartedSchema,
  StartHeaders,
  StepParams,
  SubStepQuery,
} from "./schemas/executions";

const base = { tags: ["executions"], security: bearer };
const objectErrors = { ...mutationErrors, 404: errors[404], 409: errors[409] };

const start = createRoute({
  ...base,
  method: "post",
  path: "/workflows/{id}/executions",
  operationId: "startExecution",
  summary: "Start an execution of the workflow's current (or a chosen) version",
  middleware: [authenticateBesideReads],
  request: { params: IdParam, headers: StartHeaders, body: jsonBody(StartBody, false) },
  responses: {
    200: json(StartedSchema, "Skipped by the workflow's singleton: the execution already going"),
    202: json(StartedSchema, "Accepted"),
    ...objectErrors,
  },
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/executions",
  operationId: "listExecutions",
  summary: "Executions the caller may read, newest first, with filters",
  description:
    "Besides the parameters below, `meta.<key>=<value>` (repeatable) keeps the executions whose metadata has that value " +
    "under that key. Every filter given must match.",
  middleware: [authenticate, requirePermission("executions:read")],
  request: { query: ExecutionListQuery },
  responses: { 200: json(pageOf(ExecutionSummarySchema, "ExecutionPage")), ...readErrors },
});

const get = createRoute({
  ...base,
  method: "get",
  path: "/executions/{id}",
  operationId: "getExecution",
  summary: "An execution with its steps, and why each waiting step waits",
  middleware: [authenticate],
  request: { params: IdParam },
  responses: { 200: json(ExecutionSchema), ...readErrors, 404: errors[404] },
});

const logs = createRoute({
  ...base,
  method: "get",
  path: "/executions/{id}/logs",
  operationId: "listExecutionLogs",
  summary: "The execution's event log, oldest first",
  middleware: [authenticate],
  request: { params: IdParam, query: LogQuery },
  responses: { 200: json(pageOf(LogSchema, "ExecutionLogPage")), ...readErrors, 404: errors[404] },
});

// Generic in the action, so each route's path stays a literal type (hono/client's hc names it).
const control = <Action extends ControlRequest["action"]>(action: Action, summary: string) =>
  createRoute({
    ...base,
    method: "post",
    path: `/executions/{id}/${action}` as const,
    operationId: `${action}Execution`,
    summary,
    middleware: [authenticate],
    request: { params: IdParam },
    responses: { 200: json(ControlResultSchema), ...readErrors, 404: errors[404], 409: errors[409] },
  });

const cancel = createRoute({
  ...base,
  method: "post",
  path: "/executions/{id}/cancel",
  operationId: "cancelExecution",
  summary: "Cancel: no later step runs (with `compensate`, the completed steps' compensations run first)",
  middleware: [authenticate],
  request: { params: IdParam, body: jsonBody(CancelBody, false) },
  responses: { 200: json(ControlResultSchema), ...readErrors, 404: errors[404], 409: errors[409] },
});

const items = createRoute({
  ...base,
  method: "get",
  path: "/executions/{id}/steps/{stepId}/items",
  operationId: "listStepItems",
  summary: "A map's items or a loop's iterations, in order, a page at a time",
  middleware: [authenticate],
  request: { params: StepParams, query: SubStepQuery },
  responses: { 200: json(SubStepPageSchema), ...readErrors, 404: errors[404] },
});

const decision = <Verb extends "approve" | "reject">(verb: Verb) =>
  createRoute({
    ...base,
    method: "post",
    path: `/executions/{id}/steps/{stepId}/${verb}` as const,
    operationId: `${verb}Step`,
    summary: `${verb === "approve" ? "Approve" : "Reject"} a waiting approval step (the approver must hold one of its approverRoles), or a step waiting for its cost budget`,
    middleware: [authenticateBesideReads],
    request: { params: StepParams, body: jsonBody(DecisionBody, false) },
    responses: { 200: json(DecisionResultSchema), ...objectErrors },
  });

const rerun = createRoute({
  ...base,
  method: "post",
  path: "/executions/{id}/rerun",
  operationId: "rerunExecution",
  summary: "Run a step and everything downstream of it again (optionally on another version or input)",
  description:
    "On a completed, failed or cancelled execution. The other steps keep their outputs; the rerun steps get new " +
    "idempotency keys and their attempts continue the numbering. With dryRun the plan is answered (200) and nothing changes.",
  middleware: [authenticate],
  request: { params: IdParam, body: jsonBody(RerunBody) },
  responses: {
    200: json(RerunResultSchema, "The plan (dryRun)"),
    202: json(RerunResultSchema, "Accepted"),
    ...objectErrors,
  },
});

const events = createRoute({
  ...base,
  method: "post",
  path: "/executions/{id}/events/{name}",
  operationId: "deliverEvent",
  summary: "Deliver an event to the execution's event steps",
  description:
    "Completes the first event step waiting for this name, or is buffered for one still to come (never lost, never " +
    "consumed twice). A payload that breaks the step's schema is a 422 and the step keeps waiting.",
  middleware: [authenticate],
  request: { params: EventParams, headers: EventHeaders, body: jsonBody(EventBody, false) },
  responses: { 202: json(DeliveryResultSchema, "Accepted"), ...objectErrors },
});

const output = createRoute({
  ...base,
  method: "get",
  path: "/executions/{id}/steps/{stepId}/output",
  operationId: "getStepOutput",
  summary: "A step's whole output, also when it was kept in R2 for its size",
  middleware: [authenticate],
  request: { params: StepParams },
  responses: { 200: json(StepOutputSchema), ...readErrors, 404: errors[404] },
});

const controlled = (c: Context<AppEnv>, action: ControlRequest["action"], options: { compensate?: boolean } = {}) =>
  controlExecution(c.var.db.db, c.env, c.var.user, auditContextOf(c), c.req.param("id") as string, action, options);

const decided = async (c: Context<AppEnv>, approved: boolean) => {
  const body = (await c.req.json().catch(() => ({}))) as { comment?: string; raiseBudgetUsd?: number };
  return decideStep(
    c.var.db.db,
    c.env,
    c.var.user,
    auditContextOf(c),
    c.req.param("id") as string,
    c.req.param("stepId") as string,
    {
      approved,
      comment: body.comment ?? null,
      raiseBudgetUsd: body.raiseBudgetUsd ?? null,
    },
    c.var.confirmCaller,
  );
};

export const executionRoutes = createRouter()
  .openapi(start, async (c) => {
    const body = c.req.valid("json") ?? {};
    const started = await startExecution(c.var.db.db, c.env, {
      workflowId: c.req.valid("param").id,
      input: body.input ?? {},
      version: body.version,
      labels: body.tags || body.metadata ? { tags: body.tags ?? [], metadata: body.metadata ?? {} } : undefined,
      priority: body.priority,
      triggerType: "manual",
      user: c.var.user,
      audit: auditContextOf(c),
      idempotencyKey: c.req.valid("header")["idempotency-key"],
      trace: c.var.trace,
      confirmCaller: c.var.confirmCaller,
    });
    if (!started.created) c.header("Idempotent-Replayed", "true");
    c.header("traceparent", executionTraceparent(started.id, started.trace));
    const answer = { id: started.id, status: started.status, streamUrl: started.streamUrl };
    if (started.skipped) return c.json({ ...answer, skipped: true }, 200);
    return c.json(started.debounced ? { ...answer, debounced: true } : answer, 202);
  })
  .openapi(list, async (c) => {
    const { tag, ...query } = c.req.valid("query");
    const filters = { ...query, tags: tag, metadata: metadataFilterOf(c.req.query()) };
    return c.json(await listExecutions(c.var.db.db, c.var.user, filters), 200);
  })
  .openapi(get, async (c) => c.json(await getExecution(c.var.db.db, c.var.user, c.req.valid("param").id), 200))
  .openapi(logs, async (c) =>
    c.json(await listLogs(c.var.db.db, c.env.STORAGE, c.var.user, c.req.valid("param").id, c.req.valid("query")), 200),
  )
  .openapi(cancel, async (c) =>
    c.json(await controlled(c, "cancel", { compensate: c.req.valid("json")?.compensate }), 200),
  )
  .openapi(control("pause", "Pause: steps in flight finish; ready steps wait"), async (c) =>
    c.json(await controlled(c, "pause"), 200),
  )
  .openapi(control("resume", "Resume a paused execution"), async (c) => c.json(await controlled(c, "resume"), 200))
  .openapi(control("retry", "Rerun a failed execution from its failed steps"), async (c) =>
    c.json(await controlled(c, "retry"), 200),
  )
  .openapi(decision("approve"), async (c) => c.json(await decided(c, true), 200))
  .openapi(decision("reject"), async (c) => c.json(await decided(c, false), 200))
  .openapi(rerun, async (c) => {
    const result = await rerunExecution(
      c.var.db.db,
      c.env,
      c.var.user,
      auditContextOf(c),
      c.req.valid("param").id,
      c.req.valid("json"),
    );
    return result.dryRun ? c.json(result, 200) : c.json(result, 202);
  })
  .openapi(events, async (c) => {
    const { id, name } = c.req.valid("param");
    const body = c.req.valid("json") ?? {};
    const result = await deliverEvent(c.var.db.db, c.env, c.var.user, auditContextOf(c), id, {
      name,
      payload: body.payload ?? null,
      idempotencyKey: c.req.valid("header")["idempotency-key"] ?? null,
    });
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    return c.json({ delivered: result.delivered, buffered: result.buffered }, 202);
  })
  .openapi(items, async (c) => {
    const { id, stepId } = c.req.valid("param");
    const { after, limit, status } = c.req.valid("query");
    const found = await visibleExecution(c.var.db.db, c.var.user, id);
    return c.json(await subStepPage(c.var.db.db, found, stepId, { after: after ?? null, limit, status }), 200);
  })
  .openapi(output, async (c) => {
    const { id, stepId } = c.req.valid("param");
    return c.json(await stepOutput(c.var.db.db, c.env.STORAGE, c.var.user, id, stepId), 200);
  });

/** The `meta.<key>=<value>` parameters of a query string, checked like start bodies' metadata. */
function metadataFilterOf(query: Record<string, string>): Record<string, string> {
  const wanted = Object.fromEntries(
    Object.entries(query)
      .filter(([name]) => name.startsWith("meta."))
      .map(([name, value]) => [name.slice("meta.".length), value]),
  );
  const parsed = MetadataFilter.safeParse(wanted);
  if (!parsed.success) throw new ValidationError(zodDetails(parsed.error, "meta"));
  return parsed.data;
}
