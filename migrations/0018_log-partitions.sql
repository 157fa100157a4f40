-- Monthly partitions for the two tables that grow with use, execution_logs and audit_logs, by
-- created_at (src/db/partitions.ts). Keys must include the partition column. Log archival
-- detaches and drops a whole month once R2 holds it; audit months stay. The tables are rebuilt as
-- partitioned ones and their rows copied over.

-- Creates the month partitions of `parent` from first_month to last_month that do not exist yet,
-- as standalone tables attached afterwards: ATTACH takes a lock that writers and readers of the
-- parent never wait on (CREATE ... PARTITION OF would take one they all queue behind). Answers
-- how many it created.
CREATE FUNCTION ensure_month_partitions(parent text, first_month date, last_month date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  month date := date_trunc('month', first_month)::date;
  created integer := 0;
  name text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('ipa.partitions.' || parent));
  WHILE month <= last_month LOOP
    name := parent || '_p' || to_char(month, 'YYYY_MM');
    IF to_regclass(name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name, parent);
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, name,
        to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00',
        to_char((month + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
      -- Statement-level triggers are not cloned to partitions: a month of the audit trail refuses
      -- TRUNCATE itself (its rows refuse UPDATE and DELETE through the cloned row triggers).
      IF parent = 'audit_logs' THEN
        EXECUTE format('CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()', name);
      END IF;
      created := created + 1;
    END IF;
    month := (month + interval '1 month')::date;
  END LOOP;
  RETURN created;
END
$$;
--> statement-breakpoint
-- Changes to a partition are logged under its parent's name: backups know tables, not months.
CREATE OR REPLACE FUNCTION change_table_name(relid oid, fallback text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT p.relname::text FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = relid), fallback)
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION record_change() RETURNS trigger LANGUAGE plpgsql
  SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
  SET extra_float_digits = 3 SET bytea_output = 'hex'
AS $$
DECLARE
  new_pk jsonb := '{}'::jsonb;
  old_pk jsonb := '{}'::jsonb;
  old_hash bigint;
  col text;
  tbl text := change_table_name(TG_RELID, TG_TABLE_NAME);
BEGIN
  FOREACH col IN ARRAY TG_ARGV LOOP
    IF TG_OP <> 'DELETE' THEN new_pk := new_pk || jsonb_build_object(col, to_jsonb(NEW) -> col); END IF;
    IF TG_OP <> 'INSERT' THEN old_pk := old_pk || jsonb_build_object(col, to_jsonb(OLD) -> col); END IF;
  END LOOP;
  IF TG_OP <> 'INSERT' THEN old_hash := ('x' || substr(md5(OLD::text), 1, 16))::bit(64)::bigint; END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND old_pk <> new_pk) THEN
    INSERT INTO change_log (table_name, pk, op, had_old, old_hash) VALUES (tbl, old_pk, 'D', true, old_hash);
  END IF;
  IF TG_OP = 'UPDATE' AND old_pk = new_pk THEN
    INSERT INTO change_log (table_name, pk, op, had_old, old_hash) VALUES (tbl, new_pk, 'U', true, old_hash);
  ELSIF TG_OP <> 'DELETE' THEN
    -- An insert, or the new key of an update that moved the row: nothing was there before.
    INSERT INTO change_log (table_name, pk, op, had_old) VALUES (tbl, new_pk, left(TG_OP, 1), false);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION record_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO change_log (table_name, pk, op) VALUES (change_table_name(TG_RELID, TG_TABLE_NAME), '{}'::jsonb, 'T');
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- 'P': a whole partition left (log archival dropped a month R2 holds); pk names it.
ALTER TABLE "change_log" DROP CONSTRAINT "change_log_op";--> statement-breakpoint
ALTER TABLE "change_log" ADD CONSTRAINT "change_log_op" CHECK ("change_log"."op" in ('I', 'U', 'D', 'T', 'P'));--> statement-breakpoint

-- execution_logs, partitioned.
ALTER TABLE "execution_logs" RENAME TO "execution_logs_unpartitioned";--> statement-breakpoint
ALTER INDEX "execution_logs_pkey" RENAME TO "execution_logs_unpartitioned_pkey";--> statement-breakpoint
ALTER INDEX "execution_logs_created_idx" RENAME TO "execution_logs_unpartitioned_created_idx";--> statement-breakpoint
CREATE TABLE "execution_logs" (
	"execution_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"level" "log_level" DEFAULT 'info' NOT NULL,
	"event" text NOT NULL,
	"step_id" text,
	"message" text,
	"data" jsonb,
	"created_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "execution_logs_pkey" PRIMARY KEY("execution_id","seq","created_at"),
	CONSTRAINT "execution_logs_seq_positive" CHECK ("execution_logs"."seq" >= 1)
) PARTITION BY RANGE ("created_at");--> statement-breakpoint
ALTER TABLE "execution_logs" ADD CONSTRAINT "execution_logs_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action DEFERRABLE INITIALLY IMMEDIATE;--> statement-breakpoint
CREATE INDEX "execution_logs_created_idx" ON "execution_logs" USING btree ("created_at");--> statement-breakpoint
SELECT ensure_month_partitions('execution_logs',
  (least(now(), (SELECT min(created_at) FROM execution_logs_unpartitioned)) AT TIME ZONE 'UTC')::date,
  ((now() + interval '2 months') AT TIME ZONE 'UTC')::date);--> statement-breakpoint
INSERT INTO "execution_logs" SELECT * FROM "execution_logs_unpartitioned";--> statement-breakpoint
DROP TABLE "execution_logs_unpartitioned";--> statement-breakpoint
CREATE TRIGGER "execution_logs_record_change" AFTER INSERT OR UPDATE OR DELETE ON "execution_logs" FOR EACH ROW EXECUTE FUNCTION record_change('execution_id', 'seq', 'created_at');--> statement-breakpoint
CREATE TRIGGER "execution_logs_record_truncate" AFTER TRUNCATE ON "execution_logs" FOR EACH STATEMENT EXECUTE FUNCTION record_truncate();--> statement-breakpoint

-- Retried audit writes (an execution outbox) land once: their keys, unique here.
CREATE TABLE "audit_dedupe_keys" (
	"dedupe_key" text PRIMARY KEY NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);--> statement-breakpoint
INSERT INTO "audit_dedupe_keys" (dedupe_key, created_at)
  SELECT dedupe_key, min(created_at) FROM audit_logs WHERE dedupe_key IS NOT NULL GROUP BY dedupe_key;--> statement-breakpoint
CREATE TRIGGER "audit_dedupe_keys_record_change" AFTER INSERT OR UPDATE OR DELETE ON "audit_dedupe_keys" FOR EACH ROW EXECUTE FUNCTION record_change('dedupe_key');--> statement-breakpoint
CREATE TRIGGER "audit_dedupe_keys_record_truncate" AFTER TRUNCATE ON "audit_dedupe_keys" FOR EACH STATEMENT EXECUTE FUNCTION record_truncate();--> statement-breakpoint

-- audit_logs, partitioned. The functions over its row type follow the renamed table, so they
-- are dropped and made again for the new one.
ALTER TABLE "audit_logs" RENAME TO "audit_logs_unpartitioned";--> statement-breakpoint
ALTER INDEX "audit_logs_pkey" RENAME TO "audit_logs_unpartitioned_pkey";--> statement-breakpoint
DROP INDEX "audit_logs_seq_key";--> statement-breakpoint
DROP INDEX "audit_logs_dedupe_key";--> statement-breakpoint
DROP INDEX "audit_logs_resource_idx";--> statement-breakpoint
DROP INDEX "audit_logs_actor_idx";--> statement-breakpoint
DROP INDEX "audit_logs_unlinked_idx";--> statement-breakpoint
DROP FUNCTION audit_link(integer);--> statement-breakpoint
DROP FUNCTION audit_row_hash(audit_logs_unpartitioned);--> statement-breakpoint
CREATE TABLE "audit_logs" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint,
	"actor_id" uuid,
	"actor_email" text,
	"action" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" text,
	"before" jsonb,
	"after" jsonb,
	"ip" "inet",
	"user_agent" text,
	"request_id" text,
	"dedupe_key" text,
	"created_at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	"prev_hash" text DEFAULT '' NOT NULL,
	"hash" text DEFAULT '' NOT NULL,
	CONSTRAINT "audit_logs_pkey" PRIMARY KEY("id","created_at")
) PARTITION BY RANGE ("created_at");--> statement-breakpoint
CREATE INDEX "audit_logs_seq_idx" ON "audit_logs" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "audit_logs_resource_idx" ON "audit_logs" USING btree ("resource_type","resource_id","seq" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_logs_actor_idx" ON "audit_logs" USING btree ("actor_id","seq" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_logs_unlinked_idx" ON "audit_logs" USING btree ("created_at","id") WHERE "audit_logs"."seq" is null;--> statement-breakpoint
SELECT ensure_month_partitions('audit_logs',
  (least(now(), (SELECT min(created_at) FROM audit_logs_unpartitioned)) AT TIME ZONE 'UTC')::date,
  ((now() + interval '2 months') AT TIME ZONE 'UTC')::date);--> statement-breakpoint
-- Copied before the triggers exist, so every row keeps its seq and hashes.
INSERT INTO "audit_logs" SELECT * FROM "audit_logs_unpartitioned";--> statement-breakpoint
DROP TABLE "audit_logs_unpartitioned";--> statement-breakpoint
-- The chain: each row's hash covers its content and the previous row's hash (as in 0001).
CREATE FUNCTION audit_row_hash(a audit_logs) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(jsonb_build_array(
    a.prev_hash, a.seq, a.id, a.actor_id, a.actor_email, a.action, a.resource_type, a.resource_id,
    a.before, a.after, host(a.ip), a.user_agent, a.request_id, a.dedupe_key,
    to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  )::text, 'UTF8')), 'hex')
$$;
--> statement-breakpoint
-- Writers append unlinked rows and take no lock. The time is the writer's clock, truncated to the
-- milliseconds the hash covers: truncating down never leaves the month the row was routed to.
CREATE OR REPLACE FUNCTION audit_logs_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.seq := NULL;
  NEW.prev_hash := '';
  NEW.hash := '';
  NEW.created_at := date_trunc('milliseconds', NEW.created_at);
  RETURN NEW;
END
$$;
--> statement-breakpoint
-- The sequencer (as in 0017): links up to `batch` unlinked rows after the chain's tail, oldest
-- first, one run at a time. The update names the row's month, so it touches one partition.
CREATE FUNCTION audit_link(batch integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  tail record;
  next_seq bigint;
  previous_hash text;
  r audit_logs;
  linked integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('ipa.audit_logs.sequencer'));
  PERFORM set_config('ipa.audit_sequencer', 'on', true);
  SELECT seq, hash INTO tail FROM audit_logs WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
  next_seq := coalesce(tail.seq, 0);
  previous_hash := coalesce(tail.hash, repeat('0', 64));
  FOR r IN SELECT * FROM audit_logs WHERE seq IS NULL ORDER BY created_at, id LIMIT batch LOOP
    next_seq := next_seq + 1;
    r.seq := next_seq;
    r.prev_hash := previous_hash;
    r.hash := audit_row_hash(r);
    UPDATE audit_logs SET seq = r.seq, prev_hash = r.prev_hash, hash = r.hash WHERE id = r.id AND created_at = r.created_at;
    previous_hash := r.hash;
    linked := linked + 1;
  END LOOP;
  PERFORM set_config('ipa.audit_sequencer', 'off', true);
  RETURN linked;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_chain BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION audit_logs_chain();--> statement-breakpoint
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();--> statement-breakpoint
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();--> statement-breakpoint
CREATE TRIGGER "audit_logs_record_change" AFTER INSERT OR UPDATE OR DELETE ON "audit_logs" FOR EACH ROW EXECUTE FUNCTION record_change('id', 'created_at');--> statement-breakpoint
CREATE TRIGGER "audit_logs_record_truncate" AFTER TRUNCATE ON "audit_logs" FOR EACH STATEMENT EXECUTE FUNCTION record_truncate();