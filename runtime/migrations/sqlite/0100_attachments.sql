-- Attachments (sqlite). Mirror of migrations/postgres/0100_attachments.sql. Never edit once merged.
-- Photos and documents on cases (at intake, with a unit's reply, with a grid worker's patrol
-- report). The bytes live in the blob store (the install's attachments/ directory or an
-- S3-compatible bucket) under `sha256`, the hex SHA-256 of the stored bytes — photos with their
-- location metadata already stripped, so only that copy exists. UNIQUE (case_id, sha256): the
-- same bytes attached twice to a case (a retried upload) are one attachment.
CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    sha256        TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    filename      TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
    stage         TEXT NOT NULL CHECK (stage IN ('intake', 'reply', 'patrol')),
    thumb_sha256  TEXT,                        -- a photo's JPEG thumbnail, in the same store
    width         INTEGER,
    height        INTEGER,
    uploaded_by   INTEGER REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    UNIQUE (case_id, sha256)
);
CREATE INDEX attachments_sha256 ON attachments (sha256);
