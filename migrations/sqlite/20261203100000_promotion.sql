-- Reach (issue #20): channels creators post to, the links they hand out or post (opened as
-- `startapp=r_<code>`), visits through them, and each buyer's last touch per creator, which a
-- new order takes as its attribution. Times are Unix seconds.
-- The same schema as migrations/postgres/20261203100000_promotion.sql.

CREATE TABLE creator_channels (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    creator_id INTEGER NOT NULL REFERENCES creators (user_id),
    chat_id    INTEGER NOT NULL,
    title      TEXT    NOT NULL,
    username   TEXT,
    linked_at  INTEGER NOT NULL,
    UNIQUE (creator_id, chat_id)
);

CREATE TABLE promo_links (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    code       TEXT    NOT NULL UNIQUE CHECK (length(code) BETWEEN 6 AND 32),
    creator_id INTEGER NOT NULL REFERENCES creators (user_id),
    -- Where the link lands: a product page, or the shop when NULL.
    product_id INTEGER REFERENCES products (id),
    label      TEXT    NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    -- A channel post's link: the channel and the message the bot posted.
    channel_id INTEGER REFERENCES creator_channels (id),
    message_id INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX promo_links_creator ON promo_links (creator_id);

-- One row per opening of the Mini App through a link: a reload of the same opening (same
-- signed auth_date) is not a second visit.
CREATE TABLE promo_visits (
    link_id   INTEGER NOT NULL REFERENCES promo_links (id),
    user_id   INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    PRIMARY KEY (link_id, user_id, opened_at)
);

CREATE TABLE promo_touches (
    user_id    INTEGER NOT NULL,
    creator_id INTEGER NOT NULL,
    link_id    INTEGER NOT NULL REFERENCES promo_links (id),
    touched_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, creator_id)
);

ALTER TABLE orders ADD COLUMN promo_link_id INTEGER REFERENCES promo_links (id);
CREATE INDEX orders_promo_link ON orders (promo_link_id);
