-- One ledger of Star charges: every charge the shop has heard of, whatever it paid for (an
-- order, a membership's period, a tip), under Telegram's unique charge id. Applying a payment or
-- a refund starts and ends here (server/src/payments/ledger.rs), so a charge is granted at most
-- once, and a charge that cannot be granted is refunded by rule or held for a person, never kept
-- silently.
--
-- state: granted (it paid its subject), held (a person decides: refund or grant; reason says
-- why), refund_due (it grants nothing and goes back by rule; reason says why), refunded (the
-- Stars went back). A refund heard before its payment makes a refunded row with no paid_at.
CREATE TABLE star_charges (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    charge_id               TEXT    NOT NULL UNIQUE,
    kind                    TEXT    NOT NULL
                            CHECK (kind IN ('purchase', 'membership', 'tip', 'unknown')),
    -- orders.id (purchase, membership) or tips.id; NULL when the payload names nothing.
    subject_id              INTEGER,
    payload                 TEXT    NOT NULL,
    payer_id                INTEGER  NOT NULL,
    currency                TEXT    NOT NULL DEFAULT 'XTR',
    amount_stars            INTEGER  NOT NULL,
    -- Telegram's transaction detail when it is known: fractions of a Star, and an affiliate
    -- program's share (JSON of TransactionPartnerAffiliateProgram / AffiliateInfo).
    nanostar_amount         INTEGER,
    affiliate               TEXT,
    -- A subscription charge: the end of the period it paid.
    subscription_expires_at INTEGER,
    paid_at                 INTEGER,
    refunded_at             INTEGER,
    -- How the shop learnt of the charge: a Telegram update (webhook or long polling) or the
    -- bot's Star transactions (reconciliation).
    source                  TEXT    NOT NULL CHECK (source IN ('webhook', 'reconciliation')),
    state                   TEXT    NOT NULL
                            CHECK (state IN ('granted', 'held', 'refund_due', 'refunded')),
    reason                  TEXT,
    -- Who settled a held charge, and when.
    resolved_by             INTEGER,
    resolved_at             INTEGER,
    created_at              INTEGER  NOT NULL DEFAULT (unixepoch()),
    CHECK (state NOT IN ('held', 'refund_due') OR reason IS NOT NULL),
    CHECK (state <> 'refunded' OR refunded_at IS NOT NULL)
);
CREATE INDEX star_charges_subject ON star_charges (kind, subject_id);
CREATE INDEX star_charges_state ON star_charges (state, id);

-- What the kinds recorded before: one-time orders (a membership's first charge is also its
-- order's; it is listed below with the membership's charges).
INSERT INTO star_charges (charge_id, kind, subject_id, payload, payer_id, amount_stars,
                          paid_at, refunded_at, source, state)
SELECT o.telegram_payment_charge_id,
       CASE WHEN p.billing = 'monthly' THEN 'membership' ELSE 'purchase' END,
       o.id, o.public_id, o.user_id, o.amount_stars, o.paid_at,
       CASE WHEN o.status = 'refunded' THEN COALESCE(o.refunded_at, o.paid_at, o.created_at) END,
       'webhook', CASE WHEN o.status = 'refunded' THEN 'refunded' ELSE 'granted' END
FROM orders o JOIN products p ON p.id = o.product_id
WHERE o.telegram_payment_charge_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM membership_charges c
                  WHERE c.telegram_payment_charge_id = o.telegram_payment_charge_id);

INSERT INTO star_charges (charge_id, kind, subject_id, payload, payer_id, amount_stars,
                          subscription_expires_at, paid_at, refunded_at, source, state)
SELECT c.telegram_payment_charge_id, 'membership', m.order_id, o.public_id, m.user_id,
       c.amount_stars, c.expires_at, c.paid_at, c.refunded_at, 'webhook',
       CASE WHEN c.refunded_at IS NOT NULL THEN 'refunded' ELSE 'granted' END
FROM membership_charges c JOIN memberships m ON m.id = c.membership_id
JOIN orders o ON o.id = m.order_id;

INSERT INTO star_charges (charge_id, kind, subject_id, payload, payer_id, amount_stars,
                          paid_at, refunded_at, source, state)
SELECT t.telegram_payment_charge_id, 'tip', t.id, t.public_id, t.user_id, t.amount_stars,
       t.paid_at,
       CASE WHEN t.status = 'refunded' THEN COALESCE(t.refunded_at, t.paid_at, t.created_at) END,
       'webhook', CASE WHEN t.status = 'refunded' THEN 'refunded' ELSE 'granted' END
FROM tips t
WHERE t.telegram_payment_charge_id IS NOT NULL;

-- Charges kept for review before the ledger: held with their reason (or refunded, if they were).
INSERT INTO star_charges (charge_id, kind, subject_id, payload, payer_id, currency,
                          amount_stars, paid_at, refunded_at, source, state, reason)
SELECT u.telegram_payment_charge_id,
       CASE WHEN u.order_id IS NOT NULL THEN
                (SELECT CASE WHEN p.billing = 'monthly' THEN 'membership' ELSE 'purchase' END
                 FROM orders o JOIN products p ON p.id = o.product_id WHERE o.id = u.order_id)
            WHEN t.id IS NOT NULL THEN 'tip'
            ELSE 'unknown' END,
       COALESCE(u.order_id, t.id), u.invoice_payload, u.user_id, u.currency, u.total_amount,
       u.received_at, u.refunded_at, 'webhook',
       CASE WHEN u.refunded_at IS NOT NULL THEN 'refunded' ELSE 'held' END, u.reason
FROM unmatched_payments u LEFT JOIN tips t ON t.public_id = u.invoice_payload
WHERE u.telegram_payment_charge_id IS NOT NULL
ON CONFLICT (charge_id) DO NOTHING;

DROP TABLE unmatched_payments;
