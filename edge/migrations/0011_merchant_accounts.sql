-- Merchants manage their own keys and origins: keys get ids (to roll and revoke them), names,
-- the last four characters to tell them apart, restricted scopes, and expiry/revocation times.
-- SQLite cannot change a CHECK in place, so the table is rebuilt.
CREATE TABLE api_keys_v2 (
    id TEXT NOT NULL PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    kind TEXT NOT NULL CHECK (kind IN ('secret', 'publishable', 'restricted')),
    name TEXT,
    -- Prefix and last four characters (`sk_test_...3f9a`); unknown for keys made before this.
    redacted TEXT,
    -- JSON array of scope names (`["payments:read"]`), restricted keys only.
    scopes TEXT CHECK ((kind = 'restricted') = (scopes IS NOT NULL)),
    created INTEGER NOT NULL,
    -- A rolled key works until `expires`; `rolled_to` names its replacement.
    expires INTEGER,
    rolled_to TEXT,
    revoked INTEGER
);
-- Keys made before ids existed get one derived from their hash, shaped like every other id
-- (32 hex digits of a version-4 UUID).
INSERT INTO api_keys_v2 (id, key_hash, merchant_id, kind, created)
    SELECT 'key_' || substr(key_hash, 1, 12) || '4' || substr(key_hash, 14, 3) || '8'
               || substr(key_hash, 18, 15),
           key_hash, merchant_id, kind, created
    FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_v2 RENAME TO api_keys;
CREATE INDEX api_keys_by_merchant ON api_keys (merchant_id, created);

-- Who changed what on a merchant's account (keys, origins; people once the dashboard has them).
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX audit_log_by_merchant ON audit_log (merchant_id, seq);
