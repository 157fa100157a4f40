ALTER TABLE "secrets" ADD COLUMN "allowed_hosts" text[];--> statement-breakpoint
ALTER TABLE "secrets" ADD COLUMN "shared_with_users" boolean DEFAULT false NOT NULL;