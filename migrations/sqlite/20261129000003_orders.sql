-- Orders paid in Telegram Stars, the delivery outbox, payments the shop could not match, and the
-- reconciliation cursor. Times are Unix seconds.
--
-- States: pending -> paid -> refunded, pending -> cancelled/expired. A payment that arrives for an
-- expired or cancelled order still marks it paid: the buyer's Stars were taken (see
-- server/src/payments/checkout.rs).
CREATE TABLE orders (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The invoice payload: random, unguessable, so a payload names exactly one order.
    public_id                  TEXT    NOT NULL UNIQUE CHECK (length(public_id) BETWEEN 16 AND 64),
    user_id                    INTEGER NOT NULL REFERENCES users (id),
    product_id                 INTEGER NOT NULL REFERENCES products (id),
    -- The price when the order was made; later price changes do not touch it.
    amount_stars               INTEGER NOT NULL CHECK (amount_stars > 0),
    status                     TEXT    NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'paid', 'refunded', 'cancelled', 'expired')),
    invoice_link               TEXT,
    -- Telegram's id of the charge: one charge pays at most one order.
    telegram_payment_charge_id TEXT    UNIQUE,
    created_at                 INTEGER NOT NULL DEFAULT (unixepoch()),
    paid_at                    INTEGER,
    refunded_at                INTEGER,
    expires_at                 INTEGER NOT NULL,
    CHECK (status NOT IN ('paid', 'refunded') OR telegram_payment_charge_id IS NOT NULL)
);
CREATE INDEX orders_buyer ON orders (user_id, product_id, status);
CREATE INDEX orders_stale ON orders (status, created_at);

-- Which order granted the entitlement, so a refund revokes only what it paid for.
ALTER TABLE entitlements ADD COLUMN order_id INTEGER REFERENCES orders (id);

-- Outbox of files to send to buyers' chats: one row per paid order, written in the same
-- transaction as the payment, worked off by any number of workers that claim rows by lease.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        INTEGER NOT NULL UNIQUE REFERENCES orders (id),
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT (unixepoch()),
    -- A worker's claim: the row is its own until locked_until, and only the holder of the token
    -- may record progress.
    locked_until    INTEGER,
    claim_token     TEXT,
    -- Content files already sent, in product_files id order, so a retry does not resend them.
    files_sent      INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      INTEGER NOT NULL DEFAULT (unixepoch()),
    sent_at         INTEGER
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

-- Stars the shop received but could not attach to an order it may fulfil: unknown payload,
-- an order already refunded or paid by another charge, a mismatched amount. Kept for review
-- (and a refund by hand); never granted twice thanks to the unique charge id.
CREATE TABLE unmatched_payments (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    telegram_payment_charge_id TEXT    NOT NULL UNIQUE,
    user_id                    INTEGER NOT NULL,
    invoice_payload            TEXT    NOT NULL,
    currency                   TEXT    NOT NULL,
    total_amount               INTEGER NOT NULL,
    order_id                   INTEGER REFERENCES orders (id),
    reason                     TEXT    NOT NULL,
    received_at                INTEGER NOT NULL DEFAULT (unixepoch()),
    refunded_at                INTEGER
);

-- How far reconciliation has read the bot's Star transactions (getStarTransactions offset).
CREATE TABLE reconcile_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    next_offset INTEGER NOT NULL DEFAULT 0 CHECK (next_offset >= 0),
    updated_at  INTEGER NOT NULL DEFAULT (unixepoch())
);
INSERT INTO reconcile_state (id, next_offset) VALUES (1, 0);
