-- Accounts administered in the console (postgres). Mirror of migrations/sqlite/0060_accounts.sql.
-- Never edit once merged.
-- A user's real name and work phone (shown to colleagues, masked like any phone); a password
-- set by someone else (a new account, a bulk import, a reset) must be changed at first login.
ALTER TABLE users ADD COLUMN real_name TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));

-- One-time password-reset links: only the SHA-256 of the token is kept; used once, then dead.
CREATE TABLE password_resets (
    token_hash  TEXT NOT NULL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by  BIGINT REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);
