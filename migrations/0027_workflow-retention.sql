ALTER TABLE "workflows" ADD COLUMN "retention_days" integer;--> statement-breakpoint
CREATE INDEX "executions_workflow_completed_idx" ON "executions" USING btree ("workflow_id","completed_at") WHERE "executions"."completed_at" is not null;--> statement-breakpoint
ALTER TABLE "workflows" ADD CONSTRAINT "workflows_retention_days" CHECK ("workflows"."retention_days" between 1 and 3650);