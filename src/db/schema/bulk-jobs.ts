/** Bulk actions over executions (docs/api.md "Bulk actions"): the job, what it matched, how far it got. */
import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgEnum, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { BULK_ACTIONS, BULK_JOB_STATUSES } from "../../engine/vocabulary";
import type { AuditContext } from "./audit";
import { timestamps, tstz } from "./columns";
import { users } from "./users";

export const bulkAction = pgEnum("bulk_action", BULK_ACTIONS);
export const bulkJobStatus = pgEnum("bulk_job_status", BULK_JOB_STATUSES);

export const bulkJobs = pgTable(
  "bulk_jobs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Whose job it is: each execution is acted on as this user, and only they see the job. */
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    action: bulkAction("action").notNull(),
    /** The list filter as given, for the audit row and the job's view. */
    filter: jsonb("filter").$type<Record<string, unknown>>().notNull(),
    /** For `rerun`: the step each execution runs again from. */
    fromStep: text("from_step"),
    /** The executions the filter matched when the job was created, newest first. */
    executionIds: uuid("execution_ids").array().notNull(),
    /** How many of them have been dealt with: the job resumes there after a crash. */
    position: integer("position").notNull().default(0),
    status: bulkJobStatus("status").notNull().default("running"),
    done: integer("done").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    /** The scopes of the API token that created it (null: a session): the job acts within them too. */
    scopes: text("scopes").array(),
    /** Who asked, from where: each action's audit row carries it. */
    audit: jsonb("audit").$type<AuditContext>().notNull(),
    completedAt: tstz("completed_at"),
    ...timestamps,
  },
  (t) => [
    index("bulk_jobs_user_created_idx").on(t.userId, t.createdAt.desc()),
    check("bulk_jobs_counts", sql`${t.position} >= 0 and ${t.done} + ${t.skipped} + ${t.failed} <= ${t.position}`),
  ],
);
