-- Delivery of outbox messages (sqlite). Mirror of migrations/postgres/0030_delivery.sql.
-- Never edit once merged.
-- Each message names the platform it is for and where it stands; every attempt is recorded; a
-- worker leases a message before sending it so that several m110d never send it twice at once.
-- Cases handed to an emergency line record whether the line acknowledged or returned them.

ALTER TABLE outbox ADD COLUMN platform_id TEXT;
-- pending: to send; delivered: the receiver answered 2xx; dead: given up after the retry bound;
-- manual: the platform has no integration (a person hands it over by phone); unrouted: no
-- platform receives this topic (kept for the record).
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'delivered', 'dead', 'manual', 'unrouted'));
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
ALTER TABLE outbox ADD COLUMN leased_by TEXT;
-- Messages written before the worker existed name no platform: keep them, do not send them.
UPDATE outbox SET state = 'delivered' WHERE delivered_at IS NOT NULL;
UPDATE outbox SET state = 'unrouted' WHERE delivered_at IS NULL;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE outbox_attempts (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES outbox (id),
    at           INTEGER NOT NULL,
    status_code  INTEGER,                      -- HTTP status, NULL when no response
    error        TEXT,                      -- what went wrong (never a secret)
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX outbox_attempts_message ON outbox_attempts (message_id, at);

-- History import matches re-runs on the old platform's id.
CREATE INDEX cases_external_id ON cases (external_id);

-- A token limited to Open311 (open311_client) or to an emergency line's bridge (police_bridge).
ALTER TABLE api_tokens ADD COLUMN scope TEXT CHECK (scope IN ('open311_client', 'police_bridge'));

-- The environment variable holding a webhook platform's signing secret (never the secret).
ALTER TABLE platforms ADD COLUMN secret_env TEXT;

ALTER TABLE cases ADD COLUMN handoff_state TEXT
    CHECK (handoff_state IN ('awaiting', 'acknowledged', 'returned'));
ALTER TABLE cases ADD COLUMN handoff_ref TEXT;
ALTER TABLE cases ADD COLUMN handoff_at INTEGER;
UPDATE cases SET handoff_state = 'awaiting', handoff_at = updated_at
    WHERE status = 'transferred_police';
