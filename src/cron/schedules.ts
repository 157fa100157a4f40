/**
 * Scheduled workflows (docs/workflows.md), every minute: each active workflow with a schedule starts one
 * execution for its latest due slot, keyed by (workflow, slot) so a minute fired twice starts
 * one. Only the latest slot is considered, so slots missed while the platform was down are not
 * backfilled; slots before the schedule was set (or the workflow activated) never run.
 */
import { and, eq, inArray, isNotNull, sql } from "drizzle-orm";
import { SYSTEM_ACTOR } from "../audit/record";
import type { Database } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { scheduleRuns, type WorkflowSchedule, workflows } from "../db/schema";
import { CronError, parseCron, previousSlot } from "../engine/cron";
import type { Bindings } from "../env";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { startExecution } from "../services/execution-start";

export async function runSchedules(db: Database, env: Bindings, now: Date): Promise<{ started: string[] }> {
  const scheduled = await db
    .select({ id: workflows.id, schedule: workflows.schedule, since: workflows.scheduleSince })
    .from(workflows)
    .where(and(isNotNull(workflows.schedule), eq(workflows.status, "active"), isNotNull(workflows.currentVersionId)));
  const due = scheduled.flatMap((workflow) => {
    const slot = workflow.schedule && latestSlot(workflow.schedule, now, workflow.id);
    return slot && (!workflow.since || slot >= workflow.since) ? [{ ...workflow, slot }] : [];
  });
  if (due.length === 0) return { started: [] };

  const done = await db
    .select({ workflowId: scheduleRuns.workflowId, slot: scheduleRuns.slot })
    .from(scheduleRuns)
    .where(
      and(
        inArray(
          scheduleRuns.workflowId,
          due.map((w) => w.id),
        ),
        sql`${scheduleRuns.slot} >= ${new Date(Math.min(...due.map((w) => w.slot.getTime())))}`,
      ),
    );
  const ran = new Set(done.map((run) => `${run.workflowId}@${run.slot.getTime()}`));
  const started: string[] = [];
  for (const workflow of due.filter((w) => !ran.has(`${w.id}@${w.slot.getTime()}`))) {
    try {
      const execution = await startExecution(db, env, {
        workflowId: workflow.id,
        input: workflow.schedule?.input ?? {},
        triggerType: "schedule",
        user: null,
        audit: { ...SYSTEM_ACTOR, actorEmail: "scheduler" },
        beforeCommit: async (tx, executionId) => {
          await tx.insert(scheduleRuns).values({ workflowId: workflow.id, slot: workflow.slot, executionId });
        },
      });
      started.push(execution.id);
    } catch (error) {
      // Another firing of this minute got there first: exactly what the key is for.
      if (isUniqueViolation(error, "schedule_runs_pkey")) continue;
      logEvent("error", "schedule_start_failed", {
        workflowId: workflow.id,
        slot: workflow.slot.toISOString(),
        ...describeError(error),
      });
    }
  }
  return { started };
}

function latestSlot(schedule: WorkflowSchedule, now: Date, workflowId: string): Date | null {
  try {
    return previousSlot(parseCron(schedule.cron, schedule.timezone), now);
  } catch (error) {
    if (!(error instanceof CronError)) throw error;
    logEvent("warn", "schedule_invalid", { workflowId, cron: schedule.cron, timezone: schedule.timezone });
    return null;
  }
}
