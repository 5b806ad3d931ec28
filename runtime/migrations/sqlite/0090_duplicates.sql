-- 一事多诉 (sqlite). Mirror of migrations/postgres/0090_duplicates.sql. Never edit once merged.
-- What the center decided about a suggested near-duplicate: `merged` — the child case is one
-- problem with the parent (it closes with it; its caller is followed up on its own); a child has
-- one parent at most, and a parent is never itself a child (the engine keeps the tree one level
-- deep) — or `dismissed` — not the same problem, never suggested again (either way round).
-- The case timelines carry the events; this table is what the engine reads.
CREATE TABLE case_links (
    id         INTEGER PRIMARY KEY,
    child_id   INTEGER NOT NULL REFERENCES cases (id),
    parent_id  INTEGER NOT NULL REFERENCES cases (id),
    kind       TEXT NOT NULL CHECK (kind IN ('merged', 'dismissed')),
    actor_id   INTEGER REFERENCES users (id),
    note       TEXT,
    at         INTEGER NOT NULL,
    CHECK (child_id <> parent_id),
    UNIQUE (child_id, parent_id)
);
CREATE UNIQUE INDEX case_links_one_parent ON case_links (child_id) WHERE kind = 'merged';
CREATE INDEX case_links_parent ON case_links (parent_id, kind);
