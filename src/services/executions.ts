/** Reading executions, their steps and logs (executions:read, docs/security.md visibility). */

import { and, asc, eq, gt, gte, lte, type SQL, sql } from "drizzle-orm";
import { readsAll } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Database } from "../db/client";
import { newestFirst } from "../db/newest-first";
import { executionLogs, executionSteps, executions, logArchives, workflows } from "../db/schema";
import type { QueueReason } from "../engine/vocabulary";
import { readArchive } from "../logs/archived";
import { type LogLine, toLogLine } from "../logs/log-line";
import type { Definition } from "../steps/definition";
import { maskedStepInput } from "../steps/http/mask";
import { nestedSteps } from "../steps/step-references";
import type { Waiting } from "../steps/task";
import { assertVisible } from "./access";
import {
  type ExecutionRow,
  type ExecutionWithOwner,
  executionOwnership,
  findExecution,
  visibleExecution,
} from "./execution-access";
import { type LabelFilters, labelConditions } from "./execution-labels";
import { decodeCursor, type Page, toPage } from "./pagination";

type StepRow = typeof executionSteps.$inferSelect;

export interface ExecutionFilters extends LabelFilters {
  limit: number;
  cursor?: string;
  workflowId?: string;
  status?: ExecutionRow["status"];
  from?: Date;
  to?: Date;
}

export function toExecutionView(row: ExecutionRow) {
  return {
    id: row.id,
    workflowId: row.workflowId,
    workflowVersionId: row.workflowVersionId,
    status: row.status,
    triggerType: row.triggerType,
    triggeredBy: row.triggeredBy,
    parentExecutionId: row.parentExecutionId,
    parentStepId: row.parentStepId,
    input: row.input,
    output: row.output,
    error: row.error,
    compensation: row.compensation ?? null,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    costUsd: row.costUsd,
    run: row.run,
    priority: row.priority,
    tags: row.tags,
    metadata: row.metadata,
    syncError: (row.syncError as SyncErrorView | null) ?? null,
    startedAt: row.startedAt?.toISOString() ?? null,
    completedAt: row.completedAt?.toISOString() ?? null,
    durationMs: row.durationMs,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * The newest row Postgres refused for good, as the object recorded it. The route's response schema
 * (routes/schemas/execution-views.ts) is checked against these views where the routes answer with them.
 */
interface SyncErrorView {
  seq: number;
  target: string;
  pgCode: string | null;
  message: string;
  at: string;
}

export function toStepView(row: StepRow) {
  return {
    stepId: row.stepId,
    type: row.stepType,
    status: row.status,
    attempt: row.attempt,
    idempotencyKey: row.idempotencyKey,
    input: maskedStepInput(row.stepType, row.input),
    output: row.output,
    error: row.error,
    retries: row.retries,
    run: row.run,
    waiting: (row.waiting as Waiting | null) ?? null,
    progress: (row.progress as StepProgress | null) ?? null,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    costUsd: row.costUsd,
    startedAt: row.startedAt?.toISOString() ?? null,
    completedAt: row.completedAt?.toISOString() ?? null,
    durationMs: row.durationMs,
  };
}

/** The list's filters (and a bulk job's) as one condition on executions, visibility aside. */
export function filterConditions(filters: Omit<ExecutionFilters, "limit" | "cursor">): SQL | undefined {
  return and(
    filters.workflowId ? eq(executions.workflowId, filters.workflowId) : undefined,
    filters.status ? eq(executions.status, filters.status) : undefined,
    filters.from ? gte(executions.createdAt, filters.from) : undefined,
    filters.to ? lte(executions.createdAt, filters.to) : undefined,
    labelConditions(filters),
  );
}

/**
 * Among the executions `where` keeps, the newest `limit` that `user` may read, as a condition to
 * add to `where`: none for admins and viewers (Postgres walks the created-at index). A user's are
 * found where they live, each walked newest first and cut at `limit` — the executions they
 * started (triggered_by's index) and those of each workflow they own (workflow_id's index) — so a
 * user with ten executions among a million reads about ten rows, not a million.
 */
export function visibleNewest(user: AuthenticatedUser, where: SQL | undefined, limit: number): SQL | undefined {
  if (readsAll(user)) return undefined;
  const kept = where ?? sql`true`;
  const order = sql`created_at desc nulls last, id desc nulls last`;
  // array(…) runs once and hands the outer query at most `limit` ids to fetch by primary key.
  return sql`${executions.id} = any(array(
    select id from (
      (select id, created_at from executions where triggered_by = ${user.id} and ${kept} order by ${order} limit ${limit})
      union
      (select own.id, own.created_at from ${workflows} cross join lateral (
         select id, created_at from executions where workflow_id = ${workflows.id} and ${kept} order by ${order} limit ${limit}
       ) own where ${workflows.ownerId} = ${user.id})
    ) found order by ${order} limit ${limit}
  ))`;
}

export async function listExecutions(db: Database, user: AuthenticatedUser, filters: ExecutionFilters) {
  const after = decodeCursor(filters.cursor);
  const where = and(
    filterConditions(filters),
    after
      ? sql`(${executions.createdAt}, ${executions.id}) < (${after.at}::timestamptz, ${after.id}::uuid)`
      : undefined,
  );
  const rows = await db
    .select({ row: executions })
    .from(executions)
    .where(and(visibleNewest(user, where, filters.limit + 1), where))
    .orderBy(...newestFirst(executions.createdAt, executions.id))
    .limit(filters.limit + 1);
  return toPage(
    rows,
    filters.limit,
    ({ row }) => ({ at: row.createdAt.toISOString(), id: row.id }),
    ({ row }) => toExecutionView(row),
  );
}

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

type StepProgress = { total: number | null; started: number; running: number; completed: number; failed: number };

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
  page: { after: number | null; limit: number; status?: StepRow["status"] },
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

/**
 * The execution's log, oldest first: lines archived to R2 and lines still in Postgres, merged by
 * sequence number, so archival is invisible to readers.
 */
export async function listLogs(
  db: Database,
  bucket: R2Bucket,
  user: AuthenticatedUser,
  id: string,
  options: { limit: number; cursor?: string; stepId?: string },
): Promise<Page<LogLine>> {
  await visibleExecution(db, user, id);
  return readLogs(db, bucket, id, options);
}

/** An execution's log lines after the cursor: archived and live ones merged by sequence. */
export async function readLogs(
  db: Database,
  bucket: R2Bucket,
  id: string,
  options: { limit: number; cursor?: string; stepId?: string },
): Promise<Page<LogLine>> {
  const after = Number(decodeCursor(options.cursor)?.at ?? 0);
  const wanted = options.limit + 1;
  const bySeq = new Map<number, LogLine>();
  const archives = await db
    .select()
    .from(logArchives)
    .where(and(eq(logArchives.executionId, id), gt(logArchives.lastSeq, after)))
    .orderBy(asc(logArchives.firstSeq));
  for (const archive of archives) {
    if (bySeq.size >= wanted) break;
    for (const line of await readArchive(bucket, archive.objectKey)) {
      if (line.seq > after && (!options.stepId || line.stepId === options.stepId)) bySeq.set(line.seq, line);
    }
  }
  const live = await db
    .select()
    .from(executionLogs)
    .where(
      and(
        eq(executionLogs.executionId, id),
        options.stepId ? eq(executionLogs.stepId, options.stepId) : undefined,
        gt(executionLogs.seq, after),
      ),
    )
    .orderBy(asc(executionLogs.seq))
    .limit(wanted);
  for (const row of live) bySeq.set(row.seq, toLogLine(row));
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(0, wanted);
  return toPage(
    merged,
    options.limit,
    (line) => ({ at: String(line.seq), id }),
    (line) => line,
  );
}
