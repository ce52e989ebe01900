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
