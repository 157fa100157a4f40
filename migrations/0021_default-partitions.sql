-- A DEFAULT partition for each monthly-partitioned table: a row whose month has no partition (the
-- cron fell behind, or an outbox flushes an event of a month archival already dropped) lands there
-- instead of being refused, an alert fires (ipa_partition_default_rows), and the next creation of
-- its month moves it into place.
CREATE TABLE "execution_logs_default" PARTITION OF "execution_logs" DEFAULT;--> statement-breakpoint
CREATE TABLE "audit_logs_default" PARTITION OF "audit_logs" DEFAULT;--> statement-breakpoint
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs_default FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();--> statement-breakpoint
-- Creates the month partitions of `parent` from first_month to last_month that do not exist yet,
-- as standalone tables attached afterwards. Rows of such a month that the DEFAULT partition took
-- meanwhile are moved into the new table before it is attached (with the default partition's row
-- triggers off for the move: the rows are the same rows, their keys unchanged, so the audit chain
-- and the backups' change log have nothing to record). Answers how many months it created.
CREATE OR REPLACE FUNCTION ensure_month_partitions(parent text, first_month date, last_month date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  month date := date_trunc('month', first_month)::date;
  created integer := 0;
  name text;
  fallback text := parent || '_default';
  lower_bound text;
  upper_bound text;
  strays boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('ipa.partitions.' || parent));
  WHILE month <= last_month LOOP
    name := parent || '_p' || to_char(month, 'YYYY_MM');
    lower_bound := to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00';
    upper_bound := to_char((month + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00';
    IF to_regclass(name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name, parent);
      IF to_regclass(fallback) IS NOT NULL THEN
        EXECUTE format('SELECT exists (SELECT 1 FROM %I WHERE created_at >= %L AND created_at < %L)', fallback,
          lower_bound, upper_bound) INTO strays;
        IF strays THEN
          EXECUTE format('INSERT INTO %I SELECT * FROM %I WHERE created_at >= %L AND created_at < %L', name, fallback,
            lower_bound, upper_bound);
          EXECUTE format('ALTER TABLE %I DISABLE TRIGGER USER', fallback);
          EXECUTE format('DELETE FROM %I WHERE created_at >= %L AND created_at < %L', fallback, lower_bound, upper_bound);
          EXECUTE format('ALTER TABLE %I ENABLE TRIGGER USER', fallback);
        END IF;
      END IF;
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, name,
        lower_bound, upper_bound);
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
