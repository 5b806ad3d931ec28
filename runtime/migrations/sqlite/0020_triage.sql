-- Triage (SQLite). Mirror of migrations/postgres/0020_triage.sql. Never edit once merged.
-- The emergency line a case was handed to, and the classifier models retrained from the
-- install's own closed cases (the newest one is in force).

ALTER TABLE cases ADD COLUMN emergency_line TEXT CHECK (emergency_line IN ('110', '119', '120', '122'));

CREATE TABLE triage_models (
    id          INTEGER PRIMARY KEY,
    trained_at  INTEGER NOT NULL,
    examples    INTEGER NOT NULL,              -- labelled documents (bank plus cases)
    cases       INTEGER NOT NULL,              -- of which install cases
    corrected   INTEGER NOT NULL,              -- of which an operator corrected
    stats       TEXT NOT NULL,                 -- JSON: cross-validated accuracy, NLL
    model       TEXT NOT NULL                  -- JSON: the naive Bayes counts and temperature
);
CREATE INDEX triage_models_trained_at ON triage_models (trained_at);
