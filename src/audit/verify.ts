/**
 * Walks the audit chain in order and names the first broken link: a row whose content no longer
 * matches its hash (edited), whose prev_hash is not its predecessor's hash (edited neighbour,
 * inserted row) or whose seq skips (deleted row). Hashes are recomputed by the same SQL function
 * the sequencer uses, so both sides agree byte for byte. Unlinked rows are linked first.
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { linkAuditChain } from "./sequencer";

const PAGE = 5_000;
const GENESIS = "0".repeat(64);

export interface ChainVerdict {
  valid: boolean;
  checked: number;
  brokenAt?: { seq: number; id: string; reason: "content_changed" | "link_broken" | "row_missing" };
}

interface Row extends Record<string, unknown> {
  seq: string | number;
  id: string;
  hash: string;
  prev_hash: string;
  expected: string;
}

export async function verifyAuditChain(db: Queryable): Promise<ChainVerdict> {
  await linkAuditChain(db);
  let previousSeq = 0;
  let previousHash = GENESIS;
  let checked = 0;
  for (;;) {
    const page = await db.execute<Row>(sql`
      select seq, id, hash, prev_hash, audit_row_hash(a) as expected
      from audit_logs a where seq > ${previousSeq} order by seq limit ${PAGE}`);
    for (const row of page.rows) {
      const seq = Number(row.seq);
      const at = { seq, id: row.id };
      if (seq !== previousSeq + 1) return { valid: false, checked, brokenAt: { ...at, reason: "row_missing" } };
      if (row.prev_hash !== previousHash) return { valid: false, checked, brokenAt: { ...at, reason: "link_broken" } };
      if (row.expected !== row.hash) return { valid: false, checked, brokenAt: { ...at, reason: "content_changed" } };
      checked++;
      previousSeq = seq;
      previousHash = row.hash;
    }
    if (page.rows.length < PAGE) return { valid: true, checked };
  }
}
