-- Memberships: a product sold as a Telegram Stars subscription (createInvoiceLink with
-- subscription_period = 30 days). Telegram charges the buyer again at each period's end and sends
-- the bot a successful_payment with the same invoice payload, a new charge id and the new
-- subscription_expiration_date. Access lasts until that date (entitlements.expires_at); progress
-- is never deleted when it ends.

-- 'once': bought for good; 'monthly': a membership renewed every 30 days.
ALTER TABLE products ADD COLUMN billing TEXT NOT NULL DEFAULT 'once'
    CHECK (billing IN ('once', 'monthly'));

-- NULL: for good. Otherwise access ends at this Unix time (a membership's paid-up date).
ALTER TABLE entitlements ADD COLUMN expires_at BIGINT;

-- One subscription of a buyer to a product: made by the first charge of its order. A buyer who
-- lets one lapse and subscribes again gets a new row (and a new order).
CREATE TABLE memberships (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                BIGINT  NOT NULL REFERENCES users (id),
    product_id             BIGINT  NOT NULL REFERENCES products (id),
    -- The subscribing order: its public id is the payload every renewal carries.
    order_id               BIGINT  NOT NULL UNIQUE REFERENCES orders (id),
    -- The first charge's id names the subscription to editUserStarSubscription.
    subscription_charge_id TEXT    NOT NULL UNIQUE,
    amount_stars           BIGINT  NOT NULL CHECK (amount_stars > 0),
    started_at             BIGINT  NOT NULL,
    -- The latest subscription_expiration_date Telegram sent.
    expires_at             BIGINT  NOT NULL,
    -- Renewal turned off (by the buyer through the shop); access still runs to expires_at.
    canceled_at            BIGINT,
    -- Ended early: a charge of it was refunded.
    ended_at               BIGINT
);
CREATE INDEX memberships_buyer ON memberships (user_id, product_id);
CREATE INDEX memberships_product ON memberships (product_id, expires_at);

-- Every charge of a membership, first and renewals. The unique charge id is what makes a
-- repeated renewal update extend the membership once.
CREATE TABLE membership_charges (
    id                         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    membership_id              BIGINT  NOT NULL REFERENCES memberships (id),
    telegram_payment_charge_id TEXT    NOT NULL UNIQUE,
    amount_stars               BIGINT  NOT NULL,
    paid_at                    BIGINT  NOT NULL,
    -- The subscription_expiration_date this charge paid up to.
    expires_at                 BIGINT  NOT NULL,
    refunded_at                BIGINT
);
CREATE INDEX membership_charges_membership ON membership_charges (membership_id, paid_at);
