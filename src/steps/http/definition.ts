/** The `http` step's definition (docs/workflows.md): one request, templated, and the statuses that succeed. */
import { z } from "zod";
import { commonStepFields, JsonValue } from "../../engine/step-fields";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;

export const HttpStepSchema = z.strictObject({
  ...commonStepFields,
  type: z.literal("http"),
  request: z.strictObject({
    url: z.string().min(1).max(8192),
    method: z.enum(HTTP_METHODS).default("GET"),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "not a header name"), z.string().max(8192))
      .optional(),
    body: JsonValue.optional(),
  }),
  expectStatus: z
    .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
    .optional(),
});
export type HttpStep = z.infer<typeof HttpStepSchema>;
