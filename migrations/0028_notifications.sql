CREATE TABLE "notification_channels" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"url" text NOT NULL,
	"url_preview" text NOT NULL,
	"events" text[] NOT NULL,
	"workflow_id" uuid,
	"created_by" uuid NOT NULL,
	"signing_secret" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"disabled_at" timestamp (3) with time zone,
	"disabled_reason" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_channels_type" CHECK ("notification_channels"."type" in ('webhook', 'slack')),
	CONSTRAINT "notification_channels_events" CHECK ("notification_channels"."events" <@ array['execution.failed', 'execution.completed', 'approval.waiting', 'step.dead_lettered', 'backup.failed', 'backup.verification_failed', 'drill.failed']::text[]),
	CONSTRAINT "notification_channels_name_length" CHECK (char_length("notification_channels"."name") between 1 and 200)
);
--> statement-breakpoint
CREATE TABLE "notification_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"channel_id" uuid NOT NULL,
	"event" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_status" integer,
	"last_error" text,
	"delivered_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notification_deliveries_once" UNIQUE("channel_id","dedupe_key"),
	CONSTRAINT "notification_deliveries_status" CHECK ("notification_deliveries"."status" in ('pending', 'delivered', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "notification_channels" ADD CONSTRAINT "notification_channels_workflow_id_workflows_id_fk" FOREIGN KEY ("workflow_id") REFERENCES "public"."workflows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD CONSTRAINT "notification_channels_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_channel_id_notification_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."notification_channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "notification_channels_workflow_idx" ON "notification_channels" USING btree ("workflow_id");--> statement-breakpoint
CREATE INDEX "notification_deliveries_due_idx" ON "notification_deliveries" USING btree ("next_attempt_at") WHERE "notification_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "notification_deliveries_channel_idx" ON "notification_deliveries" USING btree ("channel_id","created_at" DESC NULLS LAST);--> statement-breakpoint
-- Kept by the database like the other tables: updated_at, the change log and deferrable keys (docs/backups.md).
CREATE TRIGGER "notification_channels_set_updated_at" BEFORE UPDATE ON "notification_channels" FOR EACH ROW EXECUTE FUNCTION set_updated_at();--> statement-breakpoint
CREATE TRIGGER "notification_channels_record_change" AFTER INSERT OR UPDATE OR DELETE ON "notification_channels" FOR EACH ROW EXECUTE FUNCTION record_change('id');--> statement-breakpoint
CREATE TRIGGER "notification_channels_record_truncate" AFTER TRUNCATE ON "notification_channels" FOR EACH STATEMENT EXECUTE FUNCTION record_truncate();--> statement-breakpoint
CREATE TRIGGER "notification_deliveries_record_change" AFTER INSERT OR UPDATE OR DELETE ON "notification_deliveries" FOR EACH ROW EXECUTE FUNCTION record_change('id');--> statement-breakpoint
CREATE TRIGGER "notification_deliveries_record_truncate" AFTER TRUNCATE ON "notification_deliveries" FOR EACH STATEMENT EXECUTE FUNCTION record_truncate();--> statement-breakpoint
ALTER TABLE "notification_channels" ALTER CONSTRAINT "notification_channels_workflow_id_workflows_id_fk" DEFERRABLE INITIALLY IMMEDIATE;--> statement-breakpoint
ALTER TABLE "notification_channels" ALTER CONSTRAINT "notification_channels_created_by_users_id_fk" DEFERRABLE INITIALLY IMMEDIATE;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ALTER CONSTRAINT "notification_deliveries_channel_id_notification_channels_id_fk" DEFERRABLE INITIALLY IMMEDIATE;
