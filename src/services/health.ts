/** Readiness checks: configuration and a database round trip under a deadline. */
import { sql } from "drizzle-orm";
import { settings } from "../config";
import { openDatabase } from "../db/client";
import type { Bindings } from "../env";

/** Long enough for a Neon compute to wake from scale-to-zero. */
export const READY_TIMEOUT_MS = 5_000;

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
  latencyMs?: number;
}

export async function readinessChecks(env: Bindings, waitUntil: (p: Promise<unknown>) => void): Promise<Check[]> {
  let config: ReturnType<typeof settings>;
  try {
    config = settings(env);
  } catch {
    return [{ name: "configuration", ok: false, detail: "settings are missing or invalid (see the logs)" }];
  }
  const session = openDatabase({
    connectionString: config.DATABASE_URL,
    wsProxy: config.NEON_WS_PROXY,
    connectTimeoutMs: READY_TIMEOUT_MS,
    max: 1,
  });
  const started = Date.now();
  try {
    await withDeadline(session.db.execute(sql`select 1`), READY_TIMEOUT_MS);
    return [{ name: "database", ok: true, latencyMs: Date.now() - started }];
  } catch (error) {
    const detail = error instanceof DeadlineError ? "timed out" : "unreachable";
    return [{ name: "database", ok: false, detail, latencyMs: Date.now() - started }];
  } finally {
    waitUntil(session.close());
  }
}

class DeadlineError extends Error {}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
