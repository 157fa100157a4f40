ALTER TABLE "change_log" ADD COLUMN "had_old" boolean;--> statement-breakpoint
ALTER TABLE "change_log" ADD COLUMN "old_hash" bigint;--> statement-breakpoint
-- The change log keeps, per change, whether the row existed before it and that row's 64-bit hash
-- (as src/backup/checksum.ts rowHash computes it), so an incremental backup updates each table's
-- order-independent checksum from its own changes instead of reading the table. The row text is
-- made under the backups' text settings, whatever the writing session's are.
CREATE OR REPLACE FUNCTION record_change() RETURNS trigger LANGUAGE plpgsql
  SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
  SET extra_float_digits = 3 SET bytea_output = 'hex'
AS $$
DECLARE
  new_pk jsonb := '{}'::jsonb;
  old_pk jsonb := '{}'::jsonb;
  old_hash bigint;
  col text;
BEGIN
  FOREACH col IN ARRAY TG_ARGV LOOP
    IF TG_OP <> 'DELETE' THEN new_pk := new_pk || jsonb_build_object(col, to_jsonb(NEW) -> col); END IF;
    IF TG_OP <> 'INSERT' THEN old_pk := old_pk || jsonb_build_object(col, to_jsonb(OLD) -> col); END IF;
  END LOOP;
  IF TG_OP <> 'INSERT' THEN old_hash := ('x' || substr(md5(OLD::text), 1, 16))::bit(64)::bigint; END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND old_pk <> new_pk) THEN
    INSERT INTO change_log (table_name, pk, op, had_old, old_hash) VALUES (TG_TABLE_NAME, old_pk, 'D', true, old_hash);
  END IF;
  IF TG_OP = 'UPDATE' AND old_pk = new_pk THEN
    INSERT INTO change_log (table_name, pk, op, had_old, old_hash) VALUES (TG_TABLE_NAME, new_pk, 'U', true, old_hash);
  ELSIF TG_OP <> 'DELETE' THEN
    -- An insert, or the new key of an update that moved the row: nothing was there before.
    INSERT INTO change_log (table_name, pk, op, had_old) VALUES (TG_TABLE_NAME, new_pk, left(TG_OP, 1), false);
  END IF;
  RETURN NULL;
END
$$;
