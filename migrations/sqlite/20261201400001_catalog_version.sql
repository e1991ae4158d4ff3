-- The catalog's version: any change to products or to a creator's name bumps it, and the
-- server's cache of rendered catalog pages (page_cache.rs) keeps a page only while the version
-- it was rendered at is current, on every replica.
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE TRIGGER catalog_version_insert AFTER INSERT ON products
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER catalog_version_update AFTER UPDATE ON products
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER catalog_version_delete AFTER DELETE ON products
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER catalog_version_creator AFTER UPDATE OF display_name ON creators
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
