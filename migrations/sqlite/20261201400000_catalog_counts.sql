-- The catalog shows how many products match. Counting them per page read every published
-- product's index entry (100,000 in the --large benchmark: the page's cost grew with the
-- catalog). The counts per kind are kept here instead, by triggers on products, so they stay
-- exact whoever writes products (the studio, the seed, SQL by hand) and on every replica.
CREATE TABLE catalog_counts (
    kind      TEXT    PRIMARY KEY,
    published INTEGER NOT NULL
);
INSERT INTO catalog_counts (kind, published)
SELECT kind, COUNT(*) FROM products WHERE status = 'published' GROUP BY kind;

CREATE TRIGGER catalog_counts_insert AFTER INSERT ON products WHEN NEW.status = 'published'
BEGIN
    INSERT INTO catalog_counts (kind, published) VALUES (NEW.kind, 1)
    ON CONFLICT (kind) DO UPDATE SET published = published + 1;
END;

CREATE TRIGGER catalog_counts_delete AFTER DELETE ON products WHEN OLD.status = 'published'
BEGIN
    UPDATE catalog_counts SET published = published - 1 WHERE kind = OLD.kind;
END;

CREATE TRIGGER catalog_counts_update AFTER UPDATE OF status, kind ON products
WHEN OLD.status IS NOT NEW.status OR OLD.kind IS NOT NEW.kind
BEGIN
    UPDATE catalog_counts SET published = published - 1
    WHERE kind = OLD.kind AND OLD.status = 'published';
    INSERT INTO catalog_counts (kind, published) SELECT NEW.kind, 1 WHERE NEW.status = 'published'
    ON CONFLICT (kind) DO UPDATE SET published = published + 1;
END;

-- One kind, newest first, in index order: products_catalog lacked the id that breaks ties, so
-- SQLite sorted the tail of each page itself.
DROP INDEX products_catalog;
CREATE INDEX products_kind_newest ON products (status, kind, published_at DESC, id DESC);
