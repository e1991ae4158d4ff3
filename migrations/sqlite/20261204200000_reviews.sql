-- Reviews (issue #19): one per buyer and product, editable; the creator replies once and may hide
-- one. A review counts (average, count, distribution, the catalog's order) while it is not hidden
-- and its author still has a paid order of the product: a refund takes the rating off.
-- The counted figures are kept on the product (`reviews::RECOUNT`), so that cards show them and
-- the catalog sorts by them from an index at any size. Times are Unix seconds.
CREATE TABLE reviews (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body       TEXT    NOT NULL DEFAULT '',
    body_html  TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    reply      TEXT,
    reply_html TEXT,
    replied_at INTEGER,
    hidden_at  INTEGER,
    UNIQUE (product_id, user_id)
);
CREATE INDEX reviews_newest ON reviews (product_id, created_at DESC, id DESC);

ALTER TABLE products ADD COLUMN rating_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN rating_sum   INTEGER NOT NULL DEFAULT 0;
-- The average × 100, rounded; 0 without reviews (the catalog's "top rated" order).
ALTER TABLE products ADD COLUMN rating_score INTEGER NOT NULL DEFAULT 0;
CREATE INDEX products_top_rated ON products (status, rating_score DESC, published_at DESC, id DESC);
CREATE INDEX products_kind_top_rated
    ON products (status, kind, rating_score DESC, published_at DESC, id DESC);
