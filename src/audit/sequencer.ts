/**
 * The audit chain's sequencer (docs/api.md, docs/operations.md scale): writers append unlinked rows without a lock,
 * and this links them into the hash chain in arrival order, one sequencer at a time (the
 * database function `audit_link` takes a lock no writer takes). It runs every minute from the
 * cron and before every read of the trail (`GET /audit`, `GET /audit/verify`), so readers always
 * see a whole chain and writers never wait on each other.
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";

/** Rows one statement links; a backlog is linked in several. */
const BATCH = 5_000;

/** Links every row unlinked so far; answers how many. */
export async function linkAuditChain(db: Queryable): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = await db.execute<{ linked: number }>(sql`select audit_link(${BATCH}) as linked`);
    const linked = Number(rows[0].linked);
    total += linked;
    if (linked < BATCH) return total;
  }
}
