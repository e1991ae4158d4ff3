-- The catalog without a kind filter lists published products newest first (see the SQLite twin
-- of this migration for the measurement behind it).
CREATE INDEX products_newest ON products (status, published_at DESC, id DESC);
