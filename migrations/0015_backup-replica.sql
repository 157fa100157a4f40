CREATE TYPE "public"."backup_replica_status" AS ENUM('pending', 'copied', 'failed');--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "unchanged_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "replica_status" "backup_replica_status";--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "replica_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "replica_reason" text;