-- Discount codes and pay-what-you-want prices (issue #7). Times are Unix seconds.
-- The same schema as migrations/sqlite/20261129110000_deals.sql.

CREATE TABLE discount_codes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    creator_id  BIGINT NOT NULL REFERENCES creators (user_id),
    product_id  BIGINT REFERENCES products (id),
    code        TEXT   NOT NULL CHECK (length(code) BETWEEN 3 AND 32),
    percent_off BIGINT CHECK (percent_off BETWEEN 1 AND 99),
    stars_off   BIGINT CHECK (stars_off >= 1),
    max_uses    BIGINT CHECK (max_uses >= 1),
    used        BIGINT NOT NULL DEFAULT 0 CHECK (used >= 0),
    expires_at  BIGINT,
    disabled_at BIGINT,
    created_at  BIGINT NOT NULL,
    CHECK ((percent_off IS NULL) <> (stars_off IS NULL)),
    UNIQUE (creator_id, code)
);

ALTER TABLE orders ADD COLUMN list_price_stars BIGINT;
ALTER TABLE orders ADD COLUMN discount_code_id BIGINT REFERENCES discount_codes (id);
CREATE INDEX orders_discount_code ON orders (discount_code_id);

ALTER TABLE products ADD COLUMN min_price_stars BIGINT CHECK (min_price_stars >= 1);
