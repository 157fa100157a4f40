CREATE TYPE "public"."backup_kind" AS ENUM('full', 'incremental');--> statement-breakpoint
CREATE TYPE "public"."backup_status" AS ENUM('pending', 'running', 'completed', 'verified', 'failed', 'verification_failed');--> statement-breakpoint
CREATE TABLE "backups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" "backup_kind" NOT NULL,
	"status" "backup_status" DEFAULT 'pending' NOT NULL,
	"slot" timestamp (3) with time zone,
	"requested_by" uuid,
	"prefix" text NOT NULL,
	"base_id" uuid,
	"previous_id" uuid,
	"snapshot" text,
	"snapshot_at" timestamp (3) with time zone,
	"manifest" jsonb,
	"size_bytes" bigint,
	"rows" bigint,
	"started_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	"duration_ms" integer,
	"verified_at" timestamp (3) with time zone,
	"verification" jsonb,
	"verification_failures" integer DEFAULT 0 NOT NULL,
	"reason" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "backups_incremental_has_base" CHECK ("backups"."kind" = 'full' or "backups"."base_id" is not null or "backups"."status" in ('pending', 'running', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "change_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"txid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"table_name" text NOT NULL,
	"pk" jsonb NOT NULL,
	"op" text NOT NULL,
	"changed_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "change_log_op" CHECK ("change_log"."op" in ('I', 'U', 'D', 'T'))
);
--> statement-breakpoint
CREATE TABLE "job_runs" (
	"job" text NOT NULL,
	"slot" timestamp (3) with time zone NOT NULL,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"outcome" jsonb,
	CONSTRAINT "job_runs_pkey" PRIMARY KEY("job","slot")
);
--> statement-breakpoint
CREATE TABLE "log_archives" (
	"execution_id" uuid NOT NULL,
	"day" text NOT NULL,
	"object_key" text NOT NULL,
	"first_seq" bigint NOT NULL,
	"last_seq" bigint NOT NULL,
	"lines" integer NOT NULL,
	"bytes" integer NOT NULL,
	"sha256" text NOT NULL,
	"archived_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "log_archives_pkey" PRIMARY KEY("execution_id","day")
);
--> statement-breakpoint
ALTER TABLE "log_archives" ADD CONSTRAINT "log_archives_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "backups_slot_key" ON "backups" USING btree ("kind","slot") WHERE "backups"."slot" is not null;--> statement-breakpoint
CREATE INDEX "backups_kind_created_idx" ON "backups" USING btree ("kind","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "backups_status_idx" ON "backups" USING btree ("status");--> statement-breakpoint
CREATE INDEX "change_log_txid_idx" ON "change_log" USING btree ("txid");--> statement-breakpoint
CREATE INDEX "log_archives_execution_seq_idx" ON "log_archives" USING btree ("execution_id","first_seq");