/**
 * The one error family of the API and the single place that maps errors to the docs/api.md shape:
 * `{ error: { code, message, requestId, timestamp, details? } }`. Clients never see stack traces
 * or SQL; unknown errors are logged with the request id and answered with a generic 500.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ZodError } from "zod";
import { ConfigurationError } from "./config";
import { describeError } from "./observability/describe-error";
import { logEvent } from "./observability/log";

export interface ErrorDetail {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly details?: ErrorDetail[];
  readonly headers?: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    options: { details?: ErrorDetail[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export class BadRequestError extends AppError {
  constructor(message = "The request is malformed", details?: ErrorDetail[]) {
    super(400, "BAD_REQUEST", message, { details });
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "Authentication is required") {
    super(401, "UNAUTHORIZED", message, { headers: { "WWW-Authenticate": "Bearer" } });
  }
}

export class ForbiddenError extends AppError {
  constructor(message = "You do not have permission to do this") {
    super(403, "FORBIDDEN", message);
  }
}

/** The caller's roles allow it, but the API token they presented was not given that scope. */
export class InsufficientScopeError extends AppError {
  constructor(permission: string) {
    super(403, "INSUFFICIENT_SCOPE", `The API token's scopes do not include ${permission}`);
  }
}

export class NotFoundError extends AppError {
  constructor(what = "Resource") {
    super(404, "NOT_FOUND", `${what} not found`);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = "CONFLICT") {
    super(409, code, message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, "PAYLOAD_TOO_LARGE", `The request body exceeds ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor() {
    super(415, "UNSUPPORTED_MEDIA_TYPE", "Request bodies must be application/json");
  }
}

export class ValidationError extends AppError {
  constructor(details: ErrorDetail[], message = "The request failed validation") {
    super(422, "VALIDATION_FAILED", message, { details });
  }
}

export class TooManyRequestsError extends AppError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, "TOO_MANY_REQUESTS", message, {
      headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message = "A dependency is unavailable", details?: ErrorDetail[]) {
    super(503, "SERVICE_UNAVAILABLE", message, { details });
  }
}

/** Turns zod issues into `{ path, message }` details with dotted paths (`steps.2.id`). */
export function zodDetails(error: ZodError, prefix = ""): ErrorDetail[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join(".") || "(root)",
    message: issue.message,
  }));
}

/** Builds the docs/api.md error body. */
export function errorBody(c: Context, code: string, message: string, details?: ErrorDetail[]) {
  return {
    error: {
      code,
      message,
      requestId: c.get("requestId") ?? "unknown",
      timestamp: new Date().toISOString(),
      ...(details ? { details } : {}),
    },
  };
}

/**
 * A setting is missing or malformed: the logs name it (ConfigurationError.problems), clients
 * learn only that the platform is misconfigured.
 */
export class MisconfiguredError extends AppError {
  constructor(cause: ConfigurationError) {
    super(500, "CONFIGURATION_ERROR", "The platform is misconfigured; its operator has been told what to fix", {
      cause,
    });
  }
}

/** Hono `onError`: the only mapping from thrown errors to responses. Every 5xx is logged with its cause. */
export function handleError(err: Error, c: Context): Response {
  const known = toAppError(err) ?? new AppError(500, "INTERNAL_ERROR", "An unexpected error occurred", { cause: err });
  if (known.status >= 500) logServerError(c, known);
  for (const [name, value] of Object.entries(known.headers ?? {})) c.header(name, value);
  return c.json(errorBody(c, known.code, known.message, known.details), known.status);
}

function logServerError(c: Context, error: AppError): void {
  const cause = error.cause ?? error;
  logEvent("error", "server_error", {
    requestId: c.get("requestId"),
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    status: error.status,
    code: error.code,
    ...(cause instanceof ConfigurationError ? { problems: cause.problems } : describeError(cause)),
  });
}

function toAppError(err: Error): AppError | null {
  if (err instanceof AppError) return err;
  if (err instanceof ConfigurationError) return new MisconfiguredError(err);
  if (err instanceof ZodError) return new ValidationError(zodDetails(err));
  if (err instanceof HTTPException) {
    // Hono's own validators throw these: malformed JSON (400) and missing content type (415).
    if (err.status === 415) return new UnsupportedMediaTypeError();
    if (err.status === 413) return new PayloadTooLargeError(0);
    if (err.status === 400) return new BadRequestError(safeHonoMessage(err.message));
    if (err.status === 401) return new UnauthorizedError();
    return new AppError(err.status as ContentfulStatusCode, "HTTP_ERROR", err.message);
  }
  return null;
}

function safeHonoMessage(message: string): string {
  return /json/i.test(message) ? "The request body is not valid JSON" : "The request is malformed";
}
