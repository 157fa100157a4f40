CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"last_used_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "api_tokens_name_length" CHECK (char_length("api_tokens"."name") between 1 and 100)
);
--> statement-breakpoint
CREATE TABLE "secrets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workflow_id" uuid,
	"name" text NOT NULL,
	"value" text NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "secrets_name_shape" CHECK ("secrets"."name" ~ '^[A-Z][A-Z0-9_]{0,63}$')
);
--> statement-breakpoint
ALTER TABLE "login_failures" ADD COLUMN "in_flight" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "manifest_sha256" text;--> statement-breakpoint
ALTER TABLE "stream_tickets" ADD COLUMN "session_id" uuid;--> statement-breakpoint
ALTER TABLE "stream_tickets" ADD COLUMN "credential" text;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "secrets" ADD CONSTRAINT "secrets_workflow_id_workflows_id_fk" FOREIGN KEY ("workflow_id") REFERENCES "public"."workflows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "secrets" ADD CONSTRAINT "secrets_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash_key" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "api_tokens_user_idx" ON "api_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "secrets_platform_name_key" ON "secrets" USING btree ("name") WHERE "secrets"."workflow_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "secrets_workflow_name_key" ON "secrets" USING btree ("workflow_id","name") WHERE "secrets"."workflow_id" is not null;--> statement-breakpoint
CREATE INDEX "secrets_workflow_idx" ON "secrets" USING btree ("workflow_id");--> statement-breakpoint
ALTER TABLE "login_failures" ADD CONSTRAINT "login_failures_in_flight" CHECK ("login_failures"."in_flight" >= 0);--> statement-breakpoint
-- Backups: the new tables feed the change log and their foreign keys defer like the others (docs/backups.md).
CREATE TRIGGER "secrets_record_change" AFTER INSERT OR UPDATE OR DELETE ON "secrets" FOR EACH ROW EXECUTE FUNCTION record_change('id');--> statement-breakpoint
CREATE TRIGGER "secrets_record_truncate" AFTER TRUNCATE ON "secrets" FOR EACH STATEMENT EXECUTE FUNCTION record_truncate();--> statement-breakpoint
CREATE TRIGGER "api_tokens_record_change" AFTER INSERT OR UPDATE OR DELETE ON "api_tokens" FOR EACH ROW EXECUTE FUNCTION record_change('id');--> statement-breakpoint
CREATE TRIGGER "api_tokens_record_truncate" AFTER TRUNCATE ON "api_tokens" FOR EACH STATEMENT EXECUTE FUNCTION record_truncate();--> statement-breakpoint
CREATE TRIGGER "secrets_set_updated_at" BEFORE UPDATE ON "secrets" FOR EACH ROW EXECUTE FUNCTION set_updated_at();--> statement-breakpoint
ALTER TABLE "api_tokens" ALTER CONSTRAINT "api_tokens_user_id_users_id_fk" DEFERRABLE INITIALLY IMMEDIATE;--> statement-breakpoint
ALTER TABLE "secrets" ALTER CONSTRAINT "secrets_workflow_id_workflows_id_fk" DEFERRABLE INITIALLY IMMEDIATE;--> statement-breakpoint
ALTER TABLE "secrets" ALTER CONSTRAINT "secrets_created_by_users_id_fk" DEFERRABLE INITIALLY IMMEDIATE;
