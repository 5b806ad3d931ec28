-- Early warning (sqlite). Mirror of migrations/postgres/0080_alerts.sql. Never edit once merged.
-- An alert: what a detector found (a surge of one category in one area, or a space-time
-- cluster), with its figures and its lifecycle: new → acknowledged → dispatched (a proactive
-- case to the responsible unit) → resolved, or dismissed with a reason (kept, so the precision
-- of each method can be measured). `key` makes detection idempotent: a later tick, or another
-- m110d, updates the same alert instead of raising it again.
CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    key              TEXT NOT NULL UNIQUE,
    method           TEXT NOT NULL,
    category_code    TEXT REFERENCES categories (code),
    area_code        TEXT REFERENCES grid_units (code),
    grid_codes       TEXT NOT NULL,             -- JSON array of the grid units concerned
    start_day        TEXT NOT NULL,             -- YYYY-MM-DD (Asia/Shanghai)
    end_day          TEXT NOT NULL,
    detected_on      TEXT NOT NULL,
    observed         INTEGER NOT NULL,
    expected         REAL NOT NULL,
    statistic        REAL NOT NULL,
    p_value          REAL,
    recurrence_days  REAL,
    curve            TEXT NOT NULL,             -- JSON: [[day, observed, expected], ...]
    state            TEXT NOT NULL CHECK (state IN ('new', 'acknowledged', 'dispatched',
                         'resolved', 'dismissed')),
    case_id          INTEGER REFERENCES cases (id),
    reason           TEXT,
    acted_by         INTEGER REFERENCES users (id),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX alerts_state ON alerts (state, created_at);
CREATE INDEX alerts_detected ON alerts (detected_on);
