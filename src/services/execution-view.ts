/**
 * One execution as the API shows it (executions:read, docs/security.md visibility): its row, its
 * steps in the definition's order, compensations, children, its place in a start queue, and a
 * container's items a page at a time.
 */
import { and, eq, sql } from "drizzle-orm";
import type { AuthenticatedUser } from "../auth/principal";
import type { Database } from "../db/client";
import { newestFirst } from "../db/newest-first";
import { executionSteps, executions } from "../db/schema";
import type { QueueReason } from "../engine/vocabulary";
import type { Definition } from "../steps/definition";
import { nestedSteps } from "../steps/step-references";
import { assertVisible } from "./access";
import { type ExecutionWithOwner, executionOwnership, findExecution } from "./execution-access";
import { toExecutionView, toStepView } from "./executions";

export async function getExecution(db: Database, user: AuthenticatedUser, id: string) {
  // Its steps are read beside it (one round trip, not two), each read naming the outbox batch it
  // saw: a batch writes the row and its steps in one statement, so equal numbers are one moment.
  // Reads on two connections may see two moments; then the steps are read again after it.
  const [found, steps] = await Promise.all([findExecution(db, id), topStepRowsAt(db, id)]);
  assertVisible(user, found ? executionOwnership(found) : null, "Execution");
  const visible = found as ExecutionWithOwner;
  const sameMoment = steps.length > 0 && steps.every(({ seq }) => seq === visible.row.lastSeq);
  return executionView(db, visible, sameMoment ? steps.map(({ step }) => step) : undefined);
}

/** The steps with the execution's `last_seq` as the same statement saw it (async: a failure rejects, never throws beside another read). */
async function topStepRowsAt(db: Database, id: string) {
  return await db
    .select({
      step: executionSteps,
      seq: sql<number>`(select last_seq from executions where id = ${id})`.mapWith(Number),
    })
    .from(executionSteps)
    .where(and(eq(executionSteps.executionId, id), topStepsOnly));
}

/** How many children the view lists (the newest). */
const CHILDREN_SHOWN = 100;

/** The execution's steps and compensations (not a map's items or a loop's iterations). */
async function topStepRows(db: Database, id: string) {
  return await db
    .select()
    .from(executionSteps)
    .where(and(eq(executionSteps.executionId, id), topStepsOnly));
}

const topStepsOnly = sql`(${executionSteps.containerStepId} is null or ${executionSteps.itemIndex} is null)`;

/**
 * An execution with its steps, in the order the definition lists them (a map's items and a loop's
 * iterations are paged apart), its compensations and its children.
 */
export async function executionView(
  db: Database,
  found: ExecutionWithOwner,
  /** Its steps, when read at the same moment as `found`. */
  stepRows?: Awaited<ReturnType<typeof topStepRows>>,
) {
  const id = found.row.id;
  // Only a definition whose steps can start children (workflow steps, agents' workflow tools) asks for them.
  const startsChildren = (found.definition as Definition).steps.some((step) =>
    nestedSteps(step).some(({ step: inner }) => inner.type === "workflow" || inner.type === "agent"),
  );
  const [all, children] = await Promise.all([
    stepRows ?? topStepRows(db, id),
    startsChildren
      ? db
          .select({
            id: executions.id,
            workflowId: executions.workflowId,
            status: executions.status,
            parentStepId: executions.parentStepId,
            createdAt: executions.createdAt,
          })
          .from(executions)
          .where(eq(executions.parentExecutionId, id))
          .orderBy(...newestFirst(executions.createdAt, executions.id))
          .limit(CHILDREN_SHOWN)
      : [],
  ]);
  const rows = all.filter((row) => row.containerStepId === null);
  const compensations = all
    .filter((row) => row.containerStepId !== null)
    .sort((a, b) => (a.startedAt?.getTime() ?? 0) - (b.startedAt?.getTime() ?? 0));
  // Steps in the order the definition lists them.
  const order = new Map(((found.definition as Definition).steps ?? []).map((step, index) => [step.id, index]));
  rows.sort((a, b) => (order.get(a.stepId) ?? 0) - (order.get(b.stepId) ?? 0));
  const budget = found.row.costBudgetUsd ?? (found.definition as Definition).costBudgetUsd ?? null;
  return {
    ...toExecutionView(found.row),
    versionNumber: found.versionNumber,
    costBudgetUsd: budget,
    queue: await queuePlace(db, found),
    steps: rows.map(toStepView),
    compensations: compensations.map(toStepView),
    children: children.map((child) => ({ ...child, createdAt: child.createdAt.toISOString() })),
  };
}

/** A map's items or a loop's iterations, in order, a page at a time (`after`: the last index seen). */
export async function subStepPage(
  db: Database,
  found: ExecutionWithOwner,
  stepId: string,
  page: { after: number | null; limit: number; status?: (typeof executionSteps.$inferSelect)["status"] },
) {
  const rows = await db
    .select()
    .from(executionSteps)
    .where(
      and(
        eq(executionSteps.executionId, found.row.id),
        eq(executionSteps.containerStepId, stepId),
        sql`${executionSteps.itemIndex} is not null`,
        page.after === null ? undefined : sql`${executionSteps.itemIndex} > ${page.after}`,
        page.status ? eq(executionSteps.status, page.status) : undefined,
      ),
    )
    .orderBy(executionSteps.itemIndex)
    .limit(page.limit + 1);
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  return {
    items: items.map((row) => ({ index: row.itemIndex as number, ...toStepView(row) })),
    nextAfter: more ? (items.at(-1)?.itemIndex ?? null) : null,
  };
}

/** Why and where a queued execution waits: the gate, its place there (priority, then arrival), and until when. */
async function queuePlace(db: Database, found: ExecutionWithOwner) {
  const { row } = found;
  if (row.status !== "queued") return null;
  const reason = row.queueReason ?? "concurrency";
  const definition = found.definition as Definition;
  const gate = QUEUE_GATES[reason];
  const key = row[gate.key] ?? "";
  const [ahead] = (
    await db.execute<{ n: number }>(sql`
      select count(*)::int as n from executions
      where workflow_id = ${row.workflowId} and ${executions[gate.key]} = ${key}
        and status = 'queued' and queue_reason = ${reason}
        and (priority > ${row.priority}
             or (priority = ${row.priority} and (created_at, id) < (${row.createdAt}, ${row.id})))`)
  ).rows;
  return {
    reason,
    key,
    position: Number(ahead.n) + 1,
    limit: gate.limit(definition),
    until: row.admitAt?.toISOString() ?? null,
    expiresAt: row.queueExpiresAt?.toISOString() ?? null,
  };
}

/** Each start gate's key column, and its limit. */
const QUEUE_GATES: Record<
  QueueReason,
  { key: "concurrencyKey" | "throttleKey" | "debounceKey"; limit: (definition: Definition) => number | null }
> = {
  debounce: { key: "debounceKey", limit: () => null },
  throttle: { key: "throttleKey", limit: (definition) => definition.throttle?.limit ?? null },
  concurrency: { key: "concurrencyKey", limit: (definition) => definition.concurrency?.limit ?? null },
};
