/**
 * The engine's repair counters in Postgres (metrics are computed from shared data): how often an
 * object's timer handler failed and was re-armed, and how often the watchdog found an invariant
 * broken and repaired it, by kind; and how many jobs the jobs queue gave up on, by job type.
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "./client";

export type EngineCounter = "timer_failed" | "invariant_repaired" | "job_dead_lettered" | "notification_failed";

/** Adds `counts` (by kind) to the counter `name`. */
export async function addEngineCounts(
  db: Queryable,
  name: EngineCounter,
  counts: Record<string, number>,
): Promise<void> {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return;
  await db.execute(sql`
    insert into engine_counters (name, kind, count)
    select ${name}, kind, n from unnest(${sql.param(entries.map(([kind]) => kind))}::text[], ${sql.param(entries.map(([, n]) => n))}::bigint[]) as c(kind, n)
    on conflict (name, kind) do update set count = engine_counters.count + excluded.count, updated_at = now()`);
}
