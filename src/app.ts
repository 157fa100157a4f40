/** Builds the Hono application: middleware, routers, error mapping. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";
import { settings } from "./config";
import type { AppEnv } from "./env";
import { errorBody, handleError } from "./errors";
import { jsonBodiesOnly, limitBodySize } from "./middleware/body-rules";
import { database } from "./middleware/database";
import { limitIp } from "./middleware/rate-limit";
import { requestContext } from "./middleware/request-context";
import { adminBackupRoutes } from "./routes/admin-backups";
import { agentRoutes } from "./routes/agents";
import { apiTokenRoutes } from "./routes/api-tokens";
import { approvalRoutes } from "./routes/approvals";
import { auditRoutes } from "./routes/audit";
import { authRoutes } from "./routes/auth";
import { mountDocs } from "./routes/docs";
import { executionRoutes } from "./routes/executions";
import { healthRoutes } from "./routes/health";
import { hookRoutes } from "./routes/hooks";
import { metricsRoutes } from "./routes/metrics";
import { platformSecretRoutes, workflowSecretRoutes } from "./routes/secrets";
import { streamRoutes } from "./routes/streams";
import { userRoutes } from "./routes/users";
import { workflowRoutes } from "./routes/workflows";

export function buildApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", requestContext);
  // nosniff, no framing, no referrer, and a CSP that lets an API answer load nothing (SPEC §2).
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

  app.route("/health", healthRoutes);
  app.route("/metrics", metricsRoutes);

  const api = new OpenAPIHono<AppEnv>();
  api.use("/auth/login", limitIp);
  api.use("/auth/refresh", limitIp);
  api.use("/hooks/*", limitIp);
  api.use("*", database);
  api.route("/auth/api-tokens", apiTokenRoutes);
  api.route("/auth", authRoutes);
  api.route("/users", userRoutes);
  api.route("/workflows", workflowRoutes);
  api.route("/workflows", workflowSecretRoutes);
  api.route("/", platformSecretRoutes);
  api.route("/agents", agentRoutes);
  api.route("/audit", auditRoutes);
  api.route("/approvals", approvalRoutes);
  api.route("/", executionRoutes);
  api.route("/", streamRoutes);
  api.route("/hooks", hookRoutes);
  api.route("/admin/backups", adminBackupRoutes);
  mountDocs(api);
  app.route("/api/v1", api);

  app.notFound((c) => c.json(errorBody(c, "NOT_FOUND", "No route matches this path"), 404));
  app.onError(handleError);
  return app;
}

function allowedOrigins(env: AppEnv["Bindings"]): string[] {
  try {
    return settings(env).CORS_ORIGINS;
  } catch {
    return [];
  }
}
