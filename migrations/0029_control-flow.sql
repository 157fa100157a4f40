ALTER TYPE "public"."execution_status" ADD VALUE 'compensating' BEFORE 'completed';--> statement-breakpoint
ALTER TYPE "public"."trigger_type" ADD VALUE 'workflow';--> statement-breakpoint
ALTER TABLE "execution_steps" DROP CONSTRAINT "execution_steps_step_type";--> statement-breakpoint
ALTER TABLE "execution_steps" ADD COLUMN "container_step_id" text;--> statement-breakpoint
ALTER TABLE "execution_steps" ADD COLUMN "item_index" integer;--> statement-breakpoint
ALTER TABLE "execution_steps" ADD COLUMN "progress" jsonb;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "compensation" jsonb;--> statement-breakpoint
CREATE INDEX "execution_steps_container_idx" ON "execution_steps" USING btree ("execution_id","container_step_id","item_index") WHERE "execution_steps"."container_step_id" is not null;--> statement-breakpoint
ALTER TABLE "execution_steps" ADD CONSTRAINT "execution_steps_step_type" CHECK (step_type in ('agent', 'http', 'approval', 'condition', 'transform', 'delay', 'event', 'workflow', 'map', 'loop'));