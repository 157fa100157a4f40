/**
 * The gates a start meets before its concurrency limit (docs/workflows.md "Flow control on starts"):
 * `debounce`, then `throttle`, then `concurrency` (concurrency.ts, admission.ts). A start waits
 * `queued` at the first gate that holds it, `queue_reason` naming that gate, and moves on to the
 * next when it opens. Each gate's decisions for one key are serialised by a transaction-level
 * advisory lock on (gate, workflow, key), so simultaneous starts never overfill a window or start
 * two debounced executions. A gate that opens later sends itself a delayed `admit` job; the cron's
 * minute sweep admits what a lost message left waiting.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database, Queryable, Transaction } from "../db/client";
import { executions, workflowVersions } from "../db/schema";
import type { QueueReason } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { enqueueJob } from "../queues/enqueue-job";
import type { JobMessage } from "../queues/messages";
import { type Definition, MAX_GATE_SECONDS } from "../steps/definition";
import { admitQueued } from "./admission";
import { lockKey, QUEUED_CHECK_AT, startKeyOf } from "./concurrency";
import { handOffPending } from "./execution-handoff";

type Gate = Extract<QueueReason, "debounce" | "throttle">;
type AdmitJob = Extract<JobMessage, { type: "admit" }>;

/** A debounced start's time passed this long ago without its message: the sweep's repair. */
const SWEEP_GRACE = sql`interval '30 seconds'`;
/** Keys one sweep looks at, per gate. */
const SWEEP_KEYS = 500;

/** The start's keys at the gates its definition has (null where it has none). */
export function gateKeysOf(definition: Definition, input: Record<string, unknown>) {
  return {
    debounce: definition.debounce ? startKeyOf(definition.debounce.key, { input }, "debounce") : null,
    throttle: definition.throttle ? startKeyOf(definition.throttle.key, { input }, "throttle") : null,
  };
}

/** What the start's transaction decided at the debounce and throttle gates. */
export type GateDecision =
  /** Joined the debounced execution waiting for its key: that one gets this start's input. */
  | { kind: "merged"; executionId: string }
  | { kind: "queued"; gate: Gate; admitAt: Date | null; wake: AdmitJob | null; wakeInMs: number }
  /** Past both: on to the concurrency limit, if any. */
  | { kind: "passed"; throttled: boolean };

/** Inside the start's transaction, before its insert. */
export async function decideGates(
  tx: Transaction,
  workflowId: string,
  versionId: string,
  definition: Definition,
  keys: ReturnType<typeof gateKeysOf>,
  input: Record<string, unknown>,
  /** A child start (a workflow tool's) waits on its own: its parent waits for that very execution. */
  isChild: boolean,
): Promise<GateDecision> {
  if (definition.debounce && keys.debounce !== null) {
    const { periodSeconds, maxWaitSeconds = MAX_GATE_SECONDS } = definition.debounce;
    await lockKey(tx, workflowId, keys.debounce, "debounce");
    // Joined only within one version and by starts that are not children: the waiting execution
    // keeps its version, its keys and its parent, and takes only the new input (checked against
    // that same version's inputSchema).
    const [merged] = isChild
      ? []
      : await tx
          .update(executions)
          .set({
            input,
            admitAt: sql`least(now() + make_interval(secs => ${periodSeconds}),
          ${executions.createdAt} + make_interval(secs => ${maxWaitSeconds}))`,
          })
          .where(
            and(
              waitingAt("debounce", workflowId, keys.debounce),
              eq(executions.workflowVersionId, versionId),
              isNull(executions.parentExecutionId),
            ),
          )
          .returning({ id: executions.id });
    if (merged) return { kind: "merged", executionId: merged.id };
    const waitMs = Math.min(periodSeconds, maxWaitSeconds) * 1000;
    const wake: AdmitJob = { type: "admit", workflowId, gate: "debounce", key: keys.debounce };
    return { kind: "queued", gate: "debounce", admitAt: new Date(Date.now() + waitMs), wake, wakeInMs: waitMs };
  }
  if (definition.throttle && keys.throttle !== null) {
    await lockKey(tx, workflowId, keys.throttle, "throttle");
    const window = await throttleWindow(tx, workflowId, keys.throttle, definition.throttle.periodSeconds);
    if (window.waiting === 0 && window.recent < definition.throttle.limit) return { kind: "passed", throttled: true };
    // The first to wait starts the key's chain of admit messages; the others ride on it.
    const wake: AdmitJob | null =
      window.waiting === 0 ? { type: "admit", workflowId, gate: "throttle", key: keys.throttle } : null;
    return { kind: "queued", gate: "throttle", admitAt: null, wake, wakeInMs: window.opensInMs };
  }
  return { kind: "passed", throttled: false };
}

/** Sends a gate's next admission, to arrive when it opens (the cron's sweep covers a lost one). */
export async function wakeGate(env: Bindings, job: AdmitJob, inMs: number): Promise<void> {
  await enqueueJob(env, job, inMs).catch((error) =>
    logEvent("warn", "start_gate_wake_failed", { workflowId: job.workflowId, gate: job.gate, ...describeError(error) }),
  );
}

/**
 * An `admit` job (or the sweep): moves the key's executions the gate lets through on to their next
 * gate, or starts them. Answers when to look again, or null when nothing waits there.
 */
export async function admitAtGate(
  db: Database,
  env: Bindings,
  workflowId: string,
  gate: Gate,
  key: string,
): Promise<{ moved: number; wakeInMs: number | null }> {
  const outcome = await db.transaction(async (tx) => {
    await lockKey(tx, workflowId, key, gate);
    const [head] = await tx
      .select({ definition: workflowVersions.definition, due: sql<boolean>`${executions.admitAt} <= now()` })
      .from(executions)
      .innerJoin(workflowVersions, eq(workflowVersions.id, executions.workflowVersionId))
      .where(waitingAt(gate, workflowId, key))
      .orderBy(sql`${executions.priority} desc nulls last`, executions.createdAt, executions.id)
      .limit(1);
    if (!head) return { moved: [] as Moved[], wakeInMs: null };
    const definition = head.definition as Definition;
    if (gate === "debounce") {
      if (!head.due) return { moved: [], wakeInMs: await debounceDueInMs(tx, workflowId, key) };
      return { moved: await moveOn(tx, gate, workflowId, key, 1, false), wakeInMs: null };
    }
    const throttle = definition.throttle ?? { limit: Number.MAX_SAFE_INTEGER, periodSeconds: 1 };
    const before = await throttleWindow(tx, workflowId, key, throttle.periodSeconds);
    const free = Math.min(throttle.limit - before.recent, 1_000);
    if (free <= 0) return { moved: [], wakeInMs: before.opensInMs };
    const moved = await moveOn(tx, gate, workflowId, key, free, true);
    const after = await throttleWindow(tx, workflowId, key, throttle.periodSeconds);
    return { moved, wakeInMs: after.waiting > 0 ? after.opensInMs : null };
  });
  await afterMove(db, env, workflowId, outcome.moved);
  return { moved: outcome.moved.length, wakeInMs: outcome.wakeInMs };
}

/** Every minute: the debounced starts whose time passed without their message, and every throttled key. */
export async function sweepGates(db: Database, env: Bindings): Promise<number> {
  const { rows } = await db.execute<{ workflow_id: string; gate: Gate; key: string }>(sql`
    (select distinct workflow_id, 'debounce' as gate, debounce_key as key from executions
     where status = 'queued' and queue_reason = 'debounce' and admit_at <= now() - ${SWEEP_GRACE} limit ${SWEEP_KEYS})
    union all
    (select distinct workflow_id, 'throttle', throttle_key from executions
     where status = 'queued' and queue_reason = 'throttle' limit ${SWEEP_KEYS})`);
  let moved = 0;
  for (const row of rows) {
    try {
      moved += (await admitAtGate(db, env, row.workflow_id, row.gate, row.key)).moved;
    } catch (error) {
      logEvent("warn", "start_gate_sweep_failed", {
        workflowId: row.workflow_id,
        gate: row.gate,
        ...describeError(error),
      });
    }
  }
  return moved;
}

function waitingAt(gate: Gate, workflowId: string, key: string) {
  return and(
    eq(executions.workflowId, workflowId),
    eq(gate === "debounce" ? executions.debounceKey : executions.throttleKey, key),
    eq(executions.status, "queued"),
    eq(executions.queueReason, gate),
  );
}

/** The key's starts that passed the throttle within the window, when the window next opens, and how many wait. */
async function throttleWindow(tx: Queryable, workflowId: string, key: string, periodSeconds: number) {
  const { rows } = await tx.execute<{ recent: number; opens_in_ms: number | null; waiting: number }>(sql`
    select count(*)::int as recent,
           greatest(0, ceil(extract(epoch from (min(throttle_passed_at) + make_interval(secs => ${periodSeconds}) - now())) * 1000))::int as opens_in_ms,
           (select count(*)::int from executions
            where workflow_id = ${workflowId} and throttle_key = ${key} and status = 'queued' and queue_reason = 'throttle') as waiting
    from executions
    where workflow_id = ${workflowId} and throttle_key = ${key}
      and throttle_passed_at > now() - make_interval(secs => ${periodSeconds})`);
  const [row] = rows;
  return { recent: Number(row.recent), opensInMs: Number(row.opens_in_ms ?? 0), waiting: Number(row.waiting) };
}

async function debounceDueInMs(tx: Queryable, workflowId: string, key: string): Promise<number> {
  const { rows } = await tx.execute<{ in_ms: number }>(sql`
    select greatest(0, ceil(extract(epoch from (min(admit_at) - now())) * 1000))::int as in_ms
    from executions where workflow_id = ${workflowId} and debounce_key = ${key} and status = 'queued' and queue_reason = 'debounce'`);
  return Number(rows[0]?.in_ms ?? 0);
}

/**
 * The first `count` waiting at the gate go on, each to the next gate its own version has (queued
 * there) or, past the last, `pending` (to be handed off). The row's state is checked again in the
 * update itself: a cancel or expiry that committed while this waited for the row wins.
 */
async function moveOn(
  tx: Transaction,
  gate: Gate,
  workflowId: string,
  key: string,
  count: number,
  passesThrottle: boolean,
): Promise<Moved[]> {
  const keyColumn = gate === "debounce" ? sql`e.debounce_key` : sql`e.throttle_key`;
  const afterDebounce = gate === "debounce" ? sql`when v.definition ? 'throttle' then 'throttle'` : sql``;
  const { rows } = await tx.execute<{
    id: string;
    next: QueueReason | null;
    concurrency_key: string | null;
    throttle_key: string | null;
  }>(sql`
    with chosen as (
      select e.id, case ${afterDebounce} when v.definition ? 'concurrency' then 'concurrency' end as next
      from executions e join workflow_versions v on v.id = e.workflow_version_id
      where e.workflow_id = ${workflowId} and ${keyColumn} = ${key} and e.status = 'queued' and e.queue_reason = ${gate}
      order by e.priority desc nulls last, e.created_at, e.id limit ${count})
    update executions e set
      queue_reason = chosen.next,
      status = case when chosen.next is null then 'pending'::execution_status else 'queued'::execution_status end,
      next_check_at = case when chosen.next is null then now() + interval '30 seconds' else ${QUEUED_CHECK_AT} end,
      throttle_passed_at = ${passesThrottle ? sql`now()` : sql`e.throttle_passed_at`}
    from chosen
    where e.id = chosen.id and e.status = 'queued' and e.queue_reason = ${gate}
    returning e.id, chosen.next, e.concurrency_key, e.throttle_key`);
  return rows.map((row) => ({
    id: row.id,
    next: row.next,
    concurrencyKey: row.concurrency_key,
    throttleKey: row.throttle_key,
  }));
}

interface Moved {
  id: string;
  next: QueueReason | null;
  concurrencyKey: string | null;
  throttleKey: string | null;
}

/** After the move committed: each next gate gets its admission pass; past the last, hand-offs. */
async function afterMove(db: Database, env: Bindings, workflowId: string, moved: Moved[]): Promise<void> {
  for (const { id } of moved.filter((row) => row.next === null)) await handOffPending(db, env, id);
  for (const key of new Set(moved.filter((row) => row.next === "throttle").map((row) => row.throttleKey ?? ""))) {
    const { wakeInMs } = await admitAtGate(db, env, workflowId, "throttle", key);
    if (wakeInMs !== null) await wakeGate(env, { type: "admit", workflowId, gate: "throttle", key }, wakeInMs);
  }
  const concurrencyKeys = moved.filter((row) => row.next === "concurrency").map((row) => row.concurrencyKey ?? "");
  for (const key of new Set(concurrencyKeys)) await admitQueued(db, env, workflowId, key);
}
