/**
 * Request id and the access log: every response carries `X-Request-Id` (the caller's, when it is
 * a sane token, else a fresh UUID) and every request ends in exactly one JSON log line.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { logEvent } from "../observability/log";

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

export const requestContext = createMiddleware<AppEnv>(async function requestContext(c, next) {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", requestId);
  const started = Date.now();
  try {
    await next();
  } finally {
    c.header("X-Request-Id", requestId);
    const status = c.res.status;
    logEvent(status >= 500 ? "error" : "info", "request", {
      requestId,
      method: c.req.method,
      // The path only: query strings can carry stream tickets and cursors.
      path: new URL(c.req.url).pathname,
      status,
      durationMs: Date.now() - started,
      userId: c.var.user?.id,
    });
  }
});
