/**
 * Request id and the access log: every response carries `X-Request-Id` (the caller's, when it is
 * a sane token, else a fresh UUID) and every request ends in exactly one JSON log line.
 */
import { createMiddleware } from "hono/factory";
import { requestId } from "hono/request-id";
import { logEvent } from "../observability/log";
import type { AppEnv } from "./app-env";

/** The caller's X-Request-Id when it is a short word-character token, else a fresh UUID (hono/request-id). */
const assignRequestId = requestId({ limitLength: 64 });

export const requestContext = createMiddleware<AppEnv>(async function requestContext(c, next) {
  const started = Date.now();
  try {
    await assignRequestId(c, next);
  } finally {
    const requestId = c.var.requestId;
    // Set again on the final answer: onError and notFound build new responses.
    c.header("X-Request-Id", requestId);
    const status = c.res.status;
    const line = {
      requestId,
      method: c.req.method,
      // The path only: query strings can carry stream tickets and cursors.
      path: new URL(c.req.url).pathname,
      status,
      durationMs: Date.now() - started,
      userId: c.var.user?.id,
    };
    // Written once the answer is on its way: a log line costs the isolate time the caller need not wait for.
    c.executionCtx.waitUntil(scheduler.wait(0).then(() => logEvent(status >= 500 ? "error" : "info", "request", line)));
  }
});
