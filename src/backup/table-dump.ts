/**
 * A table's rows as multi-row INSERT statements, read page by page in primary-key order inside
 * the backup's snapshot. Values travel in Postgres' text form, so every type round-trips exactly.
 */
import type { PoolClient } from "@neondatabase/serverless";
import type { TableInfo } from "./catalog-dump";
import { ident, literal, statement } from "./sql-text";

const PAGE_ROWS = 2_000;
const STATEMENT_ROWS = 500;
const STATEMENT_BYTES = 256 * 1024;

/** Writes the table's INSERTs with `write`; returns how many rows it wrote. */
export async function dumpTableRows(
  client: PoolClient,
  table: TableInfo,
  write: (text: string) => Promise<void>,
): Promise<number> {
  const columns = table.columns.map((column) => ident(column.name)).join(", ");
  const select = table.columns.map((column) => `t.${ident(column.name)}::text`).join(", ");
  // Qualified: the output columns (cast to text) share the names, and ORDER BY would prefer them.
  const pk = table.primaryKey.map((name) => `t.${ident(name)}`).join(", ");
  const pkIndexes = table.primaryKey.map((name) => table.columns.findIndex((column) => column.name === name));
  const pkTypes = table.primaryKey.map((name) => table.columns.find((column) => column.name === name)?.type ?? "text");
  const after = `(${pk}) > (${pkTypes.map((type, i) => `$${i + 1}::${type}`).join(", ")})`;

  let last: unknown[] | null = null;
  let total = 0;
  let tuples: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (tuples.length === 0) return;
    await write(statement(`INSERT INTO ${ident(table.name)} (${columns}) VALUES\n${tuples.join(",\n")}`));
    tuples = [];
    bytes = 0;
  };
  for (;;) {
    const result = await client.query({
      text: `select ${select} from ${ident(table.name)} t ${last ? `where ${after}` : ""} order by ${pk} limit ${PAGE_ROWS}`,
      values: last ?? [],
      rowMode: "array",
    });
    const page = result.rows as Array<Array<string | null>>;
    for (const row of page) {
      const tuple = `(${row.map(literal).join(",")})`;
      tuples.push(tuple);
      bytes += tuple.length;
      if (tuples.length >= STATEMENT_ROWS || bytes >= STATEMENT_BYTES) await flush();
    }
    total += page.length;
    if (page.length < PAGE_ROWS) break;
    const lastRow = page[page.length - 1];
    last = pkIndexes.map((index) => lastRow[index]);
  }
  await flush();
  return total;
}
