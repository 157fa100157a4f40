/**
 * The content of an incremental backup: every row changed since the previous backup's snapshot,
 * found in the change log by transaction visibility (not timestamps, so a transaction that
 * committed late is never missed), written as deletes and upserts of the rows' current state.
 * The rows are applied in one transaction with constraints deferred and user triggers disabled,
 * so nothing is rewritten and the order of tables does not matter.
 */
import type { PoolClient } from "@neondatabase/serverless";
import type { TableInfo } from "./catalog-dump";
import { ident, literal, statement } from "./sql-text";

const KEY_BATCH = 2_000;
const STATEMENT_ROWS = 500;

export interface ChangeSummary {
  upserts: number;
  deletes: number;
  truncated: string[];
}

interface Changed {
  truncated: boolean;
  keys: Map<string, Record<string, unknown>>;
}

export async function writeChanges(
  client: PoolClient,
  tables: TableInfo[],
  previousSnapshot: string,
  write: (text: string) => Promise<void>,
): Promise<ChangeSummary> {
  const changed = await changedKeys(client, previousSnapshot);
  const summary: ChangeSummary = { upserts: 0, deletes: 0, truncated: [] };
  const touched = tables.filter((table) => changed.has(table.name));
  await write(statement("BEGIN"));
  await write(statement("SET CONSTRAINTS ALL DEFERRED"));
  for (const table of touched) await write(statement(`ALTER TABLE ${ident(table.name)} DISABLE TRIGGER USER`));
  // Deletes first: a row that left and another that took its unique value must not collide.
  const current = new Map<string, Array<Array<string | null>>>();
  for (const table of touched) {
    const entry = changed.get(table.name) as Changed;
    if (entry.truncated) {
      summary.truncated.push(table.name);
      await write(statement(`DELETE FROM ${ident(table.name)}`));
    }
    const rows = await currentRows(client, table, [...entry.keys.values()]);
    current.set(table.name, rows);
    const present = new Set(rows.map((row) => keyOf(table, row)));
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
  return summary;
}

/** Distinct primary keys per table changed after `previousSnapshot`, visible in ours. */
async function changedKeys(client: PoolClient, previousSnapshot: string): Promise<Map<string, Changed>> {
  const result = await client.query({
    text: `select table_name, op, pk from change_log
           where txid >= pg_snapshot_xmin($1::pg_snapshot) and not pg_visible_in_snapshot(txid, $1::pg_snapshot)
           order by id`,
    values: [previousSnapshot],
  });
  const changed = new Map<string, Changed>();
  for (const row of result.rows as Array<{ table_name: string; op: string; pk: Record<string, unknown> }>) {
    const entry = changed.get(row.table_name) ?? { truncated: false, keys: new Map() };
    if (row.op === "T") {
      entry.truncated = true;
      entry.keys.clear();
    } else {
      entry.keys.set(canonicalKey(row.pk), row.pk);
    }
    changed.set(row.table_name, entry);
  }
  return changed;
}

/** The rows that exist now for the given keys, as text, in primary-key order. */
async function currentRows(client: PoolClient, table: TableInfo, keys: Array<Record<string, unknown>>) {
  const select = table.columns.map((column) => `t.${ident(column.name)}::text`).join(", ");
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
  return rows;
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

function keyOf(table: TableInfo, row: Array<string | null>): string {
  return canonicalKey(
    Object.fromEntries(table.primaryKey.map((name) => [name, row[table.columns.findIndex((c) => c.name === name)]])),
  );
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
