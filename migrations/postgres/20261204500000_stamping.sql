-- Stamped copies (issue #18): each PDF and EPUB a buyer downloads or is sent carries their name,
-- Telegram username and order id. Creators switch it off per product. A copy is made on the first
-- request and kept, one per buyer, file version and stamp line, in the private file area; the
-- original stays as uploaded.
-- The same schema as migrations/sqlite/20261204500000_stamping.sql.

ALTER TABLE products ADD COLUMN stamp_copies BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE stamped_copies (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users (id),
    file_id      BIGINT  NOT NULL REFERENCES product_files (id) ON DELETE CASCADE,
    file_version BIGINT  NOT NULL,
    -- Derived from the buyer, the file, its version and bytes, and the stamp line.
    storage_key  TEXT    NOT NULL UNIQUE,
    size_bytes   BIGINT  NOT NULL CHECK (size_bytes >= 0),
    sha256       TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX stamped_copies_file ON stamped_copies (file_id, user_id);
