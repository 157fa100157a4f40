/** GET /metrics (no prefix): Prometheus text, for metrics:read or the METRICS_TOKEN bearer. */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { settings } from "../config";
import { timingSafeEqual } from "../crypto/encoding";
import type { AppEnv } from "../env";
import { authenticate, requirePermission } from "../middleware/auth";
import { database } from "../middleware/database";
import { renderMetrics } from "../services/metrics";

/** Scrapers present the static token; people present an access token with metrics:read. */
const metricsAccess = createMiddleware<AppEnv>(async function metricsAccess(c, next) {
  const token = settings(c.env).METRICS_TOKEN;
  const presented = c.req.header("authorization")?.replace(/^Bearer /, "");
  if (token && presented && timingSafeEqual(presented, token)) return next();
  await authenticate(c, async () => {
    await requirePermission("metrics:read")(c, next);
  });
});

export const metricsRoutes = new Hono<AppEnv>().use("*", database).get("/", metricsAccess, async (c) => {
  c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  c.header("Cache-Control", "no-store");
  return c.body(await renderMetrics(c.var.db.db));
});
