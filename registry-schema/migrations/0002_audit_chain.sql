-- pvec catalog, migration 0002_audit_chain.
-- Turns audit_log into a hash chain. Each row's `hash` is the SHA-256 (lowercase hex) of the
-- canonical JSON of the row with `prev_hash`, the hash of the row before it (NULL for the
-- first row); registry-schema/README.md ("Audit chain") gives the exact fields. pvec computes
-- the hash in the transaction that makes the change; these triggers enforce the links, so a
-- row cannot be inserted that does not extend the chain. `actor` says who made the change.
ALTER TABLE audit_log ADD COLUMN actor TEXT;

-- Rows written before this migration have no hash: pvec fills `prev_hash` and `hash` for them
-- once, in sequence order, on the first write. That is the only update allowed.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash IS NOT NULL
    OR NEW.hash IS NULL OR length(NEW.hash) != 64
    OR NEW.seq IS NOT OLD.seq OR NEW.time IS NOT OLD.time OR NEW.action IS NOT OLD.action
    OR NEW.name IS NOT OLD.name OR NEW.old_id IS NOT OLD.old_id OR NEW.new_id IS NOT OLD.new_id
    OR NEW.command IS NOT OLD.command OR NEW.actor IS NOT OLD.actor
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- A new row carries its hash and links to the hash of the last row.
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
WHEN NEW.hash IS NULL OR length(NEW.hash) != 64
    OR NEW.prev_hash IS NOT (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1)
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows must extend the hash chain');
END;
