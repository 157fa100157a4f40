ALTER TABLE "executions" ADD COLUMN "tags" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "metadata" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "search_terms" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
CREATE INDEX "executions_tags_idx" ON "executions" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "executions_metadata_idx" ON "executions" USING gin ("metadata" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "executions_search_terms_idx" ON "executions" USING gin ("search_terms");