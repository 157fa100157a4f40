DROP INDEX "executions_concurrency_queue_idx";--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "priority" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "queue_expires_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "singleton_key" text;--> statement-breakpoint
CREATE INDEX "executions_queue_expiry_idx" ON "executions" USING btree ("queue_expires_at") WHERE "executions"."status" = 'queued' and "executions"."queue_expires_at" is not null;--> statement-breakpoint
CREATE INDEX "executions_singleton_idx" ON "executions" USING btree ("workflow_id","singleton_key") WHERE "executions"."singleton_key" is not null and "executions"."status" in ('pending', 'queued', 'running', 'paused');--> statement-breakpoint
CREATE INDEX "executions_concurrency_queue_idx" ON "executions" USING btree ("workflow_id","concurrency_key","priority" DESC NULLS LAST,"created_at","id") WHERE "executions"."status" = 'queued';--> statement-breakpoint
ALTER TABLE "executions" ADD CONSTRAINT "executions_priority_range" CHECK ("executions"."priority" between -100 and 100);