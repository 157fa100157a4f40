/** Workflows and their immutable, numbered versions. */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns";
import { users } from "./users";

export const workflowStatus = pgEnum("workflow_status", ["draft", "active", "archived"]);

export interface WorkflowSchedule {
  cron: string;
  /** IANA time zone the cron fields are read in; UTC when absent. */
  timezone?: string;
  input?: Record<string, unknown>;
}

export const workflows = pgTable(
  "workflows",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id),
    name: text("name").notNull(),
    description: text("description"),
    status: workflowStatus("status").notNull().default("draft"),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    /** An admin offers it to every MCP caller who may start it, besides its owner. */
    mcp: boolean("mcp").notNull().default(false),
    /** Its executions leave this many days after they ended (logs archived first); null: kept. */
    retentionDays: integer("retention_days"),
    currentVersionId: uuid("current_version_id"),
    schedule: jsonb("schedule").$type<WorkflowSchedule>(),
    /** Schedule slots before this instant never run (set when the schedule or activation changes). */
    scheduleSince: tstz("schedule_since"),
    /** Keyring-encrypted webhook signing secret, bound to this row and column. */
    webhookSecret: text("webhook_secret"),
    ...timestamps,
  },
  (t) => [
    index("workflows_owner_created_idx").on(t.ownerId, t.createdAt.desc(), t.id.desc()),
    index("workflows_created_idx").on(t.createdAt.desc(), t.id.desc()),
    index("workflows_tags_idx").using("gin", t.tags),
    index("workflows_scheduled_idx").on(t.id).where(sql`${t.schedule} is not null and ${t.status} = 'active'`),
    check("workflows_name_length", sql`char_length(${t.name}) between 1 and 200`),
    check("workflows_retention_days", sql`${t.retentionDays} between 1 and 3650`),
    check("workflows_tags_count", sql`cardinality(${t.tags}) <= 50`),
    check("workflows_metadata_object", sql`jsonb_typeof(${t.metadata}) = 'object'`),
    // The current version must be one of this workflow's own versions.
    foreignKey({
      name: "workflows_current_version_fk",
      columns: [t.currentVersionId, t.id],
      foreignColumns: [workflowVersions.id, workflowVersions.workflowId],
    }),
  ],
);

export const workflowVersions = pgTable(
  "workflow_versions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workflowId: uuid("workflow_id")
      .notNull()
      .references((): AnyPgColumn => workflows.id, { onDelete: "cascade" }),
    versionNumber: integer("version_number").notNull(),
    definition: jsonb("definition").$type<Record<string, unknown>>().notNull(),
    changeSummary: text("change_summary"),
    createdBy: uuid("created_by").references(() => users.id),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    unique("workflow_versions_number_key").on(t.workflowId, t.versionNumber),
    unique("workflow_versions_id_workflow_key").on(t.id, t.workflowId),
    check("workflow_versions_number_positive", sql`${t.versionNumber} >= 1`),
    check("workflow_versions_definition_size", sql`pg_column_size(${t.definition}) <= 262144`),
  ],
);
