ALTER TYPE "public"."execution_status" ADD VALUE 'queued' BEFORE 'running';--> statement-breakpoint
ALTER TYPE "public"."trigger_type" ADD VALUE 'mcp' BEFORE 'retry';--> statement-breakpoint
CREATE TABLE "sync_rejections" (
	"execution_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"target" text NOT NULL,
	"step_id" text,
	"pg_code" text,
	"message" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_rejections_pkey" PRIMARY KEY("execution_id","seq","target")
);
--> statement-breakpoint
ALTER TABLE "execution_steps" DROP CONSTRAINT "execution_steps_step_type";--> statement-breakpoint
ALTER TABLE "execution_steps" ADD COLUMN "run" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "execution_steps" ADD COLUMN "waiting" jsonb;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "run" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "sync_error" jsonb;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "next_check_at" timestamp (3) with time zone DEFAULT now() + interval '30 seconds' NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_rejections" ADD CONSTRAINT "sync_rejections_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sync_rejections_created_idx" ON "sync_rejections" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "executions_next_check_idx" ON "executions" USING btree ("next_check_at") WHERE "executions"."status" not in ('completed', 'failed', 'cancelled');--> statement-breakpoint
ALTER TABLE "execution_steps" ADD CONSTRAINT "execution_steps_step_type" CHECK (step_type in ('agent', 'http', 'approval', 'condition', 'transform', 'delay', 'event'));--> statement-breakpoint
-- Backups: the new table feeds the change log and its foreign key defers like the others (docs/backups.md).
CREATE TRIGGER "sync_rejections_record_change" AFTER INSERT OR UPDATE OR DELETE ON "sync_rejections" FOR EACH ROW EXECUTE FUNCTION record_change('execution_id', 'seq', 'target');--> statement-breakpoint
CREATE TRIGGER "sync_rejections_record_truncate" AFTER TRUNCATE ON "sync_rejections" FOR EACH STATEMENT EXECUTE FUNCTION record_truncate();--> statement-breakpoint
ALTER TABLE "sync_rejections" ALTER CONSTRAINT "sync_rejections_execution_id_executions_id_fk" DEFERRABLE INITIALLY IMMEDIATE;
