/**
 * Shared state for live streams and triggers: single-use stream tickets, webhook deliveries
 * (replay refusal) and schedule runs (one execution per workflow and slot). All in Postgres, so
 * every isolate agrees.
 */
import { index, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { tstz } from "./columns";
import { executions } from "./executions";
import { users } from "./users";
import { workflows } from "./workflows";

export const streamTickets = pgTable(
  "stream_tickets",
  {
    /** sha256 of the ticket; the ticket itself is only ever in the client's hands. */
    ticketHash: text("ticket_hash").primaryKey(),
    executionId: uuid("execution_id")
      .notNull()
      .references(() => executions.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The credential the ticket was bought with: its viewer is dropped when that is revoked. */
    sessionId: uuid("session_id"),
    credential: text("credential"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
    usedAt: tstz("used_at"),
  },
  (t) => [index("stream_tickets_expires_idx").on(t.expiresAt)],
);

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    workflowId: uuid("workflow_id")
      .notNull()
      .references(() => workflows.id, { onDelete: "cascade" }),
    /**
     * sha256 of the accepted signature: one replay store per workflow, so a signature accepted on
     * any of its hooks (a start or an event) is a replay on every other.
     */
    signatureHash: text("signature_hash").notNull(),
    executionId: uuid("execution_id").references(() => executions.id, { onDelete: "set null" }),
    /** The event's name for an event hook's delivery; null for a start. */
    eventName: text("event_name"),
    receivedAt: tstz("received_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "webhook_deliveries_pkey", columns: [t.workflowId, t.signatureHash] }),
    index("webhook_deliveries_received_idx").on(t.receivedAt),
  ],
);

export const scheduleRuns = pgTable(
  "schedule_runs",
  {
    workflowId: uuid("workflow_id")
      .notNull()
      .references(() => workflows.id, { onDelete: "cascade" }),
    slot: tstz("slot").notNull(),
    executionId: uuid("execution_id").references(() => executions.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "schedule_runs_pkey", columns: [t.workflowId, t.slot] })],
);
