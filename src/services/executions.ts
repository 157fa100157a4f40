/** Reading executions, their steps and logs (executions:read, docs/security.md visibility). */

import { and, asc, eq, gt, gte, lte, type SQL, sql } from "drizzle-orm";
import { readsAll } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Database } from "../db/client";
import { newestFirst } from "../db/newest-first";
import { executionLogs, type executionSteps, executions, logArchives, workflows } from "../db/schema";
import { readArchive } from "../logs/archived";
import { type LogLine, toLogLine } from "../logs/log-line";
import { maskedStepInput } from "../steps/http/mask";
import type { Waiting } from "../steps/task";
import { type ExecutionRow, visibleExecution } from "./execution-access";
import { type LabelFilters, labelConditions } from "./execution-labels";
import { decodeCursor, type Page, toPage } from "./pagination";

type StepRow = typeof executionSteps.$inferSelect;
type StepProgress = { total: number | null; started: number; running: number; completed: number; failed: number };

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
export interface SyncErrorView {
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
