/**
 * Disaster recovery state: the catalog of backups in R2, the change log that incremental
 * backups read (fed by triggers on every backed-up table), and the index of execution logs
 * archived to R2.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { tstz } from "./columns";
import { executions } from "./executions";

/** What a verification found, kept on the backup (docs/backups.md). */
export interface BackupVerification {
  ok: boolean;
  mode: "restore" | "objects";
  reason: string | null;
  durationMs: number;
  checkedAt: string;
  chain: string[];
  objects: number;
  tables: Array<{ name: string; rows: number; expectedRows: number; checksumMatches: boolean }>;
}

export const backupKind = pgEnum("backup_kind", ["full", "incremental"]);
export const backupStatus = pgEnum("backup_status", [
  "pending",
  "running",
  "completed",
  "verified",
  "failed",
  "verification_failed",
]);

/** Where a backup's copy in the replica bucket (STORAGE_REPLICA) stands; null when none is bound. */
export const backupReplicaStatus = pgEnum("backup_replica_status", ["pending", "copied", "failed"]);

/** Postgres' 64-bit transaction id, compared with snapshots (pg_visible_in_snapshot). */
const xid8 = customType<{ data: string }>({ dataType: () => "xid8" });

export const backups = pgTable(
  "backups",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kind: backupKind("kind").notNull(),
    status: backupStatus("status").notNull().default("pending"),
    /** The cron slot a scheduled run belongs to (null for runs started by hand). */
    slot: tstz("slot"),
    requestedBy: uuid("requested_by"),
    /** R2 key prefix: backups/<kind>/<yyyy-mm-dd>/<id>/ */
    prefix: text("prefix").notNull(),
    /** The full backup an incremental builds on, and the backup just before it. */
    baseId: uuid("base_id"),
    previousId: uuid("previous_id"),
    /** pg_current_snapshot() of the backup's transaction: the next incremental starts after it. */
    snapshot: text("snapshot"),
    snapshotAt: tstz("snapshot_at"),
    manifest: jsonb("manifest"),
    /** sha256 of the manifest's bytes as stored in R2: verification refuses any other manifest. */
    manifestSha256: text("manifest_sha256"),
    sizeBytes: bigint("size_bytes", { mode: "number" }),
    rows: bigint("rows", { mode: "number" }),
    startedAt: tstz("started_at"),
    completedAt: tstz("completed_at"),
    durationMs: integer("duration_ms"),
    verifiedAt: tstz("verified_at"),
    verification: jsonb("verification").$type<BackupVerification | null>(),
    verificationFailures: integer("verification_failures").notNull().default(0),
    /** How far a running backup has got (stage, tables done of total, rows written), for the dashboard and CLI. */
    progress: jsonb("progress"),
    reason: text("reason"),
    /**
     * The newest time a scheduled incremental found nothing changed since this backup's snapshot:
     * the backup is the database's state as of then (an empty interval writes no objects).
     */
    unchangedAt: tstz("unchanged_at"),
    replicaStatus: backupReplicaStatus("replica_status"),
    /** When the replica copy last finished or failed, and why it failed. */
    replicaAt: tstz("replica_at"),
    replicaReason: text("replica_reason"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("backups_slot_key").on(t.kind, t.slot).where(sql`${t.slot} is not null`),
    index("backups_kind_created_idx").on(t.kind, t.createdAt.desc()),
    index("backups_status_idx").on(t.status),
    // A finished incremental names the full it builds on (known once it has run).
    check(
      "backups_incremental_has_base",
      sql`${t.kind} = 'full' or ${t.baseId} is not null or ${t.status} in ('pending', 'running', 'failed')`,
    ),
  ],
);

export const changeLog = pgTable(
  "change_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    txid: xid8("txid").notNull().default(sql`pg_current_xact_id()`),
    tableName: text("table_name").notNull(),
    /** The changed row's primary key as { column: value }. */
    pk: jsonb("pk").notNull(),
    op: text("op").notNull(),
    /**
     * Whether the row existed before this change, and then its 64-bit hash (checksum.ts rowHash):
     * an incremental updates table checksums from them. Null in rows logged before they were kept.
     */
    hadOld: boolean("had_old"),
    oldHash: bigint("old_hash", { mode: "bigint" }),
    changedAt: tstz("changed_at").notNull().default(sql`clock_timestamp()`),
  },
  (t) => [index("change_log_txid_idx").on(t.txid), check("change_log_op", sql`${t.op} in ('I', 'U', 'D', 'T')`)],
);

export const logArchives = pgTable(
  "log_archives",
  {
    executionId: uuid("execution_id")
      .notNull()
      .references(() => executions.id, { onDelete: "cascade" }),
    day: text("day").notNull(),
    objectKey: text("object_key").notNull(),
    firstSeq: bigint("first_seq", { mode: "number" }).notNull(),
    lastSeq: bigint("last_seq", { mode: "number" }).notNull(),
    lines: integer("lines").notNull(),
    bytes: integer("bytes").notNull(),
    sha256: text("sha256").notNull(),
    archivedAt: tstz("archived_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "log_archives_pkey", columns: [t.executionId, t.day] }),
    index("log_archives_execution_seq_idx").on(t.executionId, t.firstSeq),
  ],
);

/** Maintenance jobs that must run once per cron slot (verification, retention, log archival). */
export const jobRuns = pgTable(
  "job_runs",
  {
    job: text("job").notNull(),
    slot: tstz("slot").notNull(),
    startedAt: tstz("started_at").notNull().defaultNow(),
    finishedAt: tstz("finished_at"),
    outcome: jsonb("outcome"),
  },
  (t) => [primaryKey({ name: "job_runs_pkey", columns: [t.job, t.slot] })],
);

export const drillStatus = pgEnum("drill_status", ["running", "passed", "failed"]);

/**
 * Recovery drills (docs/backups.md): the newest backup chain restored into the verification database,
 * with the RTO and RPO it showed and every table's result. Kept with the catalog (not backed up,
 * like `backups`); each report is also written to R2 next to the backups.
 */
export const drills = pgTable(
  "drills",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    status: drillStatus("status").notNull().default("running"),
    trigger: text("trigger").$type<"manual" | "schedule">().notNull(),
    requestedBy: uuid("requested_by"),
    /** The backup whose chain was restored (kept when retention removes the backup). */
    backupId: uuid("backup_id"),
    startedAt: tstz("started_at").notNull().defaultNow(),
    completedAt: tstz("completed_at"),
    /** Restore time: reading, checking and loading the chain, then comparing every table. */
    rtoMs: integer("rto_ms"),
    /** How old the newest restored change was when the drill began. */
    rpoSeconds: integer("rpo_seconds"),
    report: jsonb("report"),
    reason: text("reason"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [index("drills_created_idx").on(t.createdAt)],
);
