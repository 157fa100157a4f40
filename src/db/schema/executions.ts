/**
 * Executions as Postgres sees them: rows written by each execution's Durable Object through its
 * outbox. The Durable Object is authoritative; these rows are the queryable record.
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  uuid,
} from "drizzle-orm/pg-core";
import {
  EXECUTION_STATUSES,
  LOG_LEVELS,
  QUEUE_REASONS,
  type QueueReason,
  STEP_STATUSES,
  STEP_TYPES,
  type StepError,
  TRIGGER_TYPES,
} from "../../engine/vocabulary";
import type { TraceContext } from "../../observability/tracing/trace-context";
import { timestamps, tstz } from "./columns";
import { users } from "./users";
import { workflows, workflowVersions } from "./workflows";

export const executionStatus = pgEnum("execution_status", EXECUTION_STATUSES);
export const stepStatus = pgEnum("step_status", STEP_STATUSES);
export const triggerType = pgEnum("trigger_type", TRIGGER_TYPES);
export const logLevel = pgEnum("log_level", LOG_LEVELS);

export const executions = pgTable(
  "executions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workflowId: uuid("workflow_id")
      .notNull()
      .references(() => workflows.id),
    workflowVersionId: uuid("workflow_version_id")
      .notNull()
      .references(() => workflowVersions.id),
    status: executionStatus("status").notNull().default("pending"),
    triggerType: triggerType("trigger_type").notNull(),
    /** The user who started it; null for webhook and schedule runs (they belong to the owner). */
    triggeredBy: uuid("triggered_by").references(() => users.id),
    /** Who the current run acts for when a rerun or retry made it someone else's (null: its starter, else the owner). */
    actingUserId: uuid("acting_user_id").references(() => users.id),
    /** Set when a `workflow` agent tool started this execution. */
    parentExecutionId: uuid("parent_execution_id").references((): AnyPgColumn => executions.id),
    parentStepId: text("parent_step_id"),
    input: jsonb("input").notNull().default({}),
    output: jsonb("output"),
    error: jsonb("error").$type<StepError | null>(),
    /** What its compensations did (docs/workflows.md "Compensation"); null when none ran. */
    compensation: jsonb("compensation").$type<{
      completed: string[];
      failed: Array<{ stepId: string; error: StepError }>;
      notRun: string[];
    } | null>(),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    /** docs/workflows.md Cost: null once a model without a price (MODEL_PRICES) was called. */
    costUsd: doublePrecision("cost_usd").default(0),
    /** The cost budget as an owner raised it (a budget wait); null: the definition's `costBudgetUsd`. */
    costBudgetUsd: doublePrecision("cost_budget_usd"),
    /** The trace the execution joined (`traceparent` on its start request); null: its own (docs/operations.md). */
    trace: jsonb("trace").$type<TraceContext>(),
    /** 1, then +1 for each retry or rerun (docs/engine.md). */
    run: integer("run").notNull().default(1),
    /** Highest event sequence applied from the Durable Object; older writes never overwrite newer. */
    lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
    /** The newest row Postgres refused for good (docs/engine.md sync rejection); the rows after it still arrive. */
    syncError: jsonb("sync_error"),
    /**
     * When the watchdog should next look at this execution if its object has not written since:
     * the object's own next timer plus a grace period, renewed by every flush and watchdog visit.
     */
    nextCheckAt: tstz("next_check_at").notNull().default(sql`now() + interval '30 seconds'`),
    /** The value of the workflow's concurrency key for this execution (docs/workflows.md); null without a limit. */
    concurrencyKey: text("concurrency_key"),
    /** Among a key's queued executions, higher begins first (docs/api.md `priority`, -100 to 100). */
    priority: smallint("priority").notNull().default(0),
    /** A queued execution still queued then is cancelled as `expired` (the definition's `queueTtlSeconds`). */
    queueExpiresAt: tstz("queue_expires_at"),
    /** The value of the workflow's singleton key (docs/workflows.md `singleton`); null without one. */
    singletonKey: text("singleton_key"),
    /** While `queued`: the gate it waits at (docs/workflows.md "Flow control on starts"). */
    queueReason: text("queue_reason").$type<QueueReason>(),
    /** The values of the workflow's throttle and debounce keys; null without them. */
    throttleKey: text("throttle_key"),
    debounceKey: text("debounce_key"),
    /** When it passed its throttle: what counts against the key's window. */
    throttlePassedAt: tstz("throttle_passed_at"),
    /** A debounced start begins then, unless another start of its key moves it later. */
    admitAt: tstz("admit_at"),
    /** Labels the starter gave it (docs/api.md "Tags and metadata"): filters of the executions list. */
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    /** Its tags and metadata values, for `q`: one GIN-indexed array instead of a scan of every value. */
    searchTerms: text("search_terms").array().notNull().default(sql`'{}'::text[]`),
    startedAt: tstz("started_at"),
    completedAt: tstz("completed_at"),
    /** Kept by a trigger from started_at and completed_at. */
    durationMs: integer("duration_ms"),
    ...timestamps,
  },
  (t) => [
    index("executions_workflow_created_idx").on(t.workflowId, t.createdAt.desc(), t.id.desc()),
    index("executions_triggered_by_created_idx").on(t.triggeredBy, t.createdAt.desc(), t.id.desc()),
    index("executions_created_idx").on(t.createdAt.desc(), t.id.desc()),
    index("executions_active_idx")
      .on(t.status, t.updatedAt)
      .where(sql`${t.status} in ('pending', 'running', 'paused')`),
    // Not in a terminal status (named by the statuses that existed before 'queued', so the
    // migration that adds that value can build the index in the same transaction).
    index("executions_next_check_idx")
      .on(t.nextCheckAt)
      .where(sql`${t.status} not in ('completed', 'failed', 'cancelled')`),
    // A key's queue in arrival order, and its active executions (concurrency limits, docs/workflows.md).
    index("executions_concurrency_queue_idx")
      .on(t.workflowId, t.concurrencyKey, t.priority.desc(), t.createdAt, t.id)
      .where(sql`${t.status} = 'queued' and ${t.queueReason} = 'concurrency'`),
    index("executions_throttle_queue_idx")
      .on(t.workflowId, t.throttleKey, t.priority.desc(), t.createdAt, t.id)
      .where(sql`${t.status} = 'queued' and ${t.queueReason} = 'throttle'`),
    // A throttle key's window: the starts that passed it lately.
    index("executions_throttle_window_idx")
      .on(t.workflowId, t.throttleKey, t.throttlePassedAt)
      .where(sql`${t.throttlePassedAt} is not null`),
    index("executions_debounce_idx")
      .on(t.workflowId, t.debounceKey)
      .where(sql`${t.status} = 'queued' and ${t.queueReason} = 'debounce'`),
    // What the cron's sweep finds due: debounced starts past their time.
    index("executions_debounce_due_idx")
      .on(t.admitAt)
      .where(sql`${t.status} = 'queued' and ${t.queueReason} = 'debounce'`),
    index("executions_queue_expiry_idx")
      .on(t.queueExpiresAt)
      .where(sql`${t.status} = 'queued' and ${t.queueExpiresAt} is not null`),
    // The one execution of a singleton key that has not ended (docs/workflows.md `singleton`).
    index("executions_singleton_idx")
      .on(t.workflowId, t.singletonKey)
      .where(sql`${t.singletonKey} is not null and ${t.status} in ('pending', 'queued', 'running', 'paused')`),
    index("executions_concurrency_active_idx")
      .on(t.workflowId, t.concurrencyKey)
      .where(sql`${t.concurrencyKey} is not null and ${t.status} in ('pending', 'running', 'paused')`),
    index("executions_tags_idx").using("gin", t.tags),
    index("executions_metadata_idx").using("gin", sql`${t.metadata} jsonb_path_ops`),
    index("executions_search_terms_idx").using("gin", t.searchTerms),
    // The retention job's scan: a workflow's ended executions, oldest end first.
    index("executions_workflow_completed_idx").on(t.workflowId, t.completedAt).where(sql`${t.completedAt} is not null`),
    index("executions_parent_idx").on(t.parentExecutionId).where(sql`${t.parentExecutionId} is not null`),
    check(
      "executions_queue_reason",
      sql`${t.queueReason} in (${sql.raw(QUEUE_REASONS.map((reason) => `'${reason}'`).join(", "))})`,
    ),
    check("executions_priority_range", sql`${t.priority} between -100 and 100`),
    check("executions_tokens_non_negative", sql`${t.promptTokens} >= 0 and ${t.completionTokens} >= 0`),
    check(
      "executions_completed_after_start",
      sql`${t.completedAt} is null or ${t.startedAt} is null or ${t.completedAt} >= ${t.startedAt}`,
    ),
  ],
);

export const executionSteps = pgTable(
  "execution_steps",
  {
    executionId: uuid("execution_id")
      .notNull()
      .references(() => executions.id, { onDelete: "cascade" }),
    stepId: text("step_id").notNull(),
    stepType: text("step_type").notNull(),
    /** A sub-step's container: the map or loop it runs for, or the step a compensation undoes (docs/workflows.md). */
    containerStepId: text("container_step_id"),
    /** A map item's index (from 0) or a loop's iteration (from 1); null for a compensation. */
    itemIndex: integer("item_index"),
    /** A map's or a loop's counts: `{ total, started, running, completed, failed }`. */
    progress: jsonb("progress"),
    status: stepStatus("status").notNull().default("pending"),
    attempt: integer("attempt").notNull().default(0),
    idempotencyKey: text("idempotency_key"),
    input: jsonb("input"),
    output: jsonb("output"),
    error: jsonb("error").$type<StepError | null>(),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    /** docs/workflows.md Cost: null once a model without a price (MODEL_PRICES) was called. */
    costUsd: doublePrecision("cost_usd").default(0),
    /** Attempts retried by the step's policy, over every run of the execution (metrics). */
    retries: integer("retries").notNull().default(0),
    /** Step messages that ended in the dead-letter queue (metrics). */
    deadLetters: integer("dead_letters").notNull().default(0),
    /** The execution run that last started this step. */
    run: integer("run").notNull().default(1),
    /** Why a waiting step waits: `{ reason, … }` (docs/engine.md), null otherwise. */
    waiting: jsonb("waiting"),
    startedAt: tstz("started_at"),
    completedAt: tstz("completed_at"),
    durationMs: integer("duration_ms"),
    ...timestamps,
  },
  (t) => [
    primaryKey({ name: "execution_steps_pkey", columns: [t.executionId, t.stepId] }),
    // A container's sub-steps, paged in order (GET …/steps/:stepId/items).
    index("execution_steps_container_idx")
      .on(t.executionId, t.containerStepId, t.itemIndex)
      .where(sql`${t.containerStepId} is not null`),
    check("execution_steps_attempt_non_negative", sql`${t.attempt} >= 0`),
    // Follows engine/vocabulary.ts's STEP_TYPES: a new step type changes this CHECK in the next migration.
    check("execution_steps_step_type", sql.raw(`step_type in (${STEP_TYPES.map((type) => `'${type}'`).join(", ")})`)),
  ],
);

export const executionLogs = pgTable(
  "execution_logs",
  {
    executionId: uuid("execution_id")
      .notNull()
      .references(() => executions.id, { onDelete: "cascade" }),
    /** The event's sequence number in its execution's event log (1, 2, 3, …). */
    seq: bigint("seq", { mode: "number" }).notNull(),
    level: logLevel("level").notNull().default("info"),
    event: text("event").notNull(),
    stepId: text("step_id"),
    message: text("message"),
    data: jsonb("data"),
    createdAt: tstz("created_at").notNull(),
  },
  (t) => [
    // Partitioned by month of created_at (the event's time, the same on every retried flush), which
    // every key must include (migrations/0018, src/db/partitions.ts).
    primaryKey({ name: "execution_logs_pkey", columns: [t.executionId, t.seq, t.createdAt] }),
    index("execution_logs_created_idx").on(t.createdAt),
    check("execution_logs_seq_positive", sql`${t.seq} >= 1`),
  ],
);

/**
 * Idempotent starts: the same key from the same user names the same execution for 24 hours;
 * the request hash tells a replay from a different request reusing the key.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    executionId: uuid("execution_id")
      .notNull()
      .references(() => executions.id, { onDelete: "cascade" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    expiresAt: tstz("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "idempotency_keys_pkey", columns: [t.userId, t.key] }),
    index("idempotency_keys_expires_idx").on(t.expiresAt),
    check("idempotency_keys_key_length", sql`char_length(${t.key}) between 1 and 255`),
  ],
);

/** Rows Postgres refused for good (docs/engine.md): recorded, counted, and never in the way of later rows. */
export const syncRejections = pgTable(
  "sync_rejections",
  {
    executionId: uuid("execution_id")
      .notNull()
      .references(() => executions.id, { onDelete: "cascade" }),
    /** The event whose rows were refused. */
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** Which copy: the log line, a step row, the execution row or an audit row. */
    target: text("target").notNull(),
    stepId: text("step_id"),
    pgCode: text("pg_code"),
    message: text("message").notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "sync_rejections_pkey", columns: [t.executionId, t.seq, t.target] }),
    index("sync_rejections_created_idx").on(t.createdAt),
  ],
);

/**
 * Counters of the engine's own repairs, by name and kind (`timer_failed`/`retry`,
 * `invariant_repaired`/`lease_timer`, …), for the metrics: an object's timer that failed and was
 * re-armed, a missing timer or a stranded start the watchdog put back. Operational, not backed up.
 */
export const engineCounters = pgTable(
  "engine_counters",
  {
    name: text("name").notNull(),
    kind: text("kind").notNull(),
    count: bigint("count", { mode: "number" }).notNull().default(0),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: "engine_counters_pkey", columns: [t.name, t.kind] })],
);
