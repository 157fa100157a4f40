CREATE TYPE "public"."bulk_action" AS ENUM('cancel', 'retry', 'rerun');--> statement-breakpoint
CREATE TYPE "public"."bulk_job_status" AS ENUM('running', 'completed', 'failed');--> statement-breakpoint
CREATE TABLE "bulk_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"action" "bulk_action" NOT NULL,
	"filter" jsonb NOT NULL,
	"from_step" text,
	"execution_ids" uuid[] NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"status" "bulk_job_status" DEFAULT 'running' NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"scopes" text[],
	"audit" jsonb NOT NULL,
	"completed_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bulk_jobs_counts" CHECK ("bulk_jobs"."position" >= 0 and "bulk_jobs"."done" + "bulk_jobs"."skipped" + "bulk_jobs"."failed" <= "bulk_jobs"."position")
);
--> statement-breakpoint
ALTER TABLE "bulk_jobs" ADD CONSTRAINT "bulk_jobs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bulk_jobs_user_created_idx" ON "bulk_jobs" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
-- Kept by the database like the other tables: updated_at, the change log and deferrable keys (docs/backups.md).
CREATE TRIGGER "bulk_jobs_set_updated_at" BEFORE UPDATE ON "bulk_jobs" FOR EACH ROW EXECUTE FUNCTION set_updated_at();--> statement-breakpoint
CREATE TRIGGER "bulk_jobs_record_change" AFTER INSERT OR UPDATE OR DELETE ON "bulk_jobs" FOR EACH ROW EXECUTE FUNCTION record_change('id');--> statement-breakpoint
CREATE TRIGGER "bulk_jobs_record_truncate" AFTER TRUNCATE ON "bulk_jobs" FOR EACH STATEMENT EXECUTE FUNCTION record_truncate();--> statement-breakpoint
ALTER TABLE "bulk_jobs" ALTER CONSTRAINT "bulk_jobs_user_id_users_id_fk" DEFERRABLE INITIALLY IMMEDIATE;
