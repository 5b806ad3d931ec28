-- Accounts administered in the console (sqlite). Mirror of migrations/postgres/0060_accounts.sql.
-- Never edit once merged.
-- A user's real name and work phone (shown to colleagues, masked like any phone); a password
-- set by someone else (a new account, a bulk import, a reset) must be changed at first login.
ALTER TABLE users ADD COLUMN real_name TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));

-- One-time password-reset links: only the SHA-256 of the token is kept; used once, then dead.
CREATE TABLE password_resets (
    token_hash  TEXT NOT NULL PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by  INTEGER REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);
