/**
 * Per-table checksums computed in SQL, so the backup and the verifier (and the restore CLI)
 * compare the same thing: md5 over each row's text, folded in chunks of CHUNK_ROWS rows in primary
 * key order, so no aggregate grows past Postgres' limits however big the table is.
 * Also used by the restore CLI in Node, hence its explicit `.ts` imports.
 */
import { ident } from "./sql-text.ts";

export const CHUNK_ROWS = 10_000;

/** Session settings under which row text is deterministic; set before checksums and dumps. */
export const TEXT_SETTINGS = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  "SET extra_float_digits = 3",
  "SET bytea_output = 'hex'",
];

export function checksumQuery(table: string, primaryKey: string[]): string {
  const order = primaryKey.length ? primaryKey.map((c) => `t.${ident(c)}`).join(", ") : "t::text";
  return `with numbered as (
      select md5(t::text) as h, row_number() over (order by ${order}) as rn from ${ident(table)} t
    ), chunks as (
      select (rn - 1) / ${CHUNK_ROWS} as c, md5(string_agg(h, '' order by rn)) as ch from numbered group by 1
    )
    select (select count(*) from numbered)::bigint as rows, md5(coalesce(string_agg(ch, '' order by c), '')) as checksum from chunks`;
}
