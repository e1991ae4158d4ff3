-- The catalog's version, bumped once per statement that changes products or a creator's name
-- (see the SQLite twin).
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE FUNCTION catalog_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER catalog_version_products AFTER INSERT OR UPDATE OR DELETE ON products
FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_bump();
CREATE TRIGGER catalog_version_creators AFTER UPDATE OF display_name ON creators
FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_bump();
