/**
 * Bulk actions (docs/api.md "Bulk actions"): cancel, retry or rerun every execution a list filter
 * matches. The job fixes the matched executions when it is created, then the jobs queue works
 * through them as the user who asked (within their token's scopes), each through the same service
 * call as the single action. Its position is saved after each execution, so a job cut short
 * resumes where it stopped; an execution acted on again is refused by its own state (a cancelled
 * execution cannot be cancelled, a running one not retried) and counts as skipped.
 */

import { and, eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import { assertPermission } from "../auth/assert-permission";
import type { Permission } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Database } from "../db/client";
import { newestFirst } from "../db/newest-first";
import type { AuditContext } from "../db/schema";
import { bulkJobs, executions } from "../db/schema";
import { type BulkAction, exhaustive } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { AppError, NotFoundError } from "../errors";
import { enqueueJob } from "../queues/enqueue-job";
import { controlExecution } from "./execution-controls";
import { rerunExecution } from "./execution-rerun";
import { type ExecutionFilters, filterConditions, visibleNewest } from "./executions";
import { principalById } from "./users";

export const MAX_BULK_LIMIT = 10_000;
/** Executions one delivery of the job acts on before it hands the rest to the next delivery. */
const PER_DELIVERY = 200;

const PERMISSION: Record<BulkAction, Permission> = {
  cancel: "executions:cancel",
  retry: "executions:retry",
  rerun: "executions:retry",
};

export type BulkFilter = Omit<ExecutionFilters, "limit" | "cursor">;

export interface BulkRequest {
  action: BulkAction;
  filter: BulkFilter;
  fromStep?: string;
  dryRun: boolean;
  limit: number;
}

export type BulkAnswer =
  | { dryRun: true; matched: number; executionIds: string[] }
  | { dryRun: false; id: string; matched: number };

export async function createBulkJob(
  db: Database,
  env: Bindings,
  user: AuthenticatedUser,
  audit: AuditContext,
  request: BulkRequest,
): Promise<BulkAnswer> {
  assertPermission(user, PERMISSION[request.action]);
  const where = filterConditions(request.filter);
  const rows = await db
    .select({ id: executions.id })
    .from(executions)
    .where(and(visibleNewest(user, where, request.limit), where))
    .orderBy(...newestFirst(executions.createdAt, executions.id))
    .limit(request.limit);
  const ids = rows.map((row) => row.id);
  if (request.dryRun) return { dryRun: true, matched: ids.length, executionIds: ids.slice(0, 20) };
  const [job] = await db
    .insert(bulkJobs)
    .values({
      userId: user.id,
      action: request.action,
      filter: jsonFilter(request.filter),
      fromStep: request.fromStep ?? null,
      executionIds: ids,
      scopes: user.scopes ? [...user.scopes] : null,
      audit,
      ...(ids.length === 0 ? { status: "completed" as const, completedAt: new Date() } : {}),
    })
    .returning({ id: bulkJobs.id });
  if (ids.length === 0) await auditFinished(db, job.id);
  else await enqueueJob(env, { type: "bulk", bulkJobId: job.id });
  return { dryRun: false, id: job.id, matched: ids.length };
}

/** The job as its creator sees it; anyone else's is a 404. */
export async function bulkJobView(db: Database, user: AuthenticatedUser, id: string) {
  const [job] = await db
    .select()
    .from(bulkJobs)
    .where(and(eq(bulkJobs.id, id), eq(bulkJobs.userId, user.id)));
  if (!job) throw new NotFoundError("Bulk job");
  return {
    id: job.id,
    action: job.action,
    filter: job.filter,
    fromStep: job.fromStep,
    status: job.status,
    matched: job.executionIds.length,
    done: job.done,
    skipped: job.skipped,
    failed: job.failed,
    createdAt: job.createdAt.toISOString(),
    completedAt: job.completedAt?.toISOString() ?? null,
  };
}

/**
 * One delivery of the job: acts on up to PER_DELIVERY executions from its saved position. True
 * when executions remain (the caller sends the job again).
 */
export async function runBulkJob(db: Database, env: Bindings, id: string): Promise<boolean> {
  const [job] = await db.select().from(bulkJobs).where(eq(bulkJobs.id, id));
  if (job?.status !== "running") return false;
  const person = await principalById(db, job.userId);
  if (!person) {
    // Deactivated since: nothing more is done in their name.
    await failBulkJob(db, id);
    return false;
  }
  const user: AuthenticatedUser = { ...person, scopes: job.scopes as AuthenticatedUser["scopes"] };
  const end = Math.min(job.executionIds.length, job.position + PER_DELIVERY);
  for (let position = job.position; position < end; position++) {
    const outcome = await actOn(db, env, user, job, job.executionIds[position]);
    await db
      .update(bulkJobs)
      .set({ position: position + 1, [outcome]: sql`${bulkJobs[outcome]} + 1` } as Partial<
        typeof bulkJobs.$inferInsert
      >)
      .where(and(eq(bulkJobs.id, id), eq(bulkJobs.position, position)));
  }
  if (end < job.executionIds.length) return true;
  await db.update(bulkJobs).set({ status: "completed", completedAt: new Date() }).where(eq(bulkJobs.id, id));
  await auditFinished(db, id);
  return false;
}

/**
 * A job that cannot go on (its creator deactivated, or its message dead-lettered): still running,
 * it failed where it stopped, and its one audit row says so.
 */
export async function failBulkJob(db: Database, id: string): Promise<boolean> {
  const changed = await db
    .update(bulkJobs)
    .set({ status: "failed", completedAt: new Date() })
    .where(and(eq(bulkJobs.id, id), eq(bulkJobs.status, "running")))
    .returning({ id: bulkJobs.id });
  if (changed.length === 0) return false;
  await auditFinished(db, id);
  return true;
}

type Outcome = "done" | "skipped" | "failed";

/** One execution: done, skipped (not theirs, or not in a state for the action), or failed (refused otherwise). */
async function actOn(
  db: Database,
  env: Bindings,
  user: AuthenticatedUser,
  job: typeof bulkJobs.$inferSelect,
  executionId: string,
): Promise<Outcome> {
  try {
    switch (job.action) {
      case "cancel":
      case "retry":
        await controlExecution(db, env, user, job.audit, executionId, job.action);
        break;
      case "rerun":
        await rerunExecution(db, env, user, job.audit, executionId, { fromStep: job.fromStep ?? "" });
        break;
      default:
        exhaustive(job.action);
    }
    return "done";
  } catch (error) {
    // Outages are not the execution's answer: the delivery fails, and the job resumes here.
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    return [403, 404, 409].includes(error.status) ? "skipped" : "failed";
  }
}

/** The job's one audit row: what it did, to what it matched, with its counts. */
async function auditFinished(db: Database, id: string): Promise<void> {
  const [job] = await db.select().from(bulkJobs).where(eq(bulkJobs.id, id));
  await recordAudit(db, job.audit, {
    action: `execution.bulk_${job.action}`,
    resourceType: "bulk_job",
    resourceId: job.id,
    // One row per job, however often its last delivery ran.
    dedupeKey: `bulk:${job.id}`,
    after: {
      status: job.status,
      filter: job.filter,
      fromStep: job.fromStep,
      matched: job.executionIds.length,
      done: job.done,
      skipped: job.skipped,
      failed: job.failed,
    },
  });
}

/** The filter as stored: dates as ISO text, absent fields left out. */
function jsonFilter(filter: BulkFilter): Record<string, unknown> {
  return JSON.parse(JSON.stringify(filter));
}
