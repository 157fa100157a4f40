CREATE TYPE "public"."drill_status" AS ENUM('running', 'passed', 'failed');--> statement-breakpoint
CREATE TABLE "drills" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"status" "drill_status" DEFAULT 'running' NOT NULL,
	"trigger" text NOT NULL,
	"requested_by" uuid,
	"backup_id" uuid,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp (3) with time zone,
	"rto_ms" integer,
	"rpo_seconds" integer,
	"report" jsonb,
	"reason" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "drills_created_idx" ON "drills" USING btree ("created_at");