/**
 * The content of an incremental backup: every row changed since the previous backup's snapshot,
 * found in the change log by transaction visibility (not timestamps, so a transaction that
 * committed late is never missed), written as deletes and upserts of the rows' current state.
 * The rows are applied in one transaction with constraints deferred and user triggers disabled,
 * so nothing is rewritten and the order of tables does not matter. A month of a partitioned
 * table that log archival dropped (op 'P') is dropped in the restore too, and every month that
 * exists is created there first, so upserted rows always find theirs.
 */
import type { PoolClient } from "@neondatabase/serverless";
import { partitionMonth } from "../db/partitions";
import type { TableInfo } from "./catalog-dump";
import { rowHash } from "./checksum";
import { ident, literal, statement } from "./sql-text";

const KEY_BATCH = 2_000;
const STATEMENT_ROWS = 500;

export interface ChangeSummary {
  upserts: number;
  deletes: number;
  truncated: string[];
}

/**
 * How a changed table's row count and checksum moved (SUM_SCHEME): rows now present minus rows
 * that existed at the previous snapshot, and the sum of their hashes likewise. Null when it cannot
 * be known from the changes (a truncate, or changes logged before the log kept old hashes).
 */
export type TableDelta = { rows: number; sum: bigint } | null;

interface Changed {
  truncated: boolean;
  /** Partitions dropped whole since the previous snapshot. */
  dropped: string[];
  keys: Map<string, Record<string, unknown>>;
  /** Per key, its first change since the previous snapshot: whether the row existed then, and its hash. */
  before: Map<string, { existed: boolean | null; hash: string | null }>;
}

export async function writeChanges(
  client: PoolClient,
  tables: TableInfo[],
  previousSnapshot: string,
  write: (text: string) => Promise<void>,
): Promise<{ summary: ChangeSummary; deltas: Map<string, TableDelta> }> {
  const changed = await changedKeys(client, previousSnapshot);
  const summary: ChangeSummary = { upserts: 0, deletes: 0, truncated: [] };
  const deltas = new Map<string, TableDelta>();
  const touched = tables.filter((table) => changed.has(table.name));
  await write(statement("BEGIN"));
  // Before triggers are disabled, so the months' cloned triggers are disabled with their parent's.
  for (const table of touched) {
    for (const partition of table.partitions ?? []) {
      const month = partitionMonth(table.name, partition.name);
      if (!month) continue;
      const first = month.toISOString().slice(0, 10);
      await write(
        statement(`SELECT ensure_month_partitions(${literal(table.name)}, ${literal(first)}, ${literal(first)})`),
      );
    }
  }
  await write(statement("SET CONSTRAINTS ALL DEFERRED"));
  for (const table of touched) await write(statement(`ALTER TABLE ${ident(table.name)} DISABLE TRIGGER USER`));
  // Deletes first: a row that left and another that took its unique value must not collide.
  const current = new Map<string, Array<Array<string | null>>>();
  for (const table of touched) {
    const entry = changed.get(table.name) as Changed;
    for (const partition of entry.dropped) await write(statement(`DROP TABLE IF EXISTS ${ident(partition)}`));
    if (entry.truncated) {
      summary.truncated.push(table.name);
      await write(statement(`DELETE FROM ${ident(table.name)}`));
    }
    const { rows, hashes, keys } = await currentRows(client, table, [...entry.keys.values()]);
    current.set(table.name, rows);
    deltas.set(table.name, deltaOf(entry, rows.length, hashes));
    const present = new Set(keys.map(canonicalKey));
    const gone = [...entry.keys.entries()].filter(([key]) => !present.has(key)).map(([, pk]) => pk);
    summary.deletes += gone.length;
    if (!entry.truncated) await writeDeletes(table, gone, write);
  }
  for (const table of touched) {
    const rows = current.get(table.name) ?? [];
    summary.upserts += rows.length;
    await writeUpserts(table, rows, write);
  }
  // Check the deferred keys now: a table with pending checks cannot be altered back.
  await write(statement("SET CONSTRAINTS ALL IMMEDIATE"));
  for (const table of touched) await write(statement(`ALTER TABLE ${ident(table.name)} ENABLE TRIGGER USER`));
  await write(statement("COMMIT"));
  return { summary, deltas };
}

function deltaOf(entry: Changed, present: number, hashes: string[]): TableDelta {
  const before = [...entry.before.values()];
  if (entry.truncated || entry.dropped.length > 0 || before.some((change) => change.existed === null)) return null;
  const existed = before.filter((change) => change.existed);
  const sum = (values: Array<string | null>) => values.reduce((total: bigint, hash) => total + BigInt(hash ?? 0), 0n);
  return { rows: present - existed.length, sum: sum(hashes) - sum(existed.map((change) => change.hash)) };
}

/** Distinct primary keys per table changed after `previousSnapshot`, visible in ours. */
async function changedKeys(client: PoolClient, previousSnapshot: string): Promise<Map<string, Changed>> {
  const result = await client.query({
    text: `select table_name, op, pk, had_old, old_hash::text as old_hash from change_log
           where txid >= pg_snapshot_xmin($1::pg_snapshot) and not pg_visible_in_snapshot(txid, $1::pg_snapshot)
           order by id`,
    values: [previousSnapshot],
  });
  const changed = new Map<string, Changed>();
  type Row = { table_name: string; op: string; pk: Record<string, unknown>; had_old: boolean | null; old_hash: string };
  for (const row of result.rows as Row[]) {
    const entry: Changed = changed.get(row.table_name) ?? {
      truncated: false,
      dropped: [],
      keys: new Map(),
      before: new Map(),
    };
    if (row.op === "P") {
      entry.dropped.push(String(row.pk.partition));
    } else if (row.op === "T") {
      entry.truncated = true;
      entry.keys.clear();
    } else {
      const key = canonicalKey(row.pk);
      entry.keys.set(key, row.pk);
      if (!entry.before.has(key)) entry.before.set(key, { existed: row.had_old, hash: row.old_hash });
    }
    changed.set(row.table_name, entry);
  }
  return changed;
}

/**
 * The rows that exist now for the given keys, as text, in primary-key order, their hashes, and
 * their keys spelled as the change log spells them (jsonb, so a timestamp key compares equal).
 */
async function currentRows(client: PoolClient, table: TableInfo, keys: Array<Record<string, unknown>>) {
  const keyObject = `jsonb_build_object(${table.primaryKey.map((name) => `${literal(name)}, t.${ident(name)}`).join(", ")})`;
  const select = [
    ...table.columns.map((column) => `t.${ident(column.name)}::text`),
    keyObject,
    `${rowHash("t")}::text`,
  ].join(", ");
  const keyColumns = table.primaryKey.map((name) => `${ident(name)} ${columnType(table, name)}`).join(", ");
  const join = table.primaryKey.map((name) => `t.${ident(name)} = k.${ident(name)}`).join(" and ");
  const rows: Array<Array<string | null>> = [];
  for (let i = 0; i < keys.length; i += KEY_BATCH) {
    const result = await client.query({
      text: `select ${select} from ${ident(table.name)} t
             join jsonb_to_recordset($1::jsonb) as k(${keyColumns}) on ${join}
             order by ${table.primaryKey.map((name) => `t.${ident(name)}`).join(", ")}`,
      values: [JSON.stringify(keys.slice(i, i + KEY_BATCH))],
      rowMode: "array",
    });
    rows.push(...(result.rows as Array<Array<string | null>>));
  }
  // Rows that reference others of the same table (child executions) come after them.
  const created = table.columns.findIndex((column) => column.name === "created_at");
  if (created >= 0) rows.sort((a, b) => String(a[created]).localeCompare(String(b[created])));
  // The last columns are the row's key and its hash, for the checksum; the others are the row.
  return {
    rows: rows.map((row) => row.slice(0, -2)),
    keys: rows.map((row) => row.at(-2) as unknown as Record<string, unknown>),
    hashes: rows.map((row) => row.at(-1) as string),
  };
}

async function writeDeletes(
  table: TableInfo,
  keys: Array<Record<string, unknown>>,
  write: (text: string) => Promise<void>,
) {
  const columns = table.primaryKey.map(ident).join(", ");
  for (let i = 0; i < keys.length; i += STATEMENT_ROWS) {
    const tuples = keys
      .slice(i, i + STATEMENT_ROWS)
      .map(
        (key) =>
          `(${table.primaryKey.map((name) => `${literal(textOf(key[name]))}::${columnType(table, name)}`).join(", ")})`,
      );
    await write(statement(`DELETE FROM ${ident(table.name)} WHERE (${columns}) IN (${tuples.join(", ")})`));
  }
}

async function writeUpserts(
  table: TableInfo,
  rows: Array<Array<string | null>>,
  write: (text: string) => Promise<void>,
) {
  const columns = table.columns.map((column) => ident(column.name)).join(", ");
  const updates = table.columns
    .filter((column) => !table.primaryKey.includes(column.name))
    .map((column) => `${ident(column.name)} = EXCLUDED.${ident(column.name)}`);
  const onConflict = updates.length ? `DO UPDATE SET ${updates.join(", ")}` : "DO NOTHING";
  for (let i = 0; i < rows.length; i += STATEMENT_ROWS) {
    const tuples = rows.slice(i, i + STATEMENT_ROWS).map((row) => `(${row.map(literal).join(",")})`);
    await write(
      statement(
        `INSERT INTO ${ident(table.name)} (${columns}) VALUES\n${tuples.join(",\n")}\nON CONFLICT (${table.primaryKey.map(ident).join(", ")}) ${onConflict}`,
      ),
    );
  }
}

/** One spelling of a primary key, whether it came from the change log (jsonb) or a row (text). */
function canonicalKey(pk: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(pk)
      .sort()
      .map((name) => [name, String(pk[name])]),
  );
}

function columnType(table: TableInfo, name: string): string {
  return table.columns.find((column) => column.name === name)?.type ?? "text";
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
