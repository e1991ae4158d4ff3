-- License keys (issue #19): per product, none, generated from a pattern the creator picks, or
-- drawn from a pool the creator uploads. Each granted order gets at most one key (UNIQUE
-- order_id), issued in the ledger's grant transaction; a refund disables it in the revoke
-- transaction. An order granted while its pool was empty waits in `license_waits` and gets a
-- key when the creator adds some. Times are Unix seconds.
ALTER TABLE products ADD COLUMN license_mode TEXT NOT NULL DEFAULT 'none'
    CHECK (license_mode IN ('none', 'generated', 'pool'));
-- The pattern of generated keys: `X` is a random character, anything else stays.
ALTER TABLE products ADD COLUMN license_format TEXT;

CREATE TABLE license_keys (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id       INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    code             TEXT    NOT NULL CHECK (length(code) BETWEEN 1 AND 200),
    source           TEXT    NOT NULL CHECK (source IN ('generated', 'pool')),
    -- NULL while a pool key waits to be issued.
    order_id         INTEGER UNIQUE REFERENCES orders (id),
    created_at       INTEGER NOT NULL,
    issued_at        INTEGER,
    -- Set by the refund of its order.
    disabled_at      INTEGER,
    -- Verifications through the public endpoint.
    uses             INTEGER NOT NULL DEFAULT 0,
    last_verified_at INTEGER,
    UNIQUE (product_id, code)
);
CREATE INDEX license_keys_pool ON license_keys (product_id, id) WHERE order_id IS NULL;

CREATE TABLE license_waits (
    order_id   INTEGER PRIMARY KEY REFERENCES orders (id),
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    since      INTEGER NOT NULL
);
CREATE INDEX license_waits_product ON license_waits (product_id, since, order_id);
