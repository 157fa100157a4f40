/** Hourly housekeeping of short-lived shared state that has served its purpose. */
import { sql } from "drizzle-orm";
import { FAILURE_WINDOW_SECONDS } from "../auth/lockout";
import type { Database } from "../db/client";

export async function runCleanup(db: Database): Promise<Record<string, number>> {
  const removed: Record<string, number> = {};
  const statements: Array<[string, ReturnType<typeof sql>]> = [
    ["streamTickets", sql`delete from stream_tickets where expires_at < now() - interval '1 hour'`],
    ["idempotencyKeys", sql`delete from idempotency_keys where expires_at < now()`],
    ["revokedAccessTokens", sql`delete from revoked_access_tokens where expires_at < now()`],
    // Signatures older than the 300 s tolerance can no longer be replayed; a day is ample.
    ["webhookDeliveries", sql`delete from webhook_deliveries where received_at < now() - interval '1 day'`],
    ["scheduleRuns", sql`delete from schedule_runs where slot < now() - interval '30 days'`],
    [
      "loginFailures",
      sql`delete from login_failures where window_started_at < now() - make_interval(secs => ${FAILURE_WINDOW_SECONDS})
          and (locked_until is null or locked_until < now())`,
    ],
    // An execution's outbox retries its audit rows until Postgres takes them: minutes, at worst days.
    ["auditDedupeKeys", sql`delete from audit_dedupe_keys where created_at < now() - interval '30 days'`],
    // A channel's settled deliveries stay a month, to be read back (docs/operations.md "Notifications").
    [
      "notificationDeliveries",
      sql`delete from notification_deliveries where status <> 'pending' and created_at < now() - interval '30 days'`,
    ],
    ["refreshTokens", sql`delete from refresh_token_families where expires_at < now() - interval '1 day'`],
  ];
  for (const [name, statement] of statements) removed[name] = (await db.execute(statement)).rowCount ?? 0;
  return removed;
}
