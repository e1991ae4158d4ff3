-- Full-text search over product titles and descriptions. Unicode-aware (Cyrillic folds case too,
-- which LIKE does not), kept in step with `products` by triggers.
CREATE VIRTUAL TABLE products_search USING fts5 (
    title,
    description,
    content = 'products',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO products_search (rowid, title, description) SELECT id, title, description FROM products;

CREATE TRIGGER products_search_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_search (rowid, title, description) VALUES (new.id, new.title, new.description);
END;

CREATE TRIGGER products_search_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_search (products_search, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
END;

CREATE TRIGGER products_search_update AFTER UPDATE OF title, description ON products BEGIN
    INSERT INTO products_search (products_search, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
    INSERT INTO products_search (rowid, title, description) VALUES (new.id, new.title, new.description);
END;
