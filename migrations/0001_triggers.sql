-- Rules the database keeps itself, so that no code path can forget them.

-- updated_at follows every real change.
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW IS DISTINCT FROM OLD THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();
--> statement-breakpoint
CREATE TRIGGER workflows_set_updated_at BEFORE UPDATE ON workflows FOR EACH ROW EXECUTE FUNCTION set_updated_at();
--> statement-breakpoint
CREATE TRIGGER agents_set_updated_at BEFORE UPDATE ON agents FOR EACH ROW EXECUTE FUNCTION set_updated_at();
--> statement-breakpoint
CREATE TRIGGER agent_tools_set_updated_at BEFORE UPDATE ON agent_tools FOR EACH ROW EXECUTE FUNCTION set_updated_at();
--> statement-breakpoint
CREATE TRIGGER executions_set_updated_at BEFORE UPDATE ON executions FOR EACH ROW EXECUTE FUNCTION set_updated_at();
--> statement-breakpoint
CREATE TRIGGER execution_steps_set_updated_at BEFORE UPDATE ON execution_steps FOR EACH ROW EXECUTE FUNCTION set_updated_at();
--> statement-breakpoint

-- duration_ms is derived from started_at and completed_at.
CREATE FUNCTION set_duration_ms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.duration_ms := CASE
    WHEN NEW.started_at IS NOT NULL AND NEW.completed_at IS NOT NULL
      THEN round(extract(epoch FROM NEW.completed_at - NEW.started_at) * 1000)::integer
  END;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER executions_set_duration BEFORE INSERT OR UPDATE ON executions FOR EACH ROW EXECUTE FUNCTION set_duration_ms();
--> statement-breakpoint
CREATE TRIGGER execution_steps_set_duration BEFORE INSERT OR UPDATE ON execution_steps FOR EACH ROW EXECUTE FUNCTION set_duration_ms();
--> statement-breakpoint

-- A published workflow version never changes.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER workflow_versions_immutable BEFORE UPDATE ON workflow_versions FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint

-- The audit chain: each row's hash covers its content and the previous row's hash.
CREATE FUNCTION audit_row_hash(a audit_logs) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(jsonb_build_array(
    a.prev_hash, a.seq, a.id, a.actor_id, a.actor_email, a.action, a.resource_type, a.resource_id,
    a.before, a.after, host(a.ip), a.user_agent, a.request_id, a.dedupe_key,
    to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  )::text, 'UTF8')), 'hex')
$$;
--> statement-breakpoint
-- Writers take one transaction-scoped lock before linking, so concurrent transactions append
-- one after another and never fork the chain. Insert the audit row last in a transaction.
CREATE FUNCTION audit_logs_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  previous record;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('ipa.audit_logs.chain'));
  SELECT seq, hash INTO previous FROM audit_logs ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(previous.seq, 0) + 1;
  NEW.prev_hash := coalesce(previous.hash, repeat('0', 64));
  NEW.created_at := date_trunc('milliseconds', clock_timestamp());
  NEW.hash := audit_row_hash(NEW);
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_chain BEFORE INSERT ON audit_logs FOR EACH ROW EXECUTE FUNCTION audit_logs_chain();
--> statement-breakpoint
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs FOR EACH ROW EXECUTE FUNCTION refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
