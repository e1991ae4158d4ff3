-- Full-text search over product titles and descriptions (the SQLite schema uses FTS5).
-- The 'simple' configuration lowercases every word and stems none, like FTS5's unicode61
-- tokenizer; catalog.rs queries it with prefix terms ('word':*). Kept in step by Postgres itself
-- (a generated column).
ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', title || ' ' || description)
) STORED;

CREATE INDEX products_search ON products USING GIN (search);
