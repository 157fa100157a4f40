/**
 * Concurrency limits (docs/workflows.md `concurrency: { limit, key? }`, docs/engine.md `queued`): at most `limit`
 * executions of a workflow per value of `key` are active (pending, running or paused) at once. A
 * start beyond that is inserted `queued`, its object not started; queued executions are admitted
 * oldest first as slots free — when an execution of the key ends (its object's final flush) and,
 * for whatever that missed (a crash between the two), by the cron every minute. Admission for one
 * key is serialised by a transaction-level advisory lock on (workflow, key), so two starts or two
 * releases never both take the last slot, and nothing wider than the key is locked.
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { executions } from "../db/schema";
import type { Scope } from "../engine/paths";
import { renderText, TemplateError } from "../engine/template";
import { ValidationError } from "../errors";
import type { Definition } from "../steps/definition";

/** Keys are compared as text; a longer one is refused at the start. */
export const MAX_KEY_LENGTH = 256;
/** A queued row is not the watchdog's business until it is admitted. */
export const QUEUED_CHECK_AT = sql`'infinity'::timestamptz`;

/**
 * A key's queue: higher priority first, then arrival (the order of executions_concurrency_queue_idx,
 * whose `priority DESC` drizzle-kit writes NULLS LAST).
 */
export const QUEUE_ORDER = [
  sql`${executions.priority} desc nulls last`,
  sql`${executions.createdAt}`,
  sql`${executions.id}`,
];

/** When an execution queued at `queuedAt` expires (the definition's `queueTtlSeconds`), or never. */
export function queueExpiry(definition: Definition, queuedAt: Date): Date | null {
  return definition.queueTtlSeconds ? new Date(queuedAt.getTime() + definition.queueTtlSeconds * 1000) : null;
}

/** The execution's concurrency key: the rendered `key` ("" without one), or null when the workflow has no limit. */
export function concurrencyKeyOf(definition: Definition, scope: Pick<Scope, "input">): string | null {
  return definition.concurrency ? startKeyOf(definition.concurrency.key, scope, "concurrency") : null;
}

/** The execution's singleton key (docs/workflows.md `singleton`), or null when the workflow has none. */
export function singletonKeyOf(definition: Definition, scope: Pick<Scope, "input">): string | null {
  return definition.singleton ? startKeyOf(definition.singleton.key, scope, "singleton") : null;
}

/** A start's key rendered over its input: "" without a template; a 422 when it cannot be read or is too long. */
export function startKeyOf(template: string | undefined, scope: Pick<Scope, "input">, what: string): string {
  if (!template) return "";
  let key: string;
  try {
    key = renderText(template, { ...scope, steps: {}, execution: { id: "", startedAt: "", workflowId: "" } });
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    throw new ValidationError([{ path: "input", message: `the ${what} key cannot be read: ${error.message}` }]);
  }
  if (key.length > MAX_KEY_LENGTH)
    throw new ValidationError([
      { path: "input", message: `the ${what} key is ${key.length} characters; at most ${MAX_KEY_LENGTH}` },
    ]);
  return key;
}

/** Serialises what decides over one key of a workflow (a concurrency slot, a singleton) until the transaction ends. */
export async function lockKey(
  tx: Queryable,
  workflowId: string,
  key: string,
  kind: "concurrency" | "singleton" | "throttle" | "debounce" = "concurrency",
): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${kind}:${workflowId}:${key}`}, 0))`);
}

export async function occupancy(tx: Queryable, workflowId: string, key: string) {
  const [row] = (
    await tx.execute<{ active: number; queued: number }>(sql`
      select count(*) filter (where status <> 'queued')::int as active,
             count(*) filter (where status = 'queued' and queue_reason = 'concurrency')::int as queued
      from executions
      where workflow_id = ${workflowId} and concurrency_key = ${key}
        and status in ('pending', 'queued', 'running', 'paused')`)
  ).rows;
  return { active: Number(row.active), queued: Number(row.queued) };
}

/**
 * Inside the start's transaction, before its insert: whether the new execution starts now or
 * queues. It queues behind any execution already queued (arrival order), or when the key is full.
 * The lock is held until that transaction commits, so the insert is counted by the next caller.
 */
export async function admissionFor(
  tx: Queryable,
  workflowId: string,
  key: string,
  limit: number,
): Promise<"pending" | "queued"> {
  await lockKey(tx, workflowId, key);
  const { active, queued } = await occupancy(tx, workflowId, key);
  return queued === 0 && active < limit ? "pending" : "queued";
}

/**
 * Whether an ancestor of the execution `parentId` holds a slot of this workflow's key: a child
 * queued there would wait for a slot its own ancestor holds while that ancestor waits for it.
 */
export async function ancestorHoldsSlot(
  tx: Queryable,
  parentId: string,
  workflowId: string,
  key: string,
): Promise<boolean> {
  const { rows } = await tx.execute<{ holds: boolean }>(sql`
    with recursive chain (id, workflow_id, concurrency_key, status, parent_execution_id, depth) as (
      select id, workflow_id, concurrency_key, status, parent_execution_id, 1 from executions where id = ${parentId}
      union all
      select e.id, e.workflow_id, e.concurrency_key, e.status, e.parent_execution_id, c.depth + 1
      from executions e join chain c on e.id = c.parent_execution_id where c.depth < 16)
    select exists (
      select 1 from chain
      where workflow_id = ${workflowId} and concurrency_key = ${key} and status in ('pending', 'running', 'paused')
    ) as holds`);
  return rows[0]?.holds === true;
}
