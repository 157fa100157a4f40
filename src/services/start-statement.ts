/**
 * A start with nothing to decide before its row (no singleton, start gates, concurrency limit,
 * idempotency key or writes of its trigger) in one statement: the execution row, its audit row
 * and the active-executions quota's check, one round trip to Postgres and atomic without a
 * transaction. Every other start decides in a transaction (execution-start.ts).
 */
import { sql } from "drizzle-orm";
import type { PgInsertValue } from "drizzle-orm/pg-core";
import { type AuditEntry, auditRowOf } from "../audit/record";
import type { AuthenticatedUser } from "../auth/principal";
import type { Settings } from "../config";
import type { Database } from "../db/client";
import { auditLogs, executions } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import type { Definition } from "../steps/definition";
import { activeExecutionsCheck, rethrowQuota } from "./quotas";

export function hasNothingToDecide(
  definition: Definition,
  options: { idempotencyKey?: string; beforeCommit?: unknown },
): boolean {
  const { singleton, debounce, throttle, concurrency } = definition;
  return !singleton && !debounce && !throttle && !concurrency && !options.idempotencyKey && !options.beforeCommit;
}

/** Past the user's quota: 429 QUOTA_EXCEEDED, and nothing written. */
export async function startInOneStatement(
  db: Database,
  config: Settings,
  user: AuthenticatedUser,
  row: PgInsertValue<typeof executions> & { id: string },
  audit: AuditContext,
  entry: AuditEntry,
): Promise<void> {
  // The check counts the user's other executions (not this one, which the same statement inserts).
  const quota = activeExecutionsCheck(config, user, row.id) ?? sql`select 0`;
  await db
    .execute(sql`
      with started as (${db.insert(executions).values(row).getSQL()}),
        audited as (${db.insert(auditLogs).values(auditRowOf(audit, entry)).getSQL()})
      ${quota}`)
    .catch(rethrowQuota(config));
}
