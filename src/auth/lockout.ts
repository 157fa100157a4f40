/**
 * Login lockout (SPEC §7): LOGIN_MAX_FAILURES failures within 15 minutes lock the identifier for
 * LOGIN_LOCK_SECONDS. The counter lives in Postgres so every isolate sees the same lock.
 */
import { eq, sql } from "drizzle-orm";
import type { Settings } from "../config";
import type { Queryable } from "../db/client";
import { loginFailures } from "../db/schema";
import { TooManyRequestsError } from "../errors";

export const FAILURE_WINDOW_SECONDS = 15 * 60;

/** Throws 429 while `identifier` is locked. */
export async function assertNotLocked(db: Queryable, identifier: string): Promise<void> {
  const [row] = await db
    .select({ lockedUntil: loginFailures.lockedUntil })
    .from(loginFailures)
    .where(eq(loginFailures.identifier, identifier));
  const remainingMs = row?.lockedUntil ? row.lockedUntil.getTime() - Date.now() : 0;
  if (remainingMs > 0) {
    throw new TooManyRequestsError("Too many failed logins; try again later", remainingMs / 1000);
  }
}

/** Counts one failure, starting a new window when the last one has passed, and locks at the limit. */
export async function recordFailure(db: Queryable, config: Settings, identifier: string): Promise<void> {
  await db.execute(sql`
    insert into login_failures as f (identifier, failures, window_started_at, locked_until)
    values (${identifier}, 1, now(), case when 1 >= ${config.LOGIN_MAX_FAILURES}
      then now() + make_interval(secs => ${config.LOGIN_LOCK_SECONDS}) end)
    on conflict (identifier) do update set
      failures = case when f.window_started_at < now() - make_interval(secs => ${FAILURE_WINDOW_SECONDS})
        then 1 else f.failures + 1 end,
      window_started_at = case when f.window_started_at < now() - make_interval(secs => ${FAILURE_WINDOW_SECONDS})
        then now() else f.window_started_at end,
      locked_until = case
        when (case when f.window_started_at < now() - make_interval(secs => ${FAILURE_WINDOW_SECONDS})
          then 1 else f.failures + 1 end) >= ${config.LOGIN_MAX_FAILURES}
        then now() + make_interval(secs => ${config.LOGIN_LOCK_SECONDS})
        else f.locked_until end`);
}

export async function clearFailures(db: Queryable, identifier: string): Promise<void> {
  await db.delete(loginFailures).where(eq(loginFailures.identifier, identifier));
}
