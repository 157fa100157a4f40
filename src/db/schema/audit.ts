/**
 * The audit trail: one row per successful change, written in the change's own transaction.
 * Writers append rows unlinked (no lock, so they never wait on each other); one sequencer at a
 * time (`audit_link`, src/audit/sequencer.ts) links them into the hash chain in order, setting
 * `seq`, `prev_hash` and `hash`. A trigger refuses every other update, and deletes.
 *
 * Partitioned by month of `created_at` (migrations/0018, src/db/partitions.ts): keys include the
 * partition column, so no index on audit_logs can hold `seq` unique across months; a trigger
 * claims each linked row's position in `audit_chain_positions`, whose key does (migrations/0024).
 * Retried writes are made unique by `audit_dedupe_keys`.
 */
import { sql } from "drizzle-orm";
import { bigint, index, inet, jsonb, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { tstz } from "./columns";

/** Who acted, from where: every audit row's actor columns, and what a job keeps to act later. */
export interface AuditContext {
  actorId: string | null;
  actorEmail: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export const auditLogs = pgTable(
  "audit_logs",
  {
    id: uuid("id").notNull().defaultRandom(),
    /** Position in the chain, null until the sequencer links the row; it sets the hashes with it. */
    seq: bigint("seq", { mode: "number" }),
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
    /** The insert trigger truncates it to milliseconds, the precision the hash covers. */
    createdAt: tstz("created_at").notNull().default(sql`clock_timestamp()`),
    prevHash: text("prev_hash").notNull().default(""),
    hash: text("hash").notNull().default(""),
  },
  (t) => [
    primaryKey({ name: "audit_logs_pkey", columns: [t.id, t.createdAt] }),
    index("audit_logs_seq_idx").on(t.seq),
    index("audit_logs_resource_idx").on(t.resourceType, t.resourceId, t.seq.desc()),
    index("audit_logs_actor_idx").on(t.actorId, t.seq.desc()),
    // What the sequencer links next, in arrival order.
    index("audit_logs_unlinked_idx").on(t.createdAt, t.id).where(sql`${t.seq} is null`),
  ],
);

/** The dedupe keys of audit rows written once however often their writer retries (an execution outbox). */
export const auditDedupeKeys = pgTable("audit_dedupe_keys", {
  dedupeKey: text("dedupe_key").primaryKey(),
  createdAt: tstz("created_at").notNull().defaultNow(),
});

/**
 * Every linked audit row's position in the chain, claimed by a trigger as the sequencer links the
 * row: a second row given a position already taken is refused, whoever links it.
 */
export const auditChainPositions = pgTable("audit_chain_positions", {
  seq: bigint("seq", { mode: "number" }).primaryKey(),
});
