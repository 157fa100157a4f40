/** Builds the Hono application: middleware, routers, error mapping. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { settings } from "./config";
import type { AppEnv } from "./env";
import { errorBody, handleError } from "./errors";
import { jsonBodiesOnly, limitBodySize } from "./middleware/body-rules";
import { requestContext } from "./middleware/request-context";
import { healthRoutes } from "./routes/health";

export function buildApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", requestContext);
  app.use("*", (c, next) => {
    const origins = safeOrigins(c.env);
    return cors({ origin: origins, exposeHeaders: ["X-Request-Id", "Retry-After"], maxAge: 600 })(c, next);
  });
  app.use("*", limitBodySize, jsonBodiesOnly);

  app.route("/health", healthRoutes);

  app.notFound((c) => c.json(errorBody(c, "NOT_FOUND", "No route matches this path"), 404));
  app.onError(handleError);
  return app;
}

function safeOrigins(env: AppEnv["Bindings"]): string[] {
  try {
    return settings(env).CORS_ORIGINS;
  } catch {
    return [];
  }
}
