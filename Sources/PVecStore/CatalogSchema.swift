import GRDB

/// The catalog's SQL migrations, in order.
///
/// Each one is also a file, `registry-schema/migrations/<id>.sql`, byte for byte (a test
/// checks). A migration that has shipped is never edited: changes go in a new one with the
/// next id. Migrations are plain SQL and never use model types.
enum CatalogSchema {
    static let migrations: [(id: String, sql: String)] = [
        ("0001_initial", migration0001),
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
}
