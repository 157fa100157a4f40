/** Schemas every route shares: the error shape, ids, pagination, and the security scheme. */
import { z } from "@hono/zod-openapi";
import { DEFAULT_LIMIT, MAX_LIMIT } from "../../services/pagination";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "VALIDATION_FAILED" }),
      message: z.string(),
      requestId: z.string(),
      timestamp: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi("Error");

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** The error responses a route can give, by status, for the OpenAPI document. */
export const errors = {
  400: errorResponse("Malformed JSON or bad query/path parameters"),
  401: errorResponse("Missing, invalid, expired or revoked credentials"),
  403: errorResponse("The caller lacks the permission"),
  404: errorResponse("Not found, or not visible to the caller"),
  409: errorResponse("Conflicts with the current state"),
  413: errorResponse("Body over 1 MB"),
  415: errorResponse("Body is not JSON"),
  422: errorResponse("Well-formed JSON that breaks the schema or the rules"),
  429: errorResponse("Too many attempts"),
} as const;

/** Standard errors of an authenticated route that takes a body. */
export const mutationErrors = {
  400: errors[400],
  401: errors[401],
  403: errors[403],
  413: errors[413],
  415: errors[415],
  422: errors[422],
};
export const readErrors = { 400: errors[400], 401: errors[401], 403: errors[403] };

export const bearer = [{ bearerAuth: [] }];
/** Login needs no credential beyond its body. */
export const noAuth: Array<Record<string, string[]>> = [];
/** A refresh token in the body, or the browser's refresh cookie (the dashboard's extension). */
export const refreshAuth: Array<Record<string, string[]>> = [{}, { refreshCookie: [] }];
/** The signature of the workflow's webhook secret (docs/workflows.md). */
export const webhookSignature = [{ webhookSignature: [] }];
/** The single-use ticket from POST /executions/:id/stream-ticket. */
export const streamTicket = [{ streamTicket: [] }];

export const IdParam = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT).openapi({ example: 50 }),
  cursor: z.string().max(512).optional(),
});

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);
}

export const json = <T extends z.ZodType>(schema: T, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T, required = true) => ({
  required,
  content: { "application/json": { schema } },
});

/** Repeated (`?tag=a&tag=b`) or comma-separated (`?tag=a,b`) query values as one list. */
export const QueryList = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) =>
    (Array.isArray(value) ? value : value ? [value] : [])
      .flatMap((item) => item.split(","))
      .map((item) => item.trim())
      .filter(Boolean),
  );

export const Timestamp = z.string().openapi({ format: "date-time", example: "2026-11-22T10:00:00.000Z" });
