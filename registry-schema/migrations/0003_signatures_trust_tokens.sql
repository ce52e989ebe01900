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
