/**
 * Per-table checksums computed in SQL, so the backup and the verifier (and the restore CLI)
 * compare the same thing: the sum of each row's 64-bit hash (order-independent, see checksumQuery).
 * Also used by the restore CLI in Node, hence its explicit `.ts` imports.
 */
import { ident } from "./sql-text.ts";

/** Session settings under which row text is deterministic; set before checksums and dumps. */
export const TEXT_SETTINGS = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  "SET extra_float_digits = 3",
  "SET bytea_output = 'hex'",
];

/** A manifest's `chunkRows` of 0 names the order-independent scheme; older manifests name their chunk size. */
export const SUM_SCHEME = 0;
/** Table checksums are kept modulo 2^64. */
const MODULUS = 2n ** 64n;

/** A row's 64-bit hash in SQL: the first 16 hex digits of the md5 of its text (the change-log trigger uses it too). */
export function rowHash(row: string): string {
  return `('x' || substr(md5(${row}::text), 1, 16))::bit(64)::bigint`;
}

/**
 * A table's row count and checksum. The default scheme is order-independent — the sum of the
 * rows' 64-bit hashes modulo 2^64 — so an incremental updates it from its own changes (add the
 * changed rows' new hashes, subtract their old ones) instead of reading the table. `chunkRows`
 * other than SUM_SCHEME recomputes the older scheme (md5 over chunks in key order) for old manifests.
 */
export function checksumQuery(table: string, primaryKey: string[], chunkRows = SUM_SCHEME): string {
  if (chunkRows !== SUM_SCHEME) return chunkedChecksumQuery(table, primaryKey, chunkRows);
  const m = MODULUS.toString();
  return `select count(*)::bigint as rows,
      mod(mod(coalesce(sum(${rowHash("t")}::numeric), 0), ${m}) + ${m}, ${m})::text as checksum
    from ${ident(table)} t`;
}

/** `checksum` moved by `delta` (a signed sum of row hashes), modulo 2^64, as decimal text. */
export function shiftChecksum(checksum: string, delta: bigint): string {
  return ((((BigInt(checksum) + delta) % MODULUS) + MODULUS) % MODULUS).toString();
}

function chunkedChecksumQuery(table: string, primaryKey: string[], chunkRows: number): string {
  const order = primaryKey.length ? primaryKey.map((c) => `t.${ident(c)}`).join(", ") : "t::text";
  return `with numbered as (
      select md5(t::text) as h, row_number() over (order by ${order}) as rn from ${ident(table)} t
    ), chunks as (
      select (rn - 1) / ${chunkRows} as c, md5(string_agg(h, '' order by rn)) as ch from numbered group by 1
    )
    select (select count(*) from numbered)::bigint as rows, md5(coalesce(string_agg(ch, '' order by c), '')) as checksum from chunks`;
}
