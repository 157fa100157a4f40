/**
 * The audit trail: one row per successful change, written in the change's own transaction.
 * Rows form a hash chain computed by a database trigger (migrations), which also serialises
 * writers so concurrent transactions cannot fork the chain; another trigger refuses updates
 * and deletes.
 */
import { bigint, index, inet, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tstz } from "./columns";

export const auditLogs = pgTable(
  "audit_logs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Position in the chain. This and the hashes are always set by the chain trigger. */
    seq: bigint("seq", { mode: "number" }).notNull().default(0),
    /** Null for actions of the platform itself (cron, webhooks). */
    actorId: uuid("actor_id"),
    actorEmail: text("actor_email"),
    action: text("action").notNull(),
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id"),
    before: jsonb("before"),
    after: jsonb("after"),
    ip: inet("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
    /** Lets a retried writer (an execution outbox) record an event once. */
    dedupeKey: text("dedupe_key"),
    createdAt: tstz("created_at").notNull().defaultNow(),
    prevHash: text("prev_hash").notNull().default(""),
    hash: text("hash").notNull().default(""),
  },
  (t) => [
    uniqueIndex("audit_logs_seq_key").on(t.seq),
    uniqueIndex("audit_logs_dedupe_key").on(t.dedupeKey),
    index("audit_logs_resource_idx").on(t.resourceType, t.resourceId, t.seq.desc()),
    index("audit_logs_actor_idx").on(t.actorId, t.seq.desc()),
  ],
);
