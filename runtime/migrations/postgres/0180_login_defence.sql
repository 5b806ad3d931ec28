-- Login throttling and the credentials epoch (postgres). Mirror of migrations/sqlite/0180_login_defence.sql.
-- Never edit once merged.
--
-- login_throttle: failed logins counted per account and per client address, shared by every
-- m110d on the database (a second process must not double an attacker's tries) and kept over a
-- restart. key is 'account:' || sha256(lower-cased name) — names are never stored in the clear,
-- and unknown names are counted like known ones so a lockout tells nothing about who exists —
-- or 'address:' || the client address. A success clears the account's row; an administrator
-- can clear it too (m110 user unlock, POST /api/v1/users/{id}/unlock). policy::throttle decides.
CREATE TABLE login_throttle (
    key           TEXT NOT NULL PRIMARY KEY,
    failures      BIGINT NOT NULL,
    first_at      BIGINT NOT NULL,
    last_at       BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL
);
CREATE INDEX login_throttle_last ON login_throttle (last_at);

-- auth_epoch: bumped by every change that can end a Bearer token's rights (revocation, a user
-- disabled, a role, unit or grid change). Each m110d keeps verified tokens in a cache and
-- trusts an entry only while the epoch it was read at is still the current one, so a token
-- revoked by another process (m110 token revoke) stops working on its next request.
CREATE TABLE auth_epoch (
    name   TEXT NOT NULL PRIMARY KEY,
    epoch  BIGINT NOT NULL
);
INSERT INTO auth_epoch (name, epoch) VALUES ('credentials', 0);

-- The idle timeout reads last_seen_at with expires_at; the purge job deletes by either.
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
