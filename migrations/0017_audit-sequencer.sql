ALTER TABLE "audit_logs" ALTER COLUMN "seq" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "audit_logs" ALTER COLUMN "seq" DROP NOT NULL;--> statement-breakpoint
CREATE INDEX "audit_logs_unlinked_idx" ON "audit_logs" USING btree ("created_at","id") WHERE "audit_logs"."seq" is null;--> statement-breakpoint
-- Writers append unlinked rows and take no lock, so they never wait on each other: the insert
-- trigger only stamps the time. The sequencer (audit_link) links rows into the chain.
CREATE OR REPLACE FUNCTION audit_logs_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.seq := NULL;
  NEW.prev_hash := '';
  NEW.hash := '';
  NEW.created_at := date_trunc('milliseconds', clock_timestamp());
  RETURN NEW;
END
$$;
--> statement-breakpoint
-- Rows stay as written. The one update allowed is the sequencer's linking of an unlinked row,
-- which sets seq and the hashes and nothing else.
CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
     AND current_setting('ipa.audit_sequencer', true) = 'on'
     AND (NEW.id, NEW.actor_id, NEW.actor_email, NEW.action, NEW.resource_type, NEW.resource_id, NEW.before,
          NEW.after, NEW.ip, NEW.user_agent, NEW.request_id, NEW.dedupe_key, NEW.created_at)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.actor_id, OLD.actor_email, OLD.action, OLD.resource_type, OLD.resource_id, OLD.before,
          OLD.after, OLD.ip, OLD.user_agent, OLD.request_id, OLD.dedupe_key, OLD.created_at) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
DROP TRIGGER audit_logs_append_only ON audit_logs;
--> statement-breakpoint
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
--> statement-breakpoint
-- The sequencer: links up to `batch` unlinked rows after the chain's tail, oldest first. One runs
-- at a time (a lock no writer takes); answers how many it linked.
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
    UPDATE audit_logs SET seq = r.seq, prev_hash = r.prev_hash, hash = r.hash WHERE id = r.id;
    previous_hash := r.hash;
    linked := linked + 1;
  END LOOP;
  PERFORM set_config('ipa.audit_sequencer', 'off', true);
  RETURN linked;
END
$$;
