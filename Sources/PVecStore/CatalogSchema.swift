import GRDB

/// The catalog's SQL migrations, in order.
///
/// Each one is also a file, `registry-schema/migrations/<id>.sql`, byte for byte (a test
/// checks). A migration that has shipped is never edited: changes go in a new one with the
/// next id. Migrations are plain SQL and never use model types.
enum CatalogSchema {
    static let migrations: [(id: String, sql: String)] = [
        ("0001_initial", migration0001),
        ("0002_audit_chain", migration0002),
        ("0003_signatures_trust_tokens", migration0003),
        ("0004_audit_anchor", migration0004),
        ("0005_token_lifecycle", migration0005),
    ]

    static var knownIDs: [String] { migrations.map(\.id) }

    static func migrator() -> DatabaseMigrator {
        var m = DatabaseMigrator()
        for (id, sql) in migrations {
            m.registerMigration(id) { db in try db.execute(sql: sql) }
        }
        return m
    }

    static let migration0001 = """
        -- pvec catalog, migration 0001_initial.
        -- The objects folders are the truth for bytes; these tables index manifests and hold the
        -- mutable state (names, history, tags, audit log). Times are Unix seconds (REAL, UTC).

        -- One row per manifest object. `manifest` is the canonical JSON; the other columns are
        -- copies of its fields, kept for queries.
        CREATE TABLE artifacts (
            id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 64),
            kind TEXT NOT NULL,
            blob TEXT CHECK (blob IS NULL OR length(blob) = 64),
            shape TEXT,
            backbone_model TEXT,
            backbone_width INTEGER,
            backbone_embedding TEXT,
            recipe_op TEXT NOT NULL,
            created_at REAL NOT NULL,
            manifest TEXT NOT NULL
        );
        CREATE INDEX artifacts_kind ON artifacts(kind);
        CREATE INDEX artifacts_blob ON artifacts(blob);
        CREATE INDEX artifacts_backbone ON artifacts(backbone_model);

        -- Parent edges in manifest order. `parent` has no foreign key on purpose: pvec checks
        -- parents before writing, and `pvec verify` reports edges whose parent has gone missing
        -- instead of the catalog refusing to load such a manifest.
        CREATE TABLE edges (
            child TEXT NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
            parent TEXT NOT NULL,
            role TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (child, position)
        );
        CREATE INDEX edges_parent ON edges(parent);

        -- Names: the current id and version of each mutable ref.
        CREATE TABLE refs (
            name TEXT PRIMARY KEY NOT NULL,
            id TEXT NOT NULL REFERENCES artifacts(id),
            version INTEGER NOT NULL CHECK (version >= 1),
            updated_at REAL NOT NULL
        );
        CREATE INDEX refs_id ON refs(id);

        -- Every version a name has had: `name@N` is the row with version N.
        CREATE TABLE ref_history (
            name TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            id TEXT NOT NULL REFERENCES artifacts(id),
            time REAL NOT NULL,
            command TEXT NOT NULL,
            PRIMARY KEY (name, version)
        );
        CREATE INDEX ref_history_id ON ref_history(id);

        -- Tags: many per artifact, and a tag may sit on several artifacts.
        CREATE TABLE tags (
            id TEXT NOT NULL REFERENCES artifacts(id),
            tag TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (id, tag)
        );
        CREATE INDEX tags_tag ON tags(tag);

        -- Append-only audit log of every change to names and tags. `prev_hash` and `hash` are
        -- reserved for a hash chain (a later migration fills them); they are NULL until then.
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            time REAL NOT NULL,
            action TEXT NOT NULL,
            name TEXT,
            old_id TEXT,
            new_id TEXT,
            command TEXT NOT NULL,
            prev_hash TEXT,
            hash TEXT
        );
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit_log is append-only');
        END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit_log is append-only');
        END;

        """

    static let migration0002 = """
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

        """

    static let migration0003 = """
        -- pvec catalog, migration 0003_signatures_trust_tokens.
        -- State for publishing between registries: signatures on manifests, the keys this registry
        -- trusts, the bearer tokens a registry server accepts, and pins that keep objects of a push
        -- in progress safe from gc.

        -- Ed25519 signatures over a manifest id (the message is the line "pvec-signature-v1" followed by the
        -- 64 hex digits). `artifact` has no foreign key on purpose, as with edges.parent: gc removes
        -- the rows of artifacts it deletes, and rebuilding the catalog keeps them.
        CREATE TABLE signatures (
            artifact TEXT NOT NULL CHECK (length(artifact) = 64),
            key TEXT NOT NULL,
            signature TEXT NOT NULL,
            signer TEXT,
            created_at REAL NOT NULL,
            PRIMARY KEY (artifact, key)
        );
        CREATE INDEX signatures_key ON signatures(key);

        -- Public keys ("ed25519:<base64>") this registry trusts, and the team each speaks for.
        CREATE TABLE trusted_keys (
            key TEXT PRIMARY KEY NOT NULL,
            team TEXT NOT NULL,
            added_at REAL NOT NULL
        );

        -- Bearer tokens of a registry server. Only the SHA-256 of the secret is kept. `scopes` is a
        -- space-separated list: `read`, `write:<name prefix>` (write implies read).
        CREATE TABLE tokens (
            id TEXT PRIMARY KEY NOT NULL,
            secret_hash TEXT NOT NULL CHECK (length(secret_hash) = 64),
            name TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at REAL NOT NULL
        );

        -- Artifact or blob ids received by a push that has not named them yet; gc keeps them until
        -- `expires_at`.
        CREATE TABLE pins (
            id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 64),
            expires_at REAL NOT NULL
        );

        """

    static let migration0004 = """
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

        """

    static let migration0005 = """
        -- pvec catalog, migration 0005_token_lifecycle.
        -- Bearer tokens can expire and be revoked, and a holder name stands for one live token.
        -- `expires_at`: Unix seconds after which the token is refused (NULL: never). `revoked_at`: when
        -- `pvec token revoke` withdrew it (NULL: not revoked); a revoked token is refused for good.

        ALTER TABLE tokens ADD COLUMN expires_at REAL;
        ALTER TABLE tokens ADD COLUMN revoked_at REAL;
        CREATE INDEX tokens_name ON tokens(name);

        -- A new token needs a holder name no unrevoked token has. (Older catalogs may hold duplicates;
        -- they stay readable, and revoking them frees the name.)
        CREATE TRIGGER tokens_unique_holder BEFORE INSERT ON tokens
        WHEN EXISTS (SELECT 1 FROM tokens WHERE name = NEW.name AND revoked_at IS NULL)
        BEGIN
            SELECT RAISE(ABORT, 'a live token already has this holder name');
        END;

        -- A token row changes only by being revoked, once.
        CREATE TRIGGER tokens_revoke_only BEFORE UPDATE ON tokens
        WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
            OR NEW.id IS NOT OLD.id OR NEW.secret_hash IS NOT OLD.secret_hash OR NEW.name IS NOT OLD.name
            OR NEW.scopes IS NOT OLD.scopes OR NEW.created_at IS NOT OLD.created_at OR NEW.expires_at IS NOT OLD.expires_at
        BEGIN
            SELECT RAISE(ABORT, 'tokens change only by being revoked, once');
        END;

        """
}
