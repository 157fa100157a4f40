/**
 * The audit chain's sequencer (docs/api.md, docs/operations.md scale): writers append unlinked rows without a lock,
 * and this links them into the hash chain in arrival order, one sequencer at a time (the
 * database function `audit_link` takes a lock no writer takes). It runs every minute from the
 * cron and before every read of the trail, so readers see a whole chain and writers never wait on
 * each other. A list (`GET /audit`) links only when no sequencer is running: it never queues
 * behind the lock (one already running is linking the same rows); verification waits its turn.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";

/** Rows one statement links; a backlog is linked in several. */
const BATCH = 5_000;

/** Links every row unlinked so far; answers how many. */
export function linkAuditChain(db: Queryable): Promise<number> {
  return linkInBatches(db, sql`select audit_link(${BATCH}) as linked`);
}

/**
 * Links what is unlinked unless another sequencer holds the lock (then 0 at once): the try and the
 * link are one statement, so the lock is held for exactly that statement's transaction.
 */
export function linkAuditChainUnlessBusy(db: Queryable): Promise<number> {
  return linkInBatches(
    db,
    sql`select case when pg_try_advisory_xact_lock(hashtext('ipa.audit_logs.sequencer')) then audit_link(${BATCH}) else 0 end as linked`,
  );
}

async function linkInBatches(db: Queryable, statement: SQL): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = await db.execute<{ linked: number }>(statement);
    const linked = Number(rows[0].linked);
    total += linked;
    if (linked < BATCH) return total;
  }
}
