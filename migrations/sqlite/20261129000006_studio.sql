-- The creator studio: invites that make a user a creator, file versions, and tips.
-- A creator is a row in `creators`; admins come from configuration (ADMIN_IDS).

-- One-time invite links (`/start inv_<token>`) an admin hands to a future creator.
CREATE TABLE creator_invites (
    token      TEXT    PRIMARY KEY CHECK (length(token) BETWEEN 16 AND 64),
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    used_by    INTEGER REFERENCES users (id),
    used_at    INTEGER
);

-- A product file is replaced in place (buyers keep the same file id, so they get the new
-- version); every version, the current one included, is kept here for the record.
ALTER TABLE product_files ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TABLE product_file_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id     INTEGER NOT NULL REFERENCES product_files (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    file_name   TEXT    NOT NULL,
    mime_type   TEXT    NOT NULL,
    size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),
    sha256      TEXT    NOT NULL,
    storage_key TEXT    NOT NULL,
    created_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    UNIQUE (file_id, version)
);

-- "Support the creator": Stars paid through the same invoice flow as orders, under their own
-- payload (`tip_…`). Not an entitlement: a tip buys nothing.
CREATE TABLE tips (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id                  TEXT    NOT NULL UNIQUE CHECK (length(public_id) BETWEEN 16 AND 64),
    user_id                    INTEGER NOT NULL REFERENCES users (id),
    creator_id                 INTEGER NOT NULL REFERENCES creators (user_id),
    -- The product page the tip came from, if any.
    product_id                 INTEGER REFERENCES products (id),
    amount_stars               INTEGER NOT NULL CHECK (amount_stars > 0),
    status                     TEXT    NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'paid', 'refunded', 'expired')),
    invoice_link               TEXT,
    telegram_payment_charge_id TEXT    UNIQUE,
    created_at                 INTEGER NOT NULL DEFAULT (unixepoch()),
    paid_at                    INTEGER,
    refunded_at                INTEGER,
    expires_at                 INTEGER NOT NULL
);
CREATE INDEX tips_creator ON tips (creator_id, status, paid_at);

-- The sales dashboard reads a creator's orders by product and time.
CREATE INDEX orders_product ON orders (product_id, status, paid_at);
