/**
 * Notification channels and their deliveries (docs/operations.md "Notifications"): where the
 * platform tells people that an execution failed, an approval waits or a backup broke. A channel
 * is the platform's (admins) or one workflow's (its owner's); each event it listens to becomes
 * one delivery row, retried with backoff until the channel answers.
 */
import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import { CHANNEL_TYPES, type ChannelType, NOTIFICATION_EVENTS, type NotificationEvent } from "../../engine/vocabulary";
import { timestamps, tstz } from "./columns";
import { users } from "./users";
import { workflows } from "./workflows";

const quoted = (values: readonly string[]) => sql.raw(values.map((value) => `'${value}'`).join(", "));

export const notificationChannels = pgTable(
  "notification_channels",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    type: text("type").$type<ChannelType>().notNull(),
    /** The target URL (or its `{{secrets.NAME}}` template), sealed: a Slack webhook URL is a credential. */
    url: text("url").notNull(),
    /** What the list shows of the URL: its origin, or the template. */
    urlPreview: text("url_preview").notNull(),
    events: text("events").array().$type<NotificationEvent[]>().notNull(),
    /** Null: the platform's channel (every workflow, and backups and drills). */
    workflowId: uuid("workflow_id").references(() => workflows.id, { onDelete: "cascade" }),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => users.id),
    /** `webhook` channels sign each delivery with it (sealed; shown once, at creation). */
    signingSecret: text("signing_secret"),
    enabled: boolean("enabled").notNull().default(true),
    /** Deliveries failed in a row; at 20 the channel is disabled. */
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    disabledAt: tstz("disabled_at"),
    disabledReason: text("disabled_reason"),
    ...timestamps,
  },
  (t) => [
    index("notification_channels_workflow_idx").on(t.workflowId),
    check("notification_channels_type", sql`${t.type} in (${quoted(CHANNEL_TYPES)})`),
    check("notification_channels_events", sql`${t.events} <@ array[${quoted(NOTIFICATION_EVENTS)}]::text[]`),
    check("notification_channels_name_length", sql`char_length(${t.name}) between 1 and 200`),
  ],
);

export const notificationDeliveries = pgTable(
  "notification_deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    channelId: uuid("channel_id")
      .notNull()
      .references(() => notificationChannels.id, { onDelete: "cascade" }),
    event: text("event").$type<NotificationEvent>().notNull(),
    /** What the event was about, once per channel however often its writer retries. */
    dedupeKey: text("dedupe_key").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    status: text("status").$type<"pending" | "delivered" | "failed">().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: tstz("next_attempt_at").notNull().defaultNow(),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    deliveredAt: tstz("delivered_at"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    unique("notification_deliveries_once").on(t.channelId, t.dedupeKey),
    index("notification_deliveries_due_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index("notification_deliveries_channel_idx").on(t.channelId, t.createdAt.desc()),
    check("notification_deliveries_status", sql`${t.status} in ('pending', 'delivered', 'failed')`),
  ],
);
