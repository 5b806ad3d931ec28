-- Open311 GeoReport v2 submissions (PostgreSQL). Mirror of migrations/sqlite/0010_open311_submissions.sql.
-- What a POST requests carried beyond the case itself: the service attributes, media link,
-- the client's ids and the submitter's e-mail. Personal data (email) is never returned by the
-- Open311 GET endpoints. Never edit once merged.

CREATE TABLE open311_submissions (
    case_id       BIGINT PRIMARY KEY REFERENCES cases (id),
    service_code  TEXT NOT NULL,
    attributes    TEXT NOT NULL,                -- JSON array of [code, value] pairs
    media_url     TEXT,
    address_id    TEXT,
    email         TEXT,
    device_id     TEXT,
    account_id    TEXT,
    api_user_id   BIGINT REFERENCES users (id), -- the API key's user
    created_at    BIGINT NOT NULL
);
CREATE INDEX open311_submissions_account ON open311_submissions (account_id);
