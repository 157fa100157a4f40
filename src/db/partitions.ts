/**
 * Monthly partitions of the tables that grow with use (migrations/0018): `execution_logs` and
 * `audit_logs`, by `created_at`, one table per UTC month named `<table>_pYYYY_MM`. The cron keeps
 * the next months created ahead, so a write never finds its month missing; log archival drops
 * whole months once R2 holds them (src/logs/archive.ts); audit months stay.
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "./client";

export const PARTITIONED_TABLES = ["execution_logs", "audit_logs"] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** Months kept created beyond the current one. */
export const MONTHS_AHEAD = 2;

/** The first instant of the UTC month holding `at`, `offset` months on. */
export function monthStart(at: Date, offset = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1));
}

export function partitionName(table: PartitionedTable, month: Date): string {
  return `${table}_p${month.toISOString().slice(0, 7).replace("-", "_")}`;
}

/** The month a partition holds, from its name; null for a name that is not one of ours. */
export function partitionMonth(table: string, name: string): Date | null {
  const match = new RegExp(`^${table}_p(\\d{4})_(\\d{2})$`).exec(name);
  return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1)) : null;
}

/** Creates the months from `first` to `last` that do not exist yet; answers how many it created. */
export async function ensurePartitions(db: Queryable, table: PartitionedTable, first: Date, last: Date) {
  const day = (at: Date) => at.toISOString().slice(0, 10);
  const { rows } = await db.execute<{ created: number }>(
    sql`select ensure_month_partitions(${table}, ${day(first)}::date, ${day(last)}::date) as created`,
  );
  return Number(rows[0].created);
}

/** The cron's job: this month and the next MONTHS_AHEAD exist for every partitioned table. */
export async function createPartitionsAhead(db: Queryable, now: Date): Promise<Record<PartitionedTable, number>> {
  const created = {} as Record<PartitionedTable, number>;
  for (const table of PARTITIONED_TABLES) {
    created[table] = await ensurePartitions(db, table, monthStart(now), monthStart(now, MONTHS_AHEAD));
  }
  return created;
}
