-- Knowledge base (sqlite). Mirror of migrations/postgres/0120_knowledge.sql. Never edit once merged.
-- The answers the center gives to consultations (答疑解惑): the call-taker is shown the entries
-- nearest the request text and may answer and close the case on the call from one (the event
-- names the entry; `answered` counts them). Entries are retired (`active` = 0), never deleted: a
-- case answered from one keeps pointing at it. `valid_until` is the last day (Asia/Shanghai) the
-- answer holds; an expired entry is no longer suggested. `version` guards concurrent edits.
CREATE TABLE knowledge_entries (
    id             INTEGER PRIMARY KEY,
    question       TEXT NOT NULL,
    answer         TEXT NOT NULL,
    category_code  TEXT REFERENCES categories (code),
    source_unit    TEXT REFERENCES units (id),
    valid_until    TEXT,                       -- YYYY-MM-DD, included; NULL: no end
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    answered       INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL DEFAULT 1,
    created_by     INTEGER REFERENCES users (id),
    created_at     INTEGER NOT NULL,
    updated_by     INTEGER REFERENCES users (id),
    updated_at     INTEGER NOT NULL
);
CREATE INDEX knowledge_entries_active ON knowledge_entries (active, updated_at);
CREATE INDEX knowledge_entries_category ON knowledge_entries (category_code);
