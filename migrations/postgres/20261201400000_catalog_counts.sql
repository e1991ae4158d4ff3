-- The catalog's counts per kind, kept by a trigger on products (see the SQLite twin of this
-- migration for why).
CREATE TABLE catalog_counts (
    kind      TEXT   PRIMARY KEY,
    published BIGINT NOT NULL
);
INSERT INTO catalog_counts (kind, published)
SELECT kind, COUNT(*) FROM products WHERE status = 'published' GROUP BY kind;

CREATE FUNCTION catalog_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status
        AND OLD.kind IS NOT DISTINCT FROM NEW.kind THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'published' THEN
        UPDATE catalog_counts SET published = published - 1 WHERE kind = OLD.kind;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'published' THEN
        INSERT INTO catalog_counts (kind, published) VALUES (NEW.kind, 1)
        ON CONFLICT (kind) DO UPDATE SET published = catalog_counts.published + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER catalog_counts_follow AFTER INSERT OR DELETE OR UPDATE OF status, kind ON products
FOR EACH ROW EXECUTE FUNCTION catalog_counts_follow();

DROP INDEX products_catalog;
CREATE INDEX products_kind_newest ON products (status, kind, published_at DESC, id DESC);
