/**
 * The stuck-execution watchdog (every minute). Every execution that has not ended carries a
 * `next_check_at`: when its object expects to act next, plus a grace period, renewed by each
 * flush and each visit. The watchdog visits every execution past it, however many there are, in
 * pages within a time budget, each on its own (one that throws does not stop the rest): an
 * execution whose object never started is handed off from its row; any other object re-sends
 * step messages nobody claimed, arms every timer its state needs and is missing (a repair, counted
 * as `ipa_invariant_repairs_total`), sets its alarm and flushes its outbox.
 */
import { and, asc, inArray, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { addEngineCounts } from "../db/engine-counters";
import { executions } from "../db/schema";
import type { RepairKind } from "../durable-objects/execution/invariants";
import type { WatchdogReport } from "../durable-objects/execution/rpc";
import { executionStub } from "../durable-objects/execution/stub";
import { ACTIVE_EXECUTION_STATUSES } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { handOffPending } from "../services/execution-handoff";

const PAGE = 200;
const CONCURRENCY = 8;
/** The watchdog shares its minute with the other cron jobs. */
const BUDGET_MS = 40_000;
const GRACE_MS = 30_000;
const AT_MOST_MS = 10 * 60_000;
/** How soon to look again at one that could not be visited, or has not started. */
const SOON_MS = 60_000;

export interface WatchdogOutcome {
  checked: number;
  handedOff: number;
  redriven: number;
  failed: number;
  /** Invariants found broken and repaired, by kind (counted as ipa_invariant_repairs_total). */
  repairs: Partial<Record<RepairKind, number>>;
}

export async function runWatchdog(db: Database, env: Bindings): Promise<WatchdogOutcome> {
  const outcome: WatchdogOutcome = { checked: 0, handedOff: 0, redriven: 0, failed: 0, repairs: {} };
  const started = Date.now();
  while (Date.now() - started < BUDGET_MS) {
    const due = await db
      .select({ id: executions.id })
      .from(executions)
      .where(and(inArray(executions.status, [...ACTIVE_EXECUTION_STATUSES]), lte(executions.nextCheckAt, sql`now()`)))
      .orderBy(asc(executions.nextCheckAt))
      .limit(PAGE);
    if (due.length === 0) break;
    const next = await mapLimit(due, CONCURRENCY, ({ id }) => visit(db, env, id, outcome));
    await db.execute(sql`
      update executions e set next_check_at = v.at
      from (select unnest(${sql.param(due.map((row) => row.id))}::uuid[]) as id,
                   unnest(${sql.param(next.map((at) => at.toISOString()))}::timestamptz[]) as at) v
      where e.id = v.id`);
    outcome.checked += due.length;
  }
  await addEngineCounts(db, "invariant_repaired", outcome.repairs as Record<string, number>);
  if (outcome.checked > 0) logEvent("info", "watchdog", { ...outcome });
  return outcome;
}

/** Pokes one execution; returns when to look at it next. */
async function visit(db: Database, env: Bindings, id: string, outcome: WatchdogOutcome): Promise<Date> {
  const now = Date.now();
  try {
    const report = (await executionStub(env, id).watchdog()) as WatchdogReport;
    if (!report.started) {
      if ((await handOffPending(db, env, id)) === "running") {
        outcome.handedOff++;
        count(outcome, "stranded_start", 1);
      }
      return new Date(now + SOON_MS);
    }
    outcome.redriven += report.redriven;
    for (const [kind, n] of Object.entries(report.repairs ?? {})) count(outcome, kind as RepairKind, n);
    if (report.unflushed > 0) return new Date(now + SOON_MS);
    return new Date(Math.min(report.nextDue === null ? Infinity : report.nextDue + GRACE_MS, now + AT_MOST_MS));
  } catch (error) {
    outcome.failed++;
    logEvent("warn", "watchdog_visit_failed", { executionId: id, ...describeError(error) });
    return new Date(now + SOON_MS);
  }
}

function count(outcome: WatchdogOutcome, kind: RepairKind, n: number): void {
  outcome.repairs[kind] = (outcome.repairs[kind] ?? 0) + n;
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping the order of results. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
