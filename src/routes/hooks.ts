/** POST /hooks/:workflowId: the signed webhook trigger (SPEC §6). */
import { createRoute, z } from "@hono/zod-openapi";
import { SYSTEM_ACTOR } from "../audit/record";
import { settings } from "../config";
import { receiveWebhook } from "../services/webhooks";
import { createRouter } from "./router";
import { errors, json } from "./schemas/common";
import { StartedSchema } from "./schemas/executions";

const hook = createRoute({
  method: "post",
  path: "/{workflowId}",
  tags: ["triggers"],
  summary: "Start an active workflow from a signed webhook; the JSON body becomes the input",
  description:
    "The body (a JSON object) is verified against the signature byte for byte, then becomes the execution's input. " +
    "Refused with 401 when the signature is wrong or t is more than 300 s away, 409 when a signature is replayed.",
  request: {
    params: z.object({ workflowId: z.uuid().openapi({ param: { name: "workflowId", in: "path" } }) }),
    headers: z.object({
      "x-ipa-signature": z
        .string()
        .optional()
        .openapi({ description: 't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>' }),
    }),
  },
  responses: {
    202: json(StartedSchema, "Accepted"),
    401: errors[401],
    409: errors[409],
    413: errors[413],
    422: errors[422],
  },
});

export const hookRoutes = createRouter().openapi(hook, async (c) => {
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
  );
  return c.json({ id: started.id, status: started.status, streamUrl: started.streamUrl }, 202);
});
