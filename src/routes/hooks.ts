/** POST /hooks/:workflowId: the signed webhook trigger (docs/workflows.md). */
import { createRoute, z } from "@hono/zod-openapi";
import { SYSTEM_ACTOR } from "../audit/record";
import { settings } from "../config";
import { executionTraceparent } from "../observability/tracing/trace-context";
import { receiveEventHook } from "../services/execution-events";
import { receiveWebhook } from "../services/webhooks";
import { createRouter } from "./router";
import { errors, json, webhookSignature } from "./schemas/common";
import { DeliveryResultSchema, StartedSchema } from "./schemas/executions";

const signatureHeader = (covers: string) =>
  z.object({
    "x-ipa-signature": z
      .string()
      .optional()
      .openapi({ description: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "${covers}")>` }),
  });

const hook = createRoute({
  method: "post",
  path: "/{workflowId}",
  operationId: "startFromWebhook",
  security: webhookSignature,
  tags: ["triggers"],
  summary: "Start an active workflow from a signed webhook; the JSON body becomes the input",
  description:
    "The body (a JSON object) is verified against the signature byte for byte, then becomes the execution's input. " +
    "Refused with 401 when the signature is wrong or t is more than 300 s away, 409 when the signature was " +
    "already accepted on any hook of this workflow.",
  request: {
    params: z.object({ workflowId: z.uuid().openapi({ param: { name: "workflowId", in: "path" } }) }),
    headers: signatureHeader("<t>.<raw body>"),
  },
  responses: {
    202: json(StartedSchema, "Accepted"),
    401: errors[401],
    409: errors[409],
    413: errors[413],
    422: errors[422],
  },
});

const eventHook = createRoute({
  method: "post",
  path: "/{workflowId}/executions/{id}/events/{name}",
  operationId: "deliverSignedEvent",
  security: webhookSignature,
  tags: ["triggers"],
  summary: "Deliver an event to an execution from an outside system, signed like a webhook",
  description:
    "Signed with the workflow's webhook secret over the execution id and the event name as well as the body, so " +
    "a signature is good for this one target; the JSON body is the payload. 401 for a bad signature, 404 for an " +
    "execution of another workflow, 409 for a signature already accepted on any hook of this workflow (a sender's " +
    "retry of the same delivery is delivered once).",
  request: {
    params: z.object({
      workflowId: z.uuid().openapi({ param: { name: "workflowId", in: "path" } }),
      id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
      name: z
        .string()
        .regex(/^[A-Za-z0-9._:-]{1,128}$/)
        .openapi({ param: { name: "name", in: "path" } }),
    }),
    headers: signatureHeader("<t>.<executionId>.<name>.<raw body>"),
  },
  responses: {
    202: json(DeliveryResultSchema, "Accepted"),
    401: errors[401],
    404: errors[404],
    409: errors[409],
    413: errors[413],
    422: errors[422],
  },
});

export const hookRoutes = createRouter()
  .openapi(eventHook, async (c) => {
    const { workflowId, id, name } = c.req.valid("param");
    const result = await receiveEventHook(
      c.var.db.db,
      c.env,
      settings(c.env),
      { workflowId, executionId: id, name },
      c.req.header("x-ipa-signature"),
      await c.req.text(),
      c.get("requestId"),
    );
    return c.json(result, 202);
  })
  .openapi(hook, async (c) => {
    // The signature covers the exact bytes, so the raw body is read rather than a parsed one.
    const rawBody = await c.req.text();
    const started = await receiveWebhook(
      c.var.db.db,
      c.env,
      settings(c.env),
      c.req.valid("param").workflowId,
      c.req.header("x-ipa-signature"),
      rawBody,
      {
        ...SYSTEM_ACTOR,
        actorEmail: "webhook",
        requestId: c.get("requestId"),
        userAgent: c.req.header("user-agent") ?? null,
      },
      c.var.trace,
    );
    c.header("traceparent", executionTraceparent(started.id, started.trace));
    const answer = { id: started.id, status: started.status, streamUrl: started.streamUrl };
    // A singleton's skip or a debounce's join is still an accepted delivery (202), and says so.
    return c.json(
      { ...answer, ...(started.skipped ? { skipped: true } : {}), ...(started.debounced ? { debounced: true } : {}) },
      202,
    );
  });
