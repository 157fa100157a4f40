CREATE TABLE "audit_chain_positions" (
	"seq" bigint PRIMARY KEY NOT NULL
);
--> statement-breakpoint
-- audit_logs is partitioned by month, so no index of its own can keep `seq` unique across months.
-- Each row the sequencer links claims its position here; a position claimed twice (a second
-- sequencer that skipped the lock, a hand-made UPDATE) is refused with the unique violation.
INSERT INTO "audit_chain_positions" (seq) SELECT DISTINCT seq FROM audit_logs WHERE seq IS NOT NULL;--> statement-breakpoint
CREATE FUNCTION audit_logs_claim_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_chain_positions (seq) VALUES (NEW.seq);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_claim_position AFTER UPDATE OF seq ON audit_logs FOR EACH ROW
  WHEN (OLD.seq IS NULL AND NEW.seq IS NOT NULL) EXECUTE FUNCTION audit_logs_claim_position();--> statement-breakpoint
-- Positions are as permanent as the rows that hold them.
CREATE TRIGGER audit_chain_positions_immutable BEFORE UPDATE OR DELETE ON "audit_chain_positions" FOR EACH ROW EXECUTE FUNCTION refuse_change();--> statement-breakpoint
CREATE TRIGGER audit_chain_positions_no_truncate BEFORE TRUNCATE ON "audit_chain_positions" FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();--> statement-breakpoint
CREATE TRIGGER "audit_chain_positions_record_change" AFTER INSERT OR UPDATE OR DELETE ON "audit_chain_positions" FOR EACH ROW EXECUTE FUNCTION record_change('seq');--> statement-breakpoint
CREATE TRIGGER "audit_chain_positions_record_truncate" AFTER TRUNCATE ON "audit_chain_positions" FOR EACH STATEMENT EXECUTE FUNCTION record_truncate();
