-- The catalog without a kind filter lists published products newest first. products_catalog
-- (status, kind, published_at) cannot give that order across kinds, so SQLite sorted every
-- published product for each page (a temp B-tree over 100,000 rows in the --large benchmark);
-- with this index it reads the first page in order and stops.
CREATE INDEX products_newest ON products (status, published_at DESC, id DESC);
