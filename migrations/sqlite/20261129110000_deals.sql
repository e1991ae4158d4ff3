-- Discount codes and pay-what-you-want prices (issue #7). Times are Unix seconds.

-- A creator's discount code, for one of their products or (product_id NULL) for all of them.
-- Codes are matched case-insensitively: stored upper-case, unique per creator.
CREATE TABLE discount_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    creator_id  INTEGER NOT NULL REFERENCES creators (user_id),
    product_id  INTEGER REFERENCES products (id),
    code        TEXT    NOT NULL CHECK (length(code) BETWEEN 3 AND 32),
    -- Exactly one of the two: a percentage off or whole Stars off the list price.
    percent_off INTEGER CHECK (percent_off BETWEEN 1 AND 99),
    stars_off   INTEGER CHECK (stars_off >= 1),
    -- NULL: no limit. `used` counts paid and refunded orders plus live reservations (pending
    -- orders); an order that expires or is cancelled gives its use back.
    max_uses    INTEGER CHECK (max_uses >= 1),
    used        INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
    expires_at  INTEGER,
    disabled_at INTEGER,
    created_at  INTEGER NOT NULL,
    CHECK ((percent_off IS NULL) <> (stars_off IS NULL)),
    UNIQUE (creator_id, code)
);

-- What the buyer was quoted: the list price, the code that lowered it (amount_stars stays the
-- amount charged), and whether the order still holds a use of that code.
ALTER TABLE orders ADD COLUMN list_price_stars INTEGER;
ALTER TABLE orders ADD COLUMN discount_code_id INTEGER REFERENCES discount_codes (id);
CREATE INDEX orders_discount_code ON orders (discount_code_id);

-- Pay what you want: set, the buyer picks any amount from this minimum up, and price_stars is
-- the suggested amount.
ALTER TABLE products ADD COLUMN min_price_stars INTEGER CHECK (min_price_stars >= 1);
