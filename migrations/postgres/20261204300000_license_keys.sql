-- License keys (issue #19; the same schema as the SQLite twin): per product, none, generated from a pattern the creator picks, or
-- drawn from a pool the creator uploads. Each granted order gets at most one key (UNIQUE
-- order_id), issued in the ledger's grant transaction; a refund disables it in the revoke
-- transaction. An order granted while its pool was empty waits in `license_waits` and gets a
-- key when the creator adds some. Times are Unix seconds.
ALTER TABLE products ADD COLUMN license_mode TEXT NOT NULL DEFAULT 'none'
    CHECK (license_mode IN ('none', 'generated', 'pool'));
-- The pattern of generated keys: `X` is a random character, anything else stays.
ALTER TABLE products ADD COLUMN license_format TEXT;

CREATE TABLE license_keys (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id       BIGINT  NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    code             TEXT    NOT NULL CHECK (length(code) BETWEEN 1 AND 200),
    source           TEXT    NOT NULL CHECK (source IN ('generated', 'pool')),
    -- NULL while a pool key waits to be issued.
    order_id         BIGINT  UNIQUE REFERENCES orders (id),
    created_at       BIGINT  NOT NULL,
    issued_at        BIGINT,
    -- Set by the refund of its order.
    disabled_at      BIGINT,
    -- Verifications through the public endpoint.
    uses             BIGINT  NOT NULL DEFAULT 0,
    last_verified_at BIGINT,
    UNIQUE (product_id, code)
);
CREATE INDEX license_keys_pool ON license_keys (product_id, id) WHERE order_id IS NULL;

CREATE TABLE license_waits (
    order_id   BIGINT PRIMARY KEY REFERENCES orders (id),
    product_id BIGINT  NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    since      BIGINT  NOT NULL
);
CREATE INDEX license_waits_product ON license_waits (product_id, since, order_id);
