/** Builds the Hono application: middleware, routers, error mapping. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { settings } from "./config";
import { errorBody, handleError } from "./errors";
import type { AppEnv } from "./middleware/app-env";
import { jsonBodiesOnly, limitBodySize } from "./middleware/body-rules";
import { database } from "./middleware/database";
import { limitIp } from "./middleware/rate-limit";
import { requestContext } from "./middleware/request-context";
import { traceContext } from "./middleware/trace-context";
import { adminBackupRoutes } from "./routes/admin-backups";
import { adminDrillRoutes } from "./routes/admin-drills";
import { agentRoutes } from "./routes/agents";
import { apiTokenRoutes } from "./routes/api-tokens";
import { approvalRoutes } from "./routes/approvals";
import { auditRoutes } from "./routes/audit";
import { authRoutes } from "./routes/auth";
import { bulkActionRoutes } from "./routes/bulk-actions";
import { mountDocs } from "./routes/docs";
import { executionRoutes } from "./routes/executions";
import { healthRoutes } from "./routes/health";
import { hookRoutes } from "./routes/hooks";
import { mcpRoutes } from "./routes/mcp";
import { metricsRoutes } from "./routes/metrics";
import { notificationChannelRoutes } from "./routes/notification-channels";
import { platformSecretRoutes, workflowSecretRoutes } from "./routes/secrets";
import { streamRoutes } from "./routes/streams";
import { userRoutes } from "./routes/users";
import { workflowRoutes } from "./routes/workflows";

export function buildApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", requestContext);
  app.use("*", traceContext);
  // nosniff, no framing, no referrer, and a CSP that lets an API answer load nothing (docs/api.md).
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
      xFrameOptions: "DENY",
      referrerPolicy: "no-referrer",
      crossOriginResourcePolicy: "same-origin",
    }),
  );
  app.use("*", (c, next) =>
    cors({ origin: allowedOrigins(c.env), exposeHeaders: ["X-Request-Id", "Retry-After"], maxAge: 600 })(c, next),
  );
  app.use("*", limitBodySize, jsonBodiesOnly);

  const base = new OpenAPIHono<AppEnv>();
  base.use("/auth/login", limitIp);
  base.use("/auth/refresh", limitIp);
  base.use("/hooks/*", limitIp);
  base.use("*", database);
  // Chained, so the type of the result names every route (AppType, for hono/client's hc).
  const api = base
    .route("/auth/api-tokens", apiTokenRoutes)
    .route("/auth", authRoutes)
    .route("/users", userRoutes)
    .route("/workflows", workflowRoutes)
    .route("/workflows", workflowSecretRoutes)
    .route("/", platformSecretRoutes)
    .route("/agents", agentRoutes)
    .route("/audit", auditRoutes)
    .route("/approvals", approvalRoutes)
    .route("/executions/bulk", bulkActionRoutes)
    .route("/", executionRoutes)
    .route("/", streamRoutes)
    .route("/hooks", hookRoutes)
    .route("/admin/backups", adminBackupRoutes)
    .route("/admin/drills", adminDrillRoutes)
    .route("/notification-channels", notificationChannelRoutes);
  // The same object as `api`, typed as OpenAPIHono still: its registry holds every route's schema.
  mountDocs(base);
  const routed = app
    .route("/health", healthRoutes)
    .route("/metrics", metricsRoutes)
    .route("/mcp", mcpRoutes)
    .route("/api/v1", api);

  routed.notFound((c) => c.json(errorBody(c, "NOT_FOUND", "No route matches this path"), 404));
  routed.onError(handleError);
  return routed;
}

/** Every route of the platform with its inputs and answers, for `hc<AppType>` (src/client.ts). */
export type AppType = ReturnType<typeof buildApp>;

function allowedOrigins(env: AppEnv["Bindings"]): string[] {
  try {
    return settings(env).CORS_ORIGINS;
  } catch {
    return [];
  }
}
