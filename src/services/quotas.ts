/**
 * Per-user quotas (SPEC §7): workflows, active executions and schedules a user may have, checked
 * inside the transaction that would exceed them, under a per-user lock so concurrent requests
 * cannot overrun one. Admins are exempt. Over a quota: 429 QUOTA_EXCEEDED.
 */
import { sql } from "drizzle-orm";
import type { Settings } from "../config";
import type { Queryable } from "../db/client";
import { AppError } from "../errors";

export type Quota = "workflows" | "activeExecutions" | "schedules";

export class QuotaExceededError extends AppError {
  constructor(what: string, limit: number) {
    super(429, "QUOTA_EXCEEDED", `The quota of ${limit} ${what} is reached`, { headers: { "Retry-After": "60" } });
  }
}

const QUOTAS: Record<
  Quota,
  { setting: (config: Settings) => number; what: string; count: (userId: string) => ReturnType<typeof sql> }
> = {
  workflows: {
    setting: (config) => config.QUOTA_WORKFLOWS_PER_USER,
    what: "workflows",
    count: (userId) =>
      sql`select count(*)::int as n from workflows where owner_id = ${userId} and status <> 'archived'`,
  },
  schedules: {
    setting: (config) => config.QUOTA_SCHEDULES_PER_USER,
    what: "scheduled workflows",
    count: (userId) =>
      sql`select count(*)::int as n from workflows where owner_id = ${userId} and status <> 'archived' and schedule is not null`,
  },
  activeExecutions: {
    setting: (config) => config.QUOTA_ACTIVE_EXECUTIONS_PER_USER,
    what: "active executions",
    count: (userId) => sql`
      select count(*)::int as n from executions e join workflows w on w.id = e.workflow_id
      where e.status not in ('completed', 'failed', 'cancelled')
        and (e.triggered_by = ${userId} or (e.triggered_by is null and w.owner_id = ${userId}))`,
  },
};

/** Throws unless `userId` may add one more of `quota` (call inside the transaction that adds it). */
export async function assertQuota(
  tx: Queryable,
  config: Settings,
  quota: Quota,
  user: { id: string; roles: readonly string[] },
): Promise<void> {
  if (user.roles.includes("admin")) return;
  const { setting, what, count } = QUOTAS[quota];
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`quota:${quota}:${user.id}`}))`);
  const { rows } = await tx.execute<{ n: number }>(count(user.id));
  if (Number(rows[0]?.n ?? 0) >= setting(config)) throw new QuotaExceededError(what, setting(config));
}
