ALTER TABLE "execution_steps" ADD COLUMN "cost_usd" double precision DEFAULT 0;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "cost_usd" double precision DEFAULT 0;