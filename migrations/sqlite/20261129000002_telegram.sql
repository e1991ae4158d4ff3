-- Updates from Telegram, kept so each is handled once (webhook retries and long polling alike)
-- and none is lost when handling fails: an unhandled row is retried until it succeeds.
CREATE TABLE telegram_updates (
    update_id    INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,                  -- the update's JSON as received
    received_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    handled_at   INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,                           -- a handler's claim, so two never run at once
    last_error   TEXT
);
CREATE INDEX telegram_updates_pending ON telegram_updates (handled_at, update_id);

-- /paysupport requests (Telegram requires bots that take payments to answer them).
CREATE TABLE support_requests (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    chat_id    INTEGER NOT NULL,
    message    TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'closed')),
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
);

-- What a user may download. Granted by a payment, revoked by a refund (revoked_at set).
CREATE TABLE entitlements (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    granted_at INTEGER NOT NULL DEFAULT (unixepoch()),
    revoked_at INTEGER,
    UNIQUE (user_id, product_id)
);
CREATE INDEX entitlements_user ON entitlements (user_id, revoked_at);
