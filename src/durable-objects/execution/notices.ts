/**
 * What an execution's events tell its notification channels (docs/operations.md "Notifications"):
 * it ended (completed or failed), a step waits for an approval, a step was dead-lettered. Recorded
 * with the batch that carries the event, keyed by the event's sequence number, so a batch written
 * again records nothing twice.
 */
import type { Queryable } from "../../db/client";
import type { NotificationEvent, StepError } from "../../engine/vocabulary";
import { type Notice, recordNotice } from "../../notifications/record";
import type { ExecutionEvent, ExecutionRecord } from "./types";

/** The notices of a batch's events; answers how many deliveries were recorded. */
export async function recordNotices(tx: Queryable, record: ExecutionRecord, events: ExecutionEvent[]): Promise<number> {
  let recorded = 0;
  for (const notice of noticesOf(record, events)) recorded += await recordNotice(tx, notice);
  return recorded;
}

/** What the events tell the channels, each keyed by its event's sequence number. */
export function noticesOf(record: ExecutionRecord, events: ExecutionEvent[]): Notice[] {
  const notices: Notice[] = [];
  for (const event of events) {
    const kind = noticeOf(event);
    if (!kind) continue;
    const data = (event.data ?? {}) as { error?: StepError; message?: string | null };
    notices.push({
      event: kind,
      workflowId: record.workflowId,
      dedupeKey: `execution:${record.id}:${event.seq}`,
      payload: {
        executionId: record.id,
        workflowId: record.workflowId,
        run: record.run,
        // An execution's failure names the step that ended it.
        stepId: event.stepId ?? (record.error as { stepId?: string } | null)?.stepId ?? null,
        at: event.at,
        reason: data.error?.reason ?? (kind === "execution.failed" ? (record.error?.reason ?? null) : null),
        message: data.error?.message ?? data.message ?? event.message,
        link: `/executions/${record.id}`,
      },
    });
  }
  return notices;
}

function noticeOf(event: ExecutionEvent): NotificationEvent | null {
  switch (event.event) {
    case "execution.completed":
    case "execution.failed":
      return event.event;
    case "step.waiting":
      return (event.data as { reason?: string } | null)?.reason === "approval" ? "approval.waiting" : null;
    case "step.failed":
      return (event.data as { error?: StepError } | null)?.error?.reason === "dead_lettered"
        ? "step.dead_lettered"
        : null;
    default:
      return null;
  }
}
