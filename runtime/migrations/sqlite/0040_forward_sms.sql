-- Forwarding to other platforms, SMS, hand-off alerts (sqlite). Mirror of
-- migrations/postgres/0040_forward_sms.sql. Never edit once merged.

-- A handling unit reached through another platform (e.g. the prefecture's 12345): a case
-- dispatched to it is sent there, and what the platform says about it comes back.
ALTER TABLE units ADD COLUMN platform_id TEXT;
-- The platform's id of a forwarded case (Open311 service_request_id), and when it took it.
ALTER TABLE cases ADD COLUMN forward_ref TEXT;
ALTER TABLE cases ADD COLUMN forward_at INTEGER;
CREATE INDEX cases_forward ON cases (unit_id, status) WHERE forward_ref IS NOT NULL;

-- When the center was alerted that a hand-off waits too long for the line's acknowledgement.
ALTER TABLE cases ADD COLUMN handoff_alerted_at INTEGER;

-- Token scope sms_gateway (the SMS gateway's inbound callback). SQLite cannot change a CHECK
-- constraint in place: the table is rebuilt with every row and id kept.
CREATE TABLE api_tokens_v2 (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,         -- SHA-256 hex of the m110_<hex> token
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER,
    scope         TEXT CHECK (scope IN ('open311_client', 'police_bridge', 'sms_gateway'))
);
INSERT INTO api_tokens_v2 (id, user_id, name, token_hash, created_at, last_used_at, revoked_at, scope)
    SELECT id, user_id, name, token_hash, created_at, last_used_at, revoked_at, scope FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_v2 RENAME TO api_tokens;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Every SMS in and out. Inbound ones are deduplicated on the gateway's message id.
CREATE TABLE sms_messages (
    id          INTEGER PRIMARY KEY,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    phone       TEXT NOT NULL,
    body        TEXT NOT NULL,
    case_id     INTEGER REFERENCES cases (id),
    -- out: receipt (case number at intake), survey (回访 question);
    -- in: new_case, thread (added to an open case), survey_reply, ignored
    purpose     TEXT NOT NULL CHECK (purpose IN ('receipt', 'survey', 'new_case', 'thread',
                    'survey_reply', 'ignored')),
    gateway_id  TEXT,
    at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX sms_messages_gateway ON sms_messages (gateway_id) WHERE gateway_id IS NOT NULL;
CREATE INDEX sms_messages_phone ON sms_messages (phone, at);
CREATE INDEX sms_messages_case ON sms_messages (case_id, at);
