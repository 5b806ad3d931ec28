-- Analytics rollups (postgres). Mirror of migrations/sqlite/0070_rollups.sql.
-- Never edit once merged.
-- Counts maintained at write time, in the transaction that changes a case (store::rollups):
-- one row per Asia/Shanghai day × hour × category × grid unit × handling unit × channel ×
-- caller profile × metric × duration bucket. Absent values are '' (a key column is never NULL,
-- so the primary key makes each combination one row). The caller profile is filled for the
-- 'received' metric only; 'bucket' is the duration bucket of 'sign_time' / 'close_time', else 0.
CREATE TABLE rollups (
    day         BIGINT NOT NULL,
    hour        BIGINT NOT NULL,
    category    TEXT NOT NULL,
    grid        TEXT NOT NULL,
    unit        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    gender      TEXT NOT NULL,
    age_band    TEXT NOT NULL,
    occupation  TEXT NOT NULL,
    metric      TEXT NOT NULL,
    bucket      BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (day, hour, category, grid, unit, channel, gender, age_band, occupation, metric,
                 bucket)
);
CREATE INDEX rollups_metric_day ON rollups (metric, day);

-- What each case contributes to the rollups now (its facts as JSON), and the caller profile as
-- it was when the case was taken: a write subtracts the old facts and adds the new ones.
CREATE TABLE case_facts (
    case_id     BIGINT NOT NULL PRIMARY KEY REFERENCES cases (id),
    category    TEXT NOT NULL,
    grid        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    gender      TEXT NOT NULL,
    age_band    TEXT NOT NULL,
    occupation  TEXT NOT NULL,
    facts       TEXT NOT NULL
);
