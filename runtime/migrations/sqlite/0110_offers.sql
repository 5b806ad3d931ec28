-- Nearest-resource dispatch (sqlite). Mirror of migrations/postgres/0110_offers.sql. Never edit
-- once merged. docs/matching.md.
-- Categories the profile marks as matchable (`matchable: true`): their cases may be offered to
-- admitted providers, volunteer teams and social organizations instead of routed.
ALTER TABLE categories ADD COLUMN matchable INTEGER NOT NULL DEFAULT 0 CHECK (matchable IN (0, 1));

-- 准入: a provider unit's admission — qualification and its validity, where it works from (else
-- the centroid of its scope), a suspension (why, by whom), and when it was last offered a case
-- (fairness). Every change is audited (`provider.*`). No row: never admitted, never offered.
CREATE TABLE provider_admissions (
    unit_id           TEXT PRIMARY KEY REFERENCES units (id),
    qualification     TEXT NOT NULL,
    valid_from        INTEGER NOT NULL,
    valid_until       INTEGER,
    lat               REAL,
    lon               REAL,
    suspended_at      INTEGER,
    suspended_reason  TEXT,
    suspended_by      INTEGER REFERENCES users (id),
    last_offer_at     INTEGER,
    updated_by        INTEGER REFERENCES users (id),
    updated_at        INTEGER NOT NULL
);

-- An offer of a case to one provider: round r of the case's offers, its rank in that round and
-- cost; offered → accepted (the provider gets the case), declined, expired (no answer in time)
-- or withdrawn (another accepted first, or the center took the case back).
CREATE TABLE offers (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    unit_id      TEXT NOT NULL REFERENCES units (id),
    round        INTEGER NOT NULL,
    rank         INTEGER NOT NULL,
    cost         REAL NOT NULL,
    distance_km  REAL,
    state        TEXT NOT NULL CHECK (state IN ('offered', 'accepted', 'declined', 'expired',
                     'withdrawn')),
    offered_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    answered_at  INTEGER,
    answered_by  INTEGER REFERENCES users (id),
    UNIQUE (case_id, unit_id)
);
CREATE INDEX offers_open ON offers (state, expires_at);
CREATE INDEX offers_unit ON offers (unit_id, state);

-- 有偿服务: the price a provider quoted and the price it charged for a paid case, in fen.
CREATE TABLE service_prices (
    case_id      INTEGER PRIMARY KEY REFERENCES cases (id),
    unit_id      TEXT NOT NULL REFERENCES units (id),
    quoted_fen   INTEGER,
    charged_fen  INTEGER,
    updated_by   INTEGER REFERENCES users (id),
    updated_at   INTEGER NOT NULL
);
