/**
 * W3C Trace Context on the API (docs/operations.md): a valid incoming `traceparent` is kept for the request
 * (an execution it starts joins that trace), and every answer carries one — the started
 * execution's span for a start, else the caller's trace (or a new one) with a span for this request.
 */
import { createMiddleware } from "hono/factory";
import { formatTraceparent, parseTraceparent, randomSpanId } from "../observability/tracing/trace-context";
import type { AppEnv } from "./app-env";

export const traceContext = createMiddleware<AppEnv>(async function traceContext(c, next) {
  const incoming = parseTraceparent(c.req.header("traceparent"));
  c.set("trace", incoming);
  await next();
  if (!c.res.headers.has("traceparent")) {
    const traceId = incoming?.traceId ?? `${randomSpanId()}${randomSpanId()}`;
    c.header("traceparent", formatTraceparent(traceId, randomSpanId()));
  }
});
