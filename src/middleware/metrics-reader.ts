/**
 * Who may read the platform's operational detail (/metrics, and /health/ready's details): a
 * scraper presenting METRICS_TOKEN, or a caller whose token carries metrics:read.
 */
import type { Context } from "hono";
import { hasPermission } from "../auth/permissions";
import { settings } from "../config";
import { secretEquals } from "../crypto/encoding";
import { openPlatformDatabase } from "../db/client";
import type { AppEnv } from "./app-env";
import { principalOf } from "./auth";

/** The bearer credential of the request, if it sent one. */
export function bearerOf(c: Context<AppEnv>): string | null {
  return /^Bearer (\S+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? null;
}

/** Whether the request presents METRICS_TOKEN (compared in constant time, its length hidden). */
export function presentsMetricsToken(c: Context<AppEnv>): boolean {
  const token = settings(c.env).METRICS_TOKEN;
  const presented = bearerOf(c);
  return token !== undefined && presented !== null && secretEquals(presented, token);
}

/**
 * Whether the caller may read operational detail, never throwing: an unknown or revoked
 * credential simply reads none (the probe answers anyone, with less).
 */
export async function readsOperationalDetail(c: Context<AppEnv>): Promise<boolean> {
  const credential = bearerOf(c);
  if (!credential) return false;
  let session: ReturnType<typeof openPlatformDatabase> | null = null;
  try {
    if (presentsMetricsToken(c)) return true;
    session = openPlatformDatabase(settings(c.env), { max: 1 });
    const { user, liveness } = await principalOf(session.db, settings(c.env), credential, {
      waitUntil: (p) => c.executionCtx.waitUntil(p),
      limit: async () => {},
    });
    await liveness;
    return hasPermission(user, "metrics:read");
  } catch {
    return false;
  } finally {
    if (session) c.executionCtx.waitUntil(session.close());
  }
}
