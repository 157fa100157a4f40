/** Liveness and readiness probes (no `/api/v1` prefix, no authentication). */
import { createRoute, z } from "@hono/zod-openapi";
import { readsOperationalDetail } from "../middleware/metrics-reader";
import { readinessChecks } from "../services/health";
import { createRouter } from "./router";
import { noAuth } from "./schemas/common";

const CheckSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  severity: z.enum(["critical", "warning"]),
  detail: z.string().optional(),
  latencyMs: z.number().optional(),
});
const ReadySchema = z.object({ status: z.enum(["ready", "unavailable"]), checks: z.array(CheckSchema) });

const live = createRoute({
  method: "get",
  path: "/live",
  operationId: "getLiveness",
  security: noAuth,
  tags: ["health"],
  summary: "The Worker answers",
  responses: {
    200: { description: "alive", content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } } },
  },
});

const ready = createRoute({
  method: "get",
  path: "/ready",
  operationId: "getReadiness",
  security: noAuth,
  tags: ["health"],
  summary: "The Worker can reach its database",
  description:
    "Anyone sees which checks pass; each check's detail (backup ids, failure reasons) is shown only to a caller " +
    "presenting METRICS_TOKEN or a token with metrics:read.",
  responses: {
    200: { description: "ready", content: { "application/json": { schema: ReadySchema } } },
    503: { description: "a dependency is down", content: { "application/json": { schema: ReadySchema } } },
  },
});

/** For the OpenAPI document, which lists them beside /api/v1 (routes/docs.ts). */
export const healthDocs = { "/health/live": live, "/health/ready": ready };

export const healthRoutes = createRouter()
  .openapi(live, (c) => c.json({ status: "ok" as const }, 200))
  .openapi(ready, async (c) => {
    const [all, detailed] = await Promise.all([
      readinessChecks(c.env, (p) => c.executionCtx.waitUntil(p)),
      readsOperationalDetail(c),
    ]);
    // Backup ids and failure reasons are for operators; anyone else learns only what is ok (and,
    // when the settings are broken, which ones: names only, and no one could sign in to see them).
    const checks = detailed
      ? all
      : all.map(({ detail, ...check }) => (check.name === "configuration" ? { ...check, detail } : check));
    c.header("Cache-Control", "no-store");
    return checks.every((check) => check.ok || check.severity === "warning")
      ? c.json({ status: "ready" as const, checks }, 200)
      : c.json({ status: "unavailable" as const, checks }, 503);
  });
