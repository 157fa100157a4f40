/**
 * The schema of the public schema, read from pg_catalog inside the backup's snapshot, as SQL that
 * stock psql (or the Neon driver with a search_path) replays into an empty database: types,
 * sequences, tables and functions first; constraints, indexes and triggers after the data, so
 * restored rows are never rewritten by triggers. Names are never schema-qualified. A
 * partitioned table is one table to the backup (its rows read and restored through the parent);
 * its months are created with it, and what each month inherits (keys, checks, indexes, row
 * triggers) comes from the parent's statements.
 */
import type { PoolClient } from "@neondatabase/serverless";
import { ident, statement } from "./sql-text";

/** Operational tables whose rows are not backed up (their definitions are). */
export const EXCLUDED_FROM_DATA = new Set(["backups", "change_log", "job_runs", "drills", "engine_counters"]);

export interface TableInfo {
  name: string;
  columns: Array<{ name: string; type: string }>;
  primaryKey: string[];
  /** `RANGE (created_at)` for a partitioned table, with its partitions' names and bounds. */
  partitionBy?: string;
  partitions?: Array<{ name: string; bound: string }>;
}

type Row = Record<string, unknown>;

async function rows(client: PoolClient, sql: string): Promise<Row[]> {
  return (await client.query(sql)).rows as Row[];
}

export async function listTables(client: PoolClient): Promise<TableInfo[]> {
  const found = await rows(
    client,
    `select c.relname as name,
       (select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) order by a.attnum)
          from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
       (select json_agg(a.attname order by array_position(i.indkey::int2[], a.attnum))
          from pg_index i join pg_attribute a on a.attrelid = c.oid and a.attnum = any (i.indkey::int2[])
          where i.indrelid = c.oid and i.indisprimary) as pk,
       case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end as partition_by,
       (select json_agg(json_build_object('name', p.relname, 'bound', pg_get_expr(p.relpartbound, p.oid)) order by p.relname)
          from pg_inherits h join pg_class p on p.oid = h.inhrelid where h.inhparent = c.oid) as partitions
     from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
     order by c.relname`,
  );
  return found.map((row) => ({
    name: row.name as string,
    columns: row.columns as TableInfo["columns"],
    primaryKey: (row.pk as string[] | null) ?? [],
    ...(row.partition_by
      ? { partitionBy: row.partition_by as string, partitions: (row.partitions as TableInfo["partitions"]) ?? [] }
      : {}),
  }));
}

/** Types, sequences, tables (columns, defaults, NOT NULL) and functions. */
export async function preDataStatements(client: PoolClient, tables: TableInfo[]): Promise<string[]> {
  const out: string[] = [];
  for (const type of await rows(
    client,
    `select t.typname as name, json_agg(e.enumlabel order by e.enumsortorder) as labels
     from pg_type t join pg_enum e on e.enumtypid = t.oid
     where t.typnamespace = 'public'::regnamespace group by t.typname order by t.typname`,
  )) {
    const labels = (type.labels as string[]).map((label) => `'${label.replace(/'/g, "''")}'`).join(", ");
    out.push(statement(`CREATE TYPE ${ident(type.name as string)} AS ENUM (${labels})`));
  }
  for (const sequence of await rows(
    client,
    `select c.relname as name, s.seqstart as start, s.seqincrement as step
     from pg_class c join pg_sequence s on s.seqrelid = c.oid
     where c.relnamespace = 'public'::regnamespace order by c.relname`,
  )) {
    out.push(
      statement(
        `CREATE SEQUENCE ${ident(sequence.name as string)} START WITH ${sequence.start} INCREMENT BY ${sequence.step}`,
      ),
    );
  }
  const defaults = await rows(
    client,
    `select c.relname as tbl, a.attname as col, pg_get_expr(d.adbin, d.adrelid) as expr
     from pg_attrdef d join pg_class c on c.oid = d.adrelid join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
     where c.relnamespace = 'public'::regnamespace`,
  );
  const notNull = await rows(
    client,
    `select c.relname as tbl, a.attname as col from pg_attribute a join pg_class c on c.oid = a.attrelid
     where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and a.attnum > 0 and a.attnotnull and not a.attisdropped`,
  );
  const key = (table: unknown, column: unknown) => `${table}.${column}`;
  const defaultOf = new Map(defaults.map((d) => [key(d.tbl, d.col), d.expr as string]));
  const required = new Set(notNull.map((n) => key(n.tbl, n.col)));
  for (const table of tables) {
    const columns = table.columns.map((column) => {
      const parts = [ident(column.name), column.type];
      const fallback = defaultOf.get(key(table.name, column.name));
      if (fallback) parts.push(`DEFAULT ${fallback}`);
      if (required.has(key(table.name, column.name))) parts.push("NOT NULL");
      return `  ${parts.join(" ")}`;
    });
    const partitioned = table.partitionBy ? ` PARTITION BY ${table.partitionBy}` : "";
    out.push(statement(`CREATE TABLE ${ident(table.name)} (\n${columns.join(",\n")}\n)${partitioned}`));
    for (const partition of table.partitions ?? []) {
      out.push(statement(`CREATE TABLE ${ident(partition.name)} PARTITION OF ${ident(table.name)} ${partition.bound}`));
    }
  }
  for (const fn of await rows(
    client,
    `select pg_get_functiondef(p.oid) as def from pg_proc p
     where p.pronamespace = 'public'::regnamespace
       and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
     order by p.proname`,
  )) {
    out.push(
      statement((fn.def as string).replace(/^CREATE OR REPLACE FUNCTION public\./, "CREATE OR REPLACE FUNCTION ")),
    );
  }
  return out;
}

/** Sequence positions, then constraints (keys before the checks and foreign keys that need them), indexes and triggers. */
export async function postDataStatements(client: PoolClient): Promise<string[]> {
  const out: string[] = [];
  for (const sequence of await rows(
    client,
    `select c.relname as name from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'S' order by c.relname`,
  )) {
    const [state] = (await client.query(`select last_value, is_called from ${ident(sequence.name as string)}`)).rows;
    out.push(statement(`SELECT setval('${ident(sequence.name as string)}', ${state.last_value}, ${state.is_called})`));
  }
  for (const constraint of await rows(
    client,
    `select c.conrelid::regclass::text as tbl, c.conname as name, pg_get_constraintdef(c.oid) as def
     from pg_constraint c where c.connamespace = 'public'::regnamespace and c.contype in ('p', 'u', 'c', 'f')
       and c.conparentid = 0 and c.coninhcount = 0
     order by case c.contype when 'p' then 0 when 'u' then 1 when 'c' then 2 else 3 end, c.conrelid::regclass::text, c.conname`,
  )) {
    out.push(
      statement(
        `ALTER TABLE ${ident(constraint.tbl as string)} ADD CONSTRAINT ${ident(constraint.name as string)} ${constraint.def}`,
      ),
    );
  }
  for (const index of await rows(
    client,
    `select pg_get_indexdef(i.indexrelid) as def from pg_index i join pg_class c on c.oid = i.indexrelid
     where c.relnamespace = 'public'::regnamespace
       and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
       and not exists (select 1 from pg_inherits h where h.inhrelid = i.indexrelid)
     order by c.relname`,
  )) {
    out.push(statement(unqualifyTable(index.def as string)));
  }
  for (const trigger of await rows(
    client,
    `select pg_get_triggerdef(t.oid) as def from pg_trigger t join pg_class c on c.oid = t.tgrelid
     where c.relnamespace = 'public'::regnamespace and not t.tgisinternal and t.tgparentid = 0
     order by c.relname, t.tgname`,
  )) {
    out.push(statement(unqualifyTable(trigger.def as string)));
  }
  return out;
}

/**
 * pg_get_indexdef and pg_get_triggerdef name the table as public.x whatever the search_path; a
 * partitioned table's index is `ON ONLY` it, which here should reach its partitions too.
 */
function unqualifyTable(definition: string): string {
  return definition.replace(/ ON (ONLY )?public\./, " ON ");
}
