-- pvec catalog, migration 0004_audit_anchor.
-- Makes the chain fields of audit_log effectively NOT NULL (SQLite cannot add NOT NULL to a
-- column, so triggers do it) and forbids every UPDATE; records where the anchor in logs/refs
-- starts. registry-schema/README.md ("Audit chain", "Ref log") describes the anchor.

-- No row is ever changed. (0002 let pvec fill the hashes of rows from before the chain; it no
-- longer does: a row without a hash stays unchained and `pvec audit verify` reports it.)
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- A new row carries its hash and links to the newest row that has one (NULL only for the first).
DROP TRIGGER audit_log_chain;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
WHEN NEW.hash IS NULL OR length(NEW.hash) != 64
    OR NEW.prev_hash IS NOT (SELECT hash FROM audit_log WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1)
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows must extend the hash chain');
END;

-- Rows with seq > anchored_after were written by a pvec that records each commit's audit head
-- in logs/refs, so the newest of them must be named there. One row, written here.
CREATE TABLE audit_anchor (
    anchored_after INTEGER NOT NULL
);
INSERT INTO audit_anchor (anchored_after) SELECT COALESCE(max(seq), 0) FROM audit_log;
CREATE TRIGGER audit_anchor_fixed_update BEFORE UPDATE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'audit_anchor is fixed');
END;
CREATE TRIGGER audit_anchor_fixed_delete BEFORE DELETE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'audit_anchor is fixed');
END;
CREATE TRIGGER audit_anchor_fixed_insert BEFORE INSERT ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'audit_anchor is fixed');
END;
