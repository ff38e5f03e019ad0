-- The people who use a merchant's dashboard. Invited by an owner (or with a secret key), they
-- sign in with an email and a password (an Argon2id PHC string) and, if they turned it on, a
-- one-time code. Removing a person deletes the row and their sessions; the audit log keeps
-- their id.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'developer', 'analyst')),
    password_hash TEXT NOT NULL,
    -- The authenticator secret, sealed with the vault key and bound to the user id; the pending
    -- one is being set up and not yet confirmed with a code.
    totp_secret TEXT,
    totp_pending TEXT,
    -- The 30-second step of the last code accepted: a code works once.
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    -- Sign-ins started and not yet succeeded since the last success or lock; the fifth failure
    -- locks the account until locked_until.
    failed_sign_ins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL
);
CREATE INDEX users_by_merchant ON users (merchant_id, created);

-- The link an invited person signs up with holds a token; only its SHA-256 is kept.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'developer', 'analyst')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    accepted INTEGER,
    revoked INTEGER
);
CREATE INDEX invitations_by_merchant ON invitations (merchant_id, created);

-- Signed-in browsers: the cookie's SHA-256, and the CSRF token the dashboard sends back with
-- every change (useless without the cookie, so kept as is).
CREATE TABLE dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_by_user ON dashboard_sessions (user_id);
