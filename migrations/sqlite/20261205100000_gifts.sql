-- Gifts (issue #19): a buyer pays for a product for somebody else. The order is the payer's (it is
-- their charge, and a refund returns it to them); what it grants waits in `gifts` until a friend
-- claims it with the gift's code, and then goes to the friend.
-- The same schema as migrations/postgres/20261205100000_gifts.sql.

ALTER TABLE orders ADD COLUMN gift INTEGER NOT NULL DEFAULT 0 CHECK (gift IN (0, 1));

-- A gift and a purchase of the same product are two offers: one live order of each.
DROP INDEX orders_one_live_per_offer;
CREATE UNIQUE INDEX orders_one_live_per_offer
    ON orders (user_id, product_id, amount_stars, (COALESCE(discount_code_id, 0)), gift)
    WHERE status = 'pending';

CREATE TABLE gifts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Made by the ledger in the transaction that records the gift order's payment.
    order_id     INTEGER NOT NULL UNIQUE REFERENCES orders (id),
    -- The secret in the gift link (`startapp=g_<code>`): whoever holds it may claim.
    code         TEXT    NOT NULL UNIQUE CHECK (length(code) BETWEEN 16 AND 60),
    created_at   INTEGER NOT NULL,
    claimed_by   INTEGER REFERENCES users (id),
    claimed_at   INTEGER,
    -- A refund before the claim cancels the gift; after it, the ledger revokes the friend's access.
    cancelled_at INTEGER,
    CHECK ((claimed_by IS NULL) = (claimed_at IS NULL)),
    CHECK (claimed_by IS NULL OR cancelled_at IS NULL)
);
-- "Does this friend hold a claimed gift of it?" (a refund's hand-over, review eligibility).
CREATE INDEX gifts_claimed_by ON gifts (claimed_by) WHERE claimed_by IS NOT NULL;
