-- Stamped copies (issue #18): each PDF and EPUB a buyer downloads or is sent carries their name,
-- Telegram username and order id. Creators switch it off per product. A copy is made on the first
-- request and kept, one per buyer, file version and stamp line, in the private file area; the
-- original stays as uploaded.
-- The same schema as migrations/postgres/20261204500000_stamping.sql.

ALTER TABLE products ADD COLUMN stamp_copies INTEGER NOT NULL DEFAULT 1
    CHECK (stamp_copies IN (0, 1));

CREATE TABLE stamped_copies (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    file_id      INTEGER NOT NULL REFERENCES product_files (id) ON DELETE CASCADE,
    file_version INTEGER NOT NULL,
    -- Derived from the buyer, the file, its version and bytes, and the stamp line.
    storage_key  TEXT    NOT NULL UNIQUE,
    size_bytes   INTEGER NOT NULL CHECK (size_bytes >= 0),
    sha256       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX stamped_copies_file ON stamped_copies (file_id, user_id);
