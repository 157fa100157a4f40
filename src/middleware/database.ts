/** One database session per request, closed after the response with `waitUntil`. */
import { createMiddleware } from "hono/factory";
import { settings } from "../config";
import { openPlatformDatabase } from "../db/client";
import type { AppEnv } from "./app-env";

export const database = createMiddleware<AppEnv>(async function database(c, next) {
  const config = settings(c.env);
  const session = openPlatformDatabase(config);
  c.set("db", session);
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(session.close());
  }
});
