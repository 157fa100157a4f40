DROP INDEX "executions_concurrency_queue_idx";--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "queue_reason" text;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "throttle_key" text;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "debounce_key" text;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "throttle_passed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "admit_at" timestamp (3) with time zone;--> statement-breakpoint
-- Every execution queued so far waits for a concurrency slot, the one gate there was.
UPDATE "executions" SET "queue_reason" = 'concurrency' WHERE "status" = 'queued';--> statement-breakpoint
CREATE INDEX "executions_throttle_queue_idx" ON "executions" USING btree ("workflow_id","throttle_key","priority" DESC NULLS LAST,"created_at","id") WHERE "executions"."status" = 'queued' and "executions"."queue_reason" = 'throttle';--> statement-breakpoint
CREATE INDEX "executions_throttle_window_idx" ON "executions" USING btree ("workflow_id","throttle_key","throttle_passed_at") WHERE "executions"."throttle_passed_at" is not null;--> statement-breakpoint
CREATE INDEX "executions_debounce_idx" ON "executions" USING btree ("workflow_id","debounce_key") WHERE "executions"."status" = 'queued' and "executions"."queue_reason" = 'debounce';--> statement-breakpoint
CREATE INDEX "executions_debounce_due_idx" ON "executions" USING btree ("admit_at") WHERE "executions"."status" = 'queued' and "executions"."queue_reason" = 'debounce';--> statement-breakpoint
CREATE INDEX "executions_concurrency_queue_idx" ON "executions" USING btree ("workflow_id","concurrency_key","priority" DESC NULLS LAST,"created_at","id") WHERE "executions"."status" = 'queued' and "executions"."queue_reason" = 'concurrency';--> statement-breakpoint
ALTER TABLE "executions" ADD CONSTRAINT "executions_queue_reason" CHECK ("executions"."queue_reason" in ('debounce', 'throttle', 'concurrency'));