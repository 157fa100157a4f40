/** GET /metrics (no prefix): Prometheus text, for metrics:read or the METRICS_TOKEN bearer. */
import { createRoute, z } from "@hono/zod-openapi";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { backupSchedule } from "../backup/health";
import { settings } from "../config";
import type { AppEnv } from "../middleware/app-env";
import { authenticate, requirePermission } from "../middleware/auth";
import { database } from "../middleware/database";
import { presentsMetricsToken } from "../middleware/metrics-reader";
import { renderMetrics } from "../services/metrics";
import { errors } from "./schemas/common";

/** Scrapers present the static token; people present an access token with metrics:read. */
const metricsAccess = createMiddleware<AppEnv>(async function metricsAccess(c, next) {
  if (presentsMetricsToken(c)) return next();
  await authenticate(c, async () => {
    await requirePermission("metrics:read")(c, next);
  });
});

export const metricsRoutes = new Hono<AppEnv>().use("*", database).get("/", metricsAccess, async (c) => {
  c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  c.header("Cache-Control", "no-store");
  return c.body(
    await renderMetrics(c.var.db.db, {
      schedule: backupSchedule(c.env, settings(c.env)),
      queues: { steps: c.env.STEPS_QUEUE, jobs: c.env.JOBS_QUEUE },
    }),
  );
});

/** For the OpenAPI document only (the route above is plain Hono: its answer is Prometheus text). */
export const metricsDoc = createRoute({
  method: "get",
  path: "/metrics",
  operationId: "getMetrics",
  tags: ["metrics"],
  summary: "Prometheus text computed from Postgres (docs/operations.md)",
  security: [{ metricsToken: [] }, { bearerAuth: [] }],
  responses: {
    200: { description: "The metrics", content: { "text/plain": { schema: z.string() } } },
    401: errors[401],
    403: errors[403],
  },
});
