-- Minsheng 110 initial schema (SQLite). Mirror of migrations/postgres/0001_initial.sql:
-- same tables, columns and indexes; only the type names differ. Never edit once merged.
-- Conventions: times are INTEGER Unix epoch milliseconds (UTC); booleans are 0/1 INTEGER;
-- lists and small structures are JSON text; codes and ids from the profile are TEXT keys.

-- Region and settings ------------------------------------------------------------------

-- Exactly one row: the region this database serves.
CREATE TABLE region (
    code              TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    parents           TEXT NOT NULL,            -- JSON array of parent division names
    population        INTEGER NOT NULL,
    area_km2          REAL NOT NULL,
    archetype         TEXT NOT NULL,
    division_edition  TEXT NOT NULL,
    service_number    TEXT NOT NULL,
    service_hours     TEXT NOT NULL,
    languages         TEXT NOT NULL,            -- JSON array of BCP 47 tags
    staffing          TEXT NOT NULL,            -- JSON StaffingInputs
    appraisal         TEXT NOT NULL,            -- JSON Appraisal weights
    early_warning     TEXT NOT NULL,            -- JSON EarlyWarning thresholds
    fallback_unit_id  TEXT NOT NULL,
    provisioned_at    INTEGER NOT NULL
);

-- Key/value settings: model_version, region_sha256, profile_sha256, kit_version, ...
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Grid -------------------------------------------------------------------------------

CREATE TABLE grid_tiers (
    level  INTEGER PRIMARY KEY,
    key    TEXT NOT NULL UNIQUE,
    name   TEXT NOT NULL
);

CREATE TABLE grid_units (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    parent_code  TEXT REFERENCES grid_units (code),
    tier         INTEGER NOT NULL REFERENCES grid_tiers (level),
    population   INTEGER,
    households   INTEGER,
    lat          REAL,
    lon          REAL,
    generated    INTEGER NOT NULL DEFAULT 0 CHECK (generated IN (0, 1)),
    position     INTEGER NOT NULL               -- profile order (parents before children)
);
CREATE INDEX grid_units_parent ON grid_units (parent_code);
CREATE INDEX grid_units_tier ON grid_units (tier, position);
CREATE INDEX grid_units_name ON grid_units (name);

-- Handling units ---------------------------------------------------------------------

CREATE TABLE units (
    id                  TEXT PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('center', 'department', 'township',
                            'community_center', 'social_organization', 'volunteer_team',
                            'market_provider', 'police')),
    name                TEXT NOT NULL,
    hotline             TEXT,
    functions           TEXT NOT NULL,          -- JSON array of strings
    service_categories  TEXT NOT NULL,          -- JSON array of category codes
    qualification       TEXT,
    address             TEXT,
    active              INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    position            INTEGER NOT NULL
);
CREATE INDEX units_kind ON units (kind, position);

CREATE TABLE unit_contacts (
    id        INTEGER PRIMARY KEY,
    unit_id   TEXT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    role      TEXT,
    phone     TEXT,
    UNIQUE (unit_id, position)
);

-- Grid units a handling unit serves; no rows means the whole region.
CREATE TABLE unit_scope (
    unit_id    TEXT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    grid_code  TEXT NOT NULL REFERENCES grid_units (code),
    position   INTEGER NOT NULL,
    PRIMARY KEY (unit_id, grid_code)
);
CREATE INDEX unit_scope_grid ON unit_scope (grid_code);

-- Categories, routing, escalation ----------------------------------------------------

CREATE TABLE categories (
    code          TEXT PRIMARY KEY,
    name_zh       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    parent_code   TEXT REFERENCES categories (code),
    priority      TEXT NOT NULL CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
    police        INTEGER NOT NULL DEFAULT 0 CHECK (police IN (0, 1)),
    sign_minutes  INTEGER NOT NULL,
    close_hours   INTEGER NOT NULL,
    keywords      TEXT NOT NULL,                -- JSON array of classifier words
    position      INTEGER NOT NULL
);
CREATE INDEX categories_parent ON categories (parent_code);

-- category x grid scope -> unit; scope_code NULL = whole region. Most specific scope wins.
CREATE TABLE routing_rules (
    id             INTEGER PRIMARY KEY,
    category_code  TEXT NOT NULL REFERENCES categories (code),
    scope_code     TEXT REFERENCES grid_units (code),
    unit_id        TEXT NOT NULL REFERENCES units (id),
    position       INTEGER NOT NULL
);
CREATE INDEX routing_rules_category ON routing_rules (category_code, scope_code);

-- One row per step; a chain is the steps of one category (NULL = default chain) by step.
CREATE TABLE escalation_steps (
    id             INTEGER PRIMARY KEY,
    chain          INTEGER NOT NULL,            -- chain order in the profile
    category_code  TEXT REFERENCES categories (code),
    step           INTEGER NOT NULL,
    unit_id        TEXT NOT NULL REFERENCES units (id),
    after_minutes  INTEGER NOT NULL,
    UNIQUE (chain, step)
);
CREATE INDEX escalation_steps_category ON escalation_steps (category_code, step);

-- Platforms already in the region (police dispatch, 12345, grid app, cameras, ...).
CREATE TABLE platforms (
    id                  TEXT PRIMARY KEY,
    kind                TEXT NOT NULL,
    name                TEXT NOT NULL,
    integration_kind    TEXT NOT NULL CHECK (integration_kind IN ('none', 'csv_import',
                            'webhook', 'open311')),
    integration_target  TEXT,                   -- path, url or endpoint of the integration
    cameras             INTEGER,
    position            INTEGER NOT NULL
);

-- Users, sessions, API tokens --------------------------------------------------------

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,        -- login name
    role           TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'operator',
                       'dispatcher', 'unit_handler', 'grid_worker', 'analyst', 'auditor')),
    unit_id        TEXT REFERENCES units (id),
    password_hash  TEXT,                        -- argon2 PHC string; NULL = no password login
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE user_grid_units (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grid_code  TEXT NOT NULL REFERENCES grid_units (code),
    PRIMARY KEY (user_id, grid_code)
);
CREATE INDEX user_grid_units_grid ON user_grid_units (grid_code);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,             -- SHA-256 hex of the cookie value
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- A token acts as its user (role and unit come from the user row).
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,         -- SHA-256 hex of the m110_<hex> token
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Callers and cases ------------------------------------------------------------------

CREATE TABLE callers (
    id          INTEGER PRIMARY KEY,
    phone       TEXT UNIQUE,                    -- full number; masked at the edges
    name        TEXT,
    gender      TEXT,
    age_band    TEXT,
    occupation  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Named monotonic counters, e.g. the daily sequence of public case ids ("case:20261129").
CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);

CREATE TABLE cases (
    id               INTEGER PRIMARY KEY,
    public_id        TEXT NOT NULL UNIQUE,      -- e.g. MS350781-20261129-000123
    channel          TEXT NOT NULL CHECK (channel IN ('phone', 'web', 'grid', 'sms', 'open311')),
    caller_id        INTEGER REFERENCES callers (id),
    content          TEXT NOT NULL,
    category_code    TEXT REFERENCES categories (code),
    grid_code        TEXT REFERENCES grid_units (code),
    address          TEXT,
    lat              REAL,
    lon              REAL,
    priority         TEXT NOT NULL CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
    status           TEXT NOT NULL CHECK (status IN ('received', 'dispatched', 'signed',
                         'in_progress', 'replied', 'followed_up', 'closed', 'returned',
                         'transferred_police')),
    operator_id      INTEGER REFERENCES users (id),   -- responsible operator until closed
    unit_id          TEXT REFERENCES units (id),      -- assigned handling unit
    sign_due         INTEGER,
    close_due        INTEGER,
    dispatched_at    INTEGER,
    signed_at        INTEGER,
    replied_at       INTEGER,
    closed_at        INTEGER,
    extension_requested  INTEGER NOT NULL DEFAULT 0 CHECK (extension_requested IN (0, 1)),
    supervised       INTEGER NOT NULL DEFAULT 0 CHECK (supervised IN (0, 1)),
    overdue_sign     INTEGER NOT NULL DEFAULT 0 CHECK (overdue_sign IN (0, 1)),
    overdue_close    INTEGER NOT NULL DEFAULT 0 CHECK (overdue_close IN (0, 1)),
    escalation_step  INTEGER NOT NULL DEFAULT 0,
    redo_count       INTEGER NOT NULL DEFAULT 0,
    satisfaction     TEXT CHECK (satisfaction IN ('satisfied', 'mostly_satisfied', 'unsatisfied')),
    open311_token    TEXT UNIQUE,
    external_id      TEXT,                      -- id in a source platform (12345, grid app)
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1 -- optimistic concurrency: bump on every update
);
CREATE INDEX cases_status ON cases (status, updated_at);
CREATE INDEX cases_unit_status ON cases (unit_id, status);
CREATE INDEX cases_operator_status ON cases (operator_id, status);
CREATE INDEX cases_sign_due ON cases (status, sign_due);
CREATE INDEX cases_close_due ON cases (status, close_due);
CREATE INDEX cases_caller ON cases (caller_id, created_at);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_category_created ON cases (category_code, created_at);
CREATE INDEX cases_grid_created ON cases (grid_code, created_at);

-- Append-only history of a case: every transition and flag, with actor and time.
CREATE TABLE case_events (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    seq          INTEGER NOT NULL,              -- 1, 2, 3 ... within the case
    kind         TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT,
    actor_id     INTEGER REFERENCES users (id),
    unit_id      TEXT REFERENCES units (id),
    note         TEXT,
    detail       TEXT,                          -- JSON, event specific
    at           INTEGER NOT NULL,
    UNIQUE (case_id, seq)
);
CREATE INDEX case_events_kind_at ON case_events (kind, at);
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;

CREATE TABLE follow_ups (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    actor_id      INTEGER REFERENCES users (id),
    satisfaction  TEXT NOT NULL CHECK (satisfaction IN ('satisfied', 'mostly_satisfied',
                      'unsatisfied')),
    comment       TEXT,
    at            INTEGER NOT NULL
);
CREATE INDEX follow_ups_case ON follow_ups (case_id, at);
CREATE INDEX follow_ups_at ON follow_ups (at);

-- Directories ------------------------------------------------------------------------

CREATE TABLE directory_entries (
    id             INTEGER PRIMARY KEY,
    system         TEXT NOT NULL CHECK (system IN ('government_services', 'welfare_facilities',
                       'social_organizations', 'market_providers')),
    name           TEXT NOT NULL,
    category       TEXT,
    phone          TEXT,
    address        TEXT,
    grid_code      TEXT REFERENCES grid_units (code),
    description    TEXT,
    qualification  TEXT,
    status         TEXT NOT NULL DEFAULT 'active',
    unit_id        TEXT REFERENCES units (id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX directory_system_category ON directory_entries (system, category);
CREATE INDEX directory_grid ON directory_entries (grid_code);
CREATE INDEX directory_name ON directory_entries (name);
CREATE INDEX directory_unit ON directory_entries (unit_id);

-- Vulnerable households (personal data: masked unless the role needs it; reads audited).
CREATE TABLE households (
    id          INTEGER PRIMARY KEY,
    head_name   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('dibao', 'extreme_poverty', 'entitled',
                    'disabled', 'elderly_alone', 'left_behind_child', 'other')),
    grid_code   TEXT REFERENCES grid_units (code),
    phone       TEXT,
    id_number   TEXT,
    members     INTEGER,
    address     TEXT,
    notes       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX households_grid ON households (grid_code, kind);
CREATE INDEX households_kind ON households (kind);

CREATE TABLE cameras (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    platform_id  TEXT REFERENCES platforms (id),
    grid_code    TEXT REFERENCES grid_units (code),
    lat          REAL,
    lon          REAL,
    status       TEXT NOT NULL DEFAULT 'active',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX cameras_grid ON cameras (grid_code);

-- Audit, outbox, job leases ----------------------------------------------------------

-- Append-only: who did or read what, when.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    actor_id    INTEGER REFERENCES users (id),
    actor_name  TEXT,
    action      TEXT NOT NULL,
    target      TEXT,
    at          INTEGER NOT NULL,
    detail      TEXT                            -- JSON
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_target ON audit_log (target, at);
CREATE INDEX audit_log_action ON audit_log (action, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Transactional outbox: written in the same transaction as the change it announces.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    topic            TEXT NOT NULL,             -- e.g. police.transfer, case.dispatched
    payload          TEXT NOT NULL,             -- JSON
    created_at       INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    delivered_at     INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX outbox_topic ON outbox (topic, created_at);

-- Background job leases: a job runs only where holder owns an unexpired lease.
CREATE TABLE job_leases (
    name         TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,
    lease_until  INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
