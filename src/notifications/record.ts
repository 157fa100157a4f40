/**
 * Recording what a channel must be told (docs/operations.md "Notifications"): one delivery row per
 * enabled channel that listens to the event and covers it (the platform's channels cover
 * everything; a workflow's channels its own executions), written in the same transaction as the
 * change it reports, so it is sent once it happened and never for a change that rolled back. The
 * dedupe key makes a writer's retry (an outbox flushed again) record nothing twice.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import type { NotificationEvent } from "../engine/vocabulary";

export interface Notice {
  event: NotificationEvent;
  /** The workflow it is about; null for backups and drills (the platform's channels only). */
  workflowId: string | null;
  /** What it is about, once: e.g. `execution:<id>:failed:<run>`. */
  dedupeKey: string;
  /** What the message says: ids, status, reason, and a link path. */
  payload: Record<string, unknown>;
}

/** Answers how many deliveries it recorded (the caller pokes the sender when any). */
export async function recordNotice(tx: Queryable, notice: Notice): Promise<number> {
  const { rows } = await tx.execute<{ id: string }>(noticeInsert(notice));
  return rows.length;
}

/** The statement recording a notice's deliveries, returning their ids (a writer may fold it into a larger one). */
export function noticeInsert(notice: Notice): SQL {
  return sql`
    insert into notification_deliveries (channel_id, event, dedupe_key, payload)
    select id, ${notice.event}, ${notice.dedupeKey}, ${JSON.stringify({ event: notice.event, ...notice.payload })}::jsonb
    from notification_channels
    where enabled and ${notice.event} = any(events)
      and (workflow_id is null or workflow_id = ${notice.workflowId})
    on conflict on constraint notification_deliveries_once do nothing
    returning id`;
}
