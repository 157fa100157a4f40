-- The active-executions quota (docs/operations.md) in one statement: the user's lock, then the
-- count of their active executions but `p_except` (a start inserting itself in the same
-- statement), raising SQLSTATE IQ429 at `p_limit` (null: only count). A VOLATILE function's query
-- takes its snapshot once the lock is held, so it sees every start that held the lock before; a
-- start can run this inside its own single statement rather than a transaction of four.
CREATE FUNCTION ipa_check_active_executions(p_user uuid, p_limit integer, p_except uuid) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  active integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('quota:activeExecutions:' || p_user::text));
  SELECT count(*)::int INTO active
    FROM executions e JOIN workflows w ON w.id = e.workflow_id
   WHERE e.status NOT IN ('completed', 'failed', 'cancelled')
     AND coalesce(e.acting_user_id, e.triggered_by, w.owner_id) = p_user
     AND e.id IS DISTINCT FROM p_except;
  IF active >= p_limit THEN
    RAISE EXCEPTION 'the quota of % active executions is reached', p_limit USING ERRCODE = 'IQ429';
  END IF;
  RETURN active;
END
$$;
