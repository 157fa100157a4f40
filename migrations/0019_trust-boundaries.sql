ALTER TABLE "executions" ADD COLUMN "acting_user_id" uuid;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "scopes" text[];--> statement-breakpoint
ALTER TABLE "secrets" ADD COLUMN "allowed_hosts" text[];--> statement-breakpoint
ALTER TABLE "secrets" ADD COLUMN "shared_with_users" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "event_name" text;--> statement-breakpoint
ALTER TABLE "workflows" ADD COLUMN "mcp" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD CONSTRAINT "executions_acting_user_id_users_id_fk" FOREIGN KEY ("acting_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "executions" ALTER CONSTRAINT "executions_acting_user_id_users_id_fk" DEFERRABLE INITIALLY IMMEDIATE;
