/**
 * Monthly partitions of the tables that grow with use (migrations/0018): `execution_logs` and
 * `audit_logs`, by `created_at`, one table per UTC month named `<table>_pYYYY_MM`, and a DEFAULT
 * partition `<table>_default` (migrations/0021) for a row whose month is missing, so no write is
 * ever refused for it. The cron keeps the next months created ahead and moves any row the default
 * partition took into its month; the metrics say how far ahead the newest month is and how many
 * rows wait in a default partition. Log archival drops whole months once R2 holds them
 * (src/logs/archive.ts); audit months stay.
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

/**
 * The cron's job: this month and the next MONTHS_AHEAD exist for every partitioned table, and so
 * does every month a row of the default partition belongs to (creating it moves the row there).
 */
export async function createPartitionsAhead(db: Queryable, now: Date): Promise<Record<PartitionedTable, number>> {
  const created = {} as Record<PartitionedTable, number>;
  for (const table of PARTITIONED_TABLES) {
    created[table] = await ensurePartitions(db, table, monthStart(now), monthStart(now, MONTHS_AHEAD));
    for (const month of await strayMonths(db, table)) created[table] += await ensurePartitions(db, table, month, month);
  }
  return created;
}

/** The months of the rows waiting in a table's default partition. */
async function strayMonths(db: Queryable, table: PartitionedTable): Promise<Date[]> {
  const { rows } = await db.execute<{ month: string }>(
    sql`select distinct to_char(date_trunc('month', created_at at time zone 'UTC'), 'YYYY-MM-DD') as month
        from ${sql.identifier(defaultPartitionOf(table))}`,
  );
  return rows.map((row) => new Date(`${row.month}T00:00:00Z`));
}

export function defaultPartitionOf(table: PartitionedTable): string {
  return `${table}_default`;
}

export interface PartitionHealth {
  table: PartitionedTable;
  /** Whole months from the current one to the newest partition (0: only this month exists). */
  monthsAhead: number;
  /** Rows waiting in the default partition for their month to be created. */
  defaultRows: number;
}

/** How far ahead each table's partitions reach, and what waits in its default partition. */
export async function partitionHealth(db: Queryable, now: Date): Promise<PartitionHealth[]> {
  const out: PartitionHealth[] = [];
  for (const table of PARTITIONED_TABLES) {
    const { rows } = await db.execute<{ name: string }>(
      sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = ${table}::regclass`,
    );
    const months = rows.flatMap((row) => partitionMonth(table, row.name) ?? []);
    const newest = new Date(Math.max(0, ...months.map((month) => month.getTime())));
    const current = monthStart(now);
    const monthsAhead =
      (newest.getUTCFullYear() - current.getUTCFullYear()) * 12 + newest.getUTCMonth() - current.getUTCMonth();
    const [{ n }] = (
      await db.execute<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(defaultPartitionOf(table))}`)
    ).rows;
    out.push({ table, monthsAhead, defaultRows: Number(n) });
  }
  return out;
}
