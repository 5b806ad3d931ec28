-- provider_admissions.unit_id NOT NULL on SQLite (sqlite). Mirror of
-- migrations/postgres/0160_provider_admissions_key.sql. Never edit once merged.
-- A TEXT primary key admits NULL on SQLite (PostgreSQL's does not); 0110 as released left the
-- NOT NULL out, so the table is rebuilt with it. A row without a unit admits nobody and is not
-- carried over. No table or index refers to provider_admissions.
CREATE TABLE provider_admissions_keyed (
    unit_id           TEXT NOT NULL PRIMARY KEY REFERENCES units (id),
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
INSERT INTO provider_admissions_keyed
    SELECT unit_id, qualification, valid_from, valid_until, lat, lon, suspended_at,
           suspended_reason, suspended_by, last_offer_at, updated_by, updated_at
    FROM provider_admissions WHERE unit_id IS NOT NULL;
DROP TABLE provider_admissions;
ALTER TABLE provider_admissions_keyed RENAME TO provider_admissions;
