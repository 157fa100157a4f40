-- Incremental backups read a change log fed by triggers on every backed-up table (docs/backups.md):
-- inserts, updates and deletes with their transaction id, so a transaction that commits late is
-- never missed. Every table but the backup catalog, job runs and the change log is backed up; a new
-- table must get these triggers too (test/backup/schema-rules.test.ts checks it).
CREATE FUNCTION record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  new_pk jsonb := '{}'::jsonb;
  old_pk jsonb := '{}'::jsonb;
  col text;
BEGIN
  FOREACH col IN ARRAY TG_ARGV LOOP
    IF TG_OP <> 'DELETE' THEN new_pk := new_pk || jsonb_build_object(col, to_jsonb(NEW) -> col); END IF;
    IF TG_OP <> 'INSERT' THEN old_pk := old_pk || jsonb_build_object(col, to_jsonb(OLD) -> col); END IF;
  END LOOP;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND old_pk <> new_pk) THEN
    INSERT INTO change_log (table_name, pk, op) VALUES (TG_TABLE_NAME, old_pk, 'D');
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO change_log (table_name, pk, op) VALUES (TG_TABLE_NAME, new_pk, left(TG_OP, 1));
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION record_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO change_log (table_name, pk, op) VALUES (TG_TABLE_NAME, '{}'::jsonb, 'T');
  RETURN NULL;
END
$$;
--> statement-breakpoint
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT c.relname, (
      SELECT string_agg(quote_literal(a.attname), ', ' ORDER BY array_position(i.indkey::int2[], a.attnum))
      FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = ANY (i.indkey::int2[])
    ) AS pk
    FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname NOT IN ('backups', 'change_log', 'job_runs')
  LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION record_change(%s)',
      t.relname || '_record_change', t.relname, t.pk);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION record_truncate()',
      t.relname || '_record_truncate', t.relname);
  END LOOP;
END
$$;
--> statement-breakpoint
-- Foreign keys are deferrable, so an incremental backup can apply its rows in any order inside
-- one transaction (the workflows/workflow_versions pair references each other).
DO $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
    WHERE contype = 'f' AND connamespace = 'public'::regnamespace AND NOT condeferrable
  LOOP
    EXECUTE format('ALTER TABLE %s ALTER CONSTRAINT %I DEFERRABLE INITIALLY IMMEDIATE', c.tbl, c.conname);
  END LOOP;
END
$$;
