-- Proof of delivery: every download a buyer makes (who, what, when, how many bytes).
CREATE TABLE downloads (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    product_id   INTEGER NOT NULL REFERENCES products (id),
    file_id      INTEGER NOT NULL REFERENCES product_files (id),
    status       INTEGER NOT NULL,                  -- 200, or 206 for a byte range
    range_header TEXT,
    bytes        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX downloads_product ON downloads (product_id, created_at);
CREATE INDEX downloads_user ON downloads (user_id, created_at);
