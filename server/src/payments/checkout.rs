//! The money moments: answering `pre_checkout_query`, applying `successful_payment` and
//! `refunded_payment`. Webhook, long polling and reconciliation all arrive here, so each
//! application is one transaction keyed by Telegram's unique charge id.

use tgbot::types::{AnswerPreCheckoutQuery, PreCheckoutQuery, RefundedPayment, SuccessfulPayment};

use super::{api_error, unix_now, PaymentError, CURRENCY};
use crate::db::Db;
use crate::telegram::bot::Bot;

/// Why a pre-checkout query is declined; each reason has the message the buyer sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decline {
    UnknownOrder,
    WrongCurrency,
    AlreadyPaid,
    Expired,
    OtherPayer,
    PriceChanged,
    NotOnSale,
    AlreadyOwned,
    /// The order's discount code was switched off, expired, or does not fit the product.
    CodeDisabled,
    CodeExpired,
    CodeOtherProduct,
    /// The database did not answer: better to ask the buyer to retry than to take money the
    /// shop cannot record.
    Unavailable,
}

impl Decline {
    pub fn message(self) -> &'static str {
        match self {
            // The same words as before orders existed: clients and tests rely on them.
            Decline::UnknownOrder => {
                "This invoice is not known to the shop. Please start again from the catalog."
            }
            Decline::WrongCurrency => "This invoice must be paid in Telegram Stars.",
            Decline::AlreadyPaid => "This order is already paid. Find it in your library.",
            Decline::Expired => {
                "This invoice has expired. Please start again from the product page."
            }
            Decline::OtherPayer => {
                "This invoice was made for another Telegram account. Please buy from your own."
            }
            Decline::PriceChanged => {
                "The amount does not match this order. Please start again from the product page."
            }
            Decline::NotOnSale => "Sorry, this product is no longer on sale.",
            Decline::AlreadyOwned => "You already own this product. Find it in your library.",
            Decline::CodeDisabled => {
                "This discount code is no longer active. Please start again from the product page."
            }
            Decline::CodeExpired => {
                "This discount code has expired. Please start again from the product page."
            }
            Decline::CodeOtherProduct => "This discount code does not apply to this product.",
            Decline::Unavailable => {
                "The shop cannot take payments right now. Please try again in a minute."
            }
        }
    }
}

#[derive(sqlx::FromRow)]
struct CheckoutRow {
    user_id: i64,
    amount_stars: i64,
    status: String,
    expires_at: i64,
    product_status: String,
    owned: bool,
    discount_code_id: Option<i64>,
}

/// Decides a pre-checkout query with one indexed query (order by unique payload, product by
/// primary key, entitlement by its unique pair): Telegram gives the bot 10 seconds.
pub async fn check_pre_checkout(db: &Db, query: &PreCheckoutQuery) -> Result<(), Decline> {
    if query.currency != CURRENCY {
        return Err(Decline::WrongCurrency);
    }
    if crate::studio::tips::is_tip(&query.invoice_payload) {
        return crate::studio::tips::check_pre_checkout(db, query).await;
    }
    let row: Option<CheckoutRow> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT o.user_id, o.amount_stars, o.status, o.expires_at, p.status AS product_status,
                o.discount_code_id,
                EXISTS (SELECT 1 FROM entitlements e
                        WHERE e.user_id = o.user_id AND e.product_id = o.product_id
                          AND e.revoked_at IS NULL
                          AND (e.expires_at IS NULL OR e.expires_at > $2)) AS owned
         FROM orders o JOIN products p ON p.id = o.product_id
         WHERE o.public_id = $1",
    )
    .bind(&query.invoice_payload)
    .bind(unix_now())
    .fetch_optional(pool)
    .await)
    .map_err(|err| {
        tracing::error!(error = %err, "pre-checkout lookup failed; declining");
        Decline::Unavailable
    })?;
    let Some(order) = row else {
        return Err(Decline::UnknownOrder);
    };
    match order.status.as_str() {
        "pending" => {}
        "paid" | "refunded" => return Err(Decline::AlreadyPaid),
        _ => return Err(Decline::Expired),
    }
    if order.expires_at <= unix_now() {
        return Err(Decline::Expired);
    }
    if i64::from(query.from.id) != order.user_id {
        return Err(Decline::OtherPayer);
    }
    if query.total_amount != order.amount_stars {
        return Err(Decline::PriceChanged);
    }
    if order.product_status != "published" {
        return Err(Decline::NotOnSale);
    }
    if order.owned {
        return Err(Decline::AlreadyOwned);
    }
    if order.discount_code_id.is_some() {
        super::discounts::check_pre_checkout(db, &query.invoice_payload, unix_now()).await?;
    }
    Ok(())
}

/// Answers a pre-checkout query: ok only for a payable order of the shop's own. The outer
/// `Result` is whether the answer reached Telegram; the inner one is the verdict.
pub async fn answer_pre_checkout(
    db: &Db,
    bot: &Bot,
    query: &PreCheckoutQuery,
) -> Result<Result<(), Decline>, PaymentError> {
    let verdict = check_pre_checkout(db, query).await;
    let answer = match verdict {
        Ok(()) => AnswerPreCheckoutQuery::ok(query.id.clone()),
        Err(decline) => AnswerPreCheckoutQuery::error(query.id.clone(), decline.message()),
    };
    match bot.call("answerPreCheckoutQuery", answer).await {
        Ok(_) => {}
        // Telegram refused the answer (the query expired or was answered): a retry of the
        // update cannot change that, so it is logged and settled. Network errors propagate and
        // the inbox retries while the buyer may still be waiting.
        Err(err) if api_error(&err).is_some() => {
            tracing::warn!(error = %err, query_id = %query.id, "pre-checkout answer refused");
        }
        Err(err) => return Err(err.into()),
    }
    Ok(verdict)
}

/// What a charge is, whichever way the shop learnt of it (an update or the Star ledger).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaymentFacts {
    pub payer: i64,
    pub charge_id: String,
    pub payload: String,
    pub currency: String,
    /// What the payer paid (`successful_payment.total_amount`); from the Star ledger, what the
    /// bot received (`StarTransaction.amount`), which is less when an affiliate took a share.
    pub total_amount: i64,
    /// The fraction of a Star beyond `total_amount` the bot received (Bot API
    /// `StarTransaction.nanostar_amount`, 0 to 999999999); 0 from an update.
    pub nanostar_amount: i64,
    /// The Telegram Star affiliate program's commission on this charge, known from the Star
    /// ledger only (Bot API `TransactionPartnerUser.affiliate`).
    pub affiliate: Option<AffiliateShare>,
    /// For a subscription's charge: the end of the period it paid (Telegram's
    /// `subscription_expiration_date`).
    pub subscription_expires_at: Option<i64>,
    /// `successful_payment.is_first_recurring`: the first charge of a subscription. `None`
    /// when the ledger told of the charge (it does not say).
    pub is_first_recurring: Option<bool>,
}

/// An affiliate's commission on a charge (Bot API `AffiliateInfo`): `amount` whole Stars
/// ("rounded to 0; can be negative for refunds") and `nanostar_amount` beyond them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AffiliateShare {
    /// `affiliate_user.id`, or `affiliate_chat.id` when a chat received the commission.
    pub affiliate_id: Option<i64>,
    pub commission_per_mille: i64,
    pub amount: i64,
    pub nanostar_amount: i64,
}

impl PaymentFacts {
    pub fn from_update(payer: i64, payment: &SuccessfulPayment) -> Self {
        PaymentFacts {
            payer,
            charge_id: payment.telegram_payment_charge_id.clone(),
            payload: payment.invoice_payload.clone(),
            currency: payment.currency.clone(),
            total_amount: payment.total_amount,
            nanostar_amount: 0,
            affiliate: None,
            subscription_expires_at: payment.subscription_expiration_date,
            is_first_recurring: payment.is_first_recurring,
        }
    }

    /// Whether the amount fits a price of `price` Stars. A charge an affiliate shared is
    /// smaller than the price by the commission, so it is matched by charge id, payload and
    /// payer alone.
    pub fn amount_matches(&self, price: i64) -> bool {
        self.affiliate.is_some() || self.total_amount == price
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The order is paid, the entitlement granted and the delivery queued.
    Granted { order_id: i64 },
    /// This charge was applied (or recorded) before; nothing changed.
    AlreadyApplied,
    /// Recorded in `unmatched_payments` for review; nothing granted.
    Unmatched { reason: &'static str },
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    user_id: i64,
    product_id: i64,
    amount_stars: i64,
    status: String,
    telegram_payment_charge_id: Option<String>,
}

/// Applies a `successful_payment` from `payer`.
pub async fn apply_payment(
    db: &Db,
    payer: i64,
    payment: &SuccessfulPayment,
) -> Result<Applied, PaymentError> {
    apply_payment_facts(db, &PaymentFacts::from_update(payer, payment)).await
}

/// The one code path for charges. In a single write transaction: the order pending → paid with
/// its charge id, the entitlement granted (or restored), the delivery enqueued.
///
/// Rules: a charge id seen before changes nothing. A charge for an order that is `expired` or
/// `cancelled` still pays it and grants: the buyer's Stars were taken, and Telegram only charges
/// after our pre-checkout said ok, so the order was pending then. A charge for an unknown payload,
/// a refunded order, an order paid by another charge, or with a different amount, payer or
/// currency is recorded in `unmatched_payments` for review and grants nothing.
pub async fn apply_payment_facts(db: &Db, facts: &PaymentFacts) -> Result<Applied, PaymentError> {
    // Tips travel the same path under their own payloads; they grant nothing.
    if crate::studio::tips::is_tip(&facts.payload) {
        return crate::studio::tips::apply_payment(db, facts).await;
    }
    // Memberships: a first charge and every renewal carry the paid period's end.
    if facts.subscription_expires_at.is_some() {
        return super::memberships::apply_charge(db, facts).await;
    }
    // IMMEDIATE takes the write lock up front, so two appliers of the same charge serialise
    // instead of both reading "unknown" and one failing on upgrade.
    crate::on_db!(db, |pool| {
        let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM orders WHERE telegram_payment_charge_id = $1)
             OR EXISTS (SELECT 1 FROM unmatched_payments WHERE telegram_payment_charge_id = $1)",
        )
        .bind(&facts.charge_id)
        .fetch_one(&mut *tx)
        .await?;
        if known {
            return Ok(Applied::AlreadyApplied);
        }
        let order: Option<OrderRow> = sqlx::query_as(
            "SELECT id, user_id, product_id, amount_stars, status, telegram_payment_charge_id
         FROM orders WHERE public_id = $1",
        )
        .bind(&facts.payload)
        .fetch_optional(&mut *tx)
        .await?;

        let mismatch = match &order {
            None => Some("unknown_payload"),
            Some(_) if facts.currency != CURRENCY => Some("wrong_currency"),
            Some(o) if o.status == "refunded" => Some("order_refunded"),
            Some(o) if o.status == "paid" || o.telegram_payment_charge_id.is_some() => {
                Some("order_paid_by_another_charge")
            }
            Some(o) if !facts.amount_matches(o.amount_stars) => Some("amount_mismatch"),
            Some(o) if o.user_id != facts.payer => Some("other_payer"),
            Some(_) => None,
        };
        if let Some(reason) = mismatch {
            sqlx::query(
            "INSERT INTO unmatched_payments
               (telegram_payment_charge_id, user_id, invoice_payload, currency, total_amount, order_id, reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&facts.charge_id)
        .bind(facts.payer)
        .bind(&facts.payload)
        .bind(&facts.currency)
        .bind(facts.total_amount)
        .bind(order.as_ref().map(|o| o.id))
        .bind(reason)
        .execute(&mut *tx)
        .await?;
            tx.commit().await?;
            tracing::warn!(charge_id = %facts.charge_id, reason, "payment recorded for review");
            return Ok(Applied::Unmatched { reason });
        }
        let Some(order) = order else {
            return Err(PaymentError::Corrupt("order vanished".into()));
        };

        let now = unix_now();
        super::discounts::retake_if_released(&mut tx, order.id).await?;
        sqlx::query(
            "UPDATE orders SET status = 'paid', telegram_payment_charge_id = $1, paid_at = $2
         WHERE id = $3 AND status IN ('pending', 'expired', 'cancelled')",
        )
        .bind(&facts.charge_id)
        .bind(now)
        .bind(order.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO entitlements (user_id, product_id, granted_at, order_id)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, product_id) DO UPDATE
           SET revoked_at = NULL, granted_at = excluded.granted_at, order_id = excluded.order_id",
        )
        .bind(order.user_id)
        .bind(order.product_id)
        .bind(now)
        .bind(order.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO deliveries (order_id, next_attempt_at) VALUES ($1, $2)
         ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(order.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Applied::Granted { order_id: order.id })
    })
}

/// A refund, from a `refunded_payment` message, the shop's own call, or the Star ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundFacts {
    pub charge_id: String,
    pub payload: String,
    pub total_amount: i64,
}

impl From<&RefundedPayment> for RefundFacts {
    fn from(refund: &RefundedPayment) -> Self {
        RefundFacts {
            charge_id: refund.telegram_payment_charge_id.clone(),
            payload: refund.invoice_payload.clone(),
            total_amount: refund.total_amount,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundApplied {
    /// The order is refunded and its entitlement revoked.
    Refunded { order_id: i64 },
    /// Applied before; nothing changed.
    AlreadyRefunded,
    /// A charge recorded in `unmatched_payments` was refunded (marked there).
    UnmatchedRefunded,
    /// No order or recorded payment has this charge.
    Unknown,
}

/// Applies a `refunded_payment` message.
pub async fn apply_refund(
    db: &Db,
    refund: &RefundedPayment,
) -> Result<RefundApplied, PaymentError> {
    apply_refund_facts(db, &RefundFacts::from(refund)).await
}

/// The one code path for refunds: order paid → refunded, its entitlement revoked and an unsent
/// delivery cancelled, in one transaction. A refund that arrives before its payment (updates
/// reordered) marks the still-pending order paid-then-refunded with the charge id, so the late
/// `successful_payment` finds the charge known and grants nothing.
pub async fn apply_refund_facts(
    db: &Db,
    facts: &RefundFacts,
) -> Result<RefundApplied, PaymentError> {
    if let Some(applied) = crate::studio::tips::apply_refund(db, facts).await? {
        return Ok(applied);
    }
    if let Some(applied) = super::memberships::apply_refund(db, facts).await? {
        return Ok(applied);
    }
    crate::on_db!(db, |pool| {
        let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
        let now = unix_now();
        let by_charge: Option<OrderRow> = sqlx::query_as(
            "SELECT id, user_id, product_id, amount_stars, status, telegram_payment_charge_id
         FROM orders WHERE telegram_payment_charge_id = $1",
        )
        .bind(&facts.charge_id)
        .fetch_optional(&mut *tx)
        .await?;
        let order = match by_charge {
            Some(order) => order,
            None => {
                let unmatched = sqlx::query(
                    "UPDATE unmatched_payments SET refunded_at = coalesce(refunded_at, $1)
                 WHERE telegram_payment_charge_id = $2",
                )
                .bind(now)
                .bind(&facts.charge_id)
                .execute(&mut *tx)
                .await?;
                if unmatched.rows_affected() > 0 {
                    tx.commit().await?;
                    return Ok(RefundApplied::UnmatchedRefunded);
                }
                // The refund overtook its payment: settle the order as paid and refunded at once.
                let unpaid: Option<OrderRow> = sqlx::query_as(
                "SELECT id, user_id, product_id, amount_stars, status, telegram_payment_charge_id
                 FROM orders WHERE public_id = $1 AND telegram_payment_charge_id IS NULL
                   AND status IN ('pending', 'expired', 'cancelled') AND amount_stars = $2",
            )
            .bind(&facts.payload)
            .bind(facts.total_amount)
            .fetch_optional(&mut *tx)
            .await?;
                let Some(order) = unpaid else {
                    return Ok(RefundApplied::Unknown);
                };
                super::discounts::retake_if_released(&mut tx, order.id).await?;
                sqlx::query(
                    "UPDATE orders SET status = 'refunded', telegram_payment_charge_id = $1,
                        paid_at = $2, refunded_at = $2
                 WHERE id = $3",
                )
                .bind(&facts.charge_id)
                .bind(now)
                .bind(order.id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                return Ok(RefundApplied::Refunded { order_id: order.id });
            }
        };
        if order.status == "refunded" {
            return Ok(RefundApplied::AlreadyRefunded);
        }
        sqlx::query(
        "UPDATE orders SET status = 'refunded', refunded_at = $1 WHERE id = $2 AND status = 'paid'",
    )
    .bind(now)
    .bind(order.id)
    .execute(&mut *tx)
    .await?;
        // Only the grant this order made is revoked: a later order may have granted it again.
        sqlx::query(
            "UPDATE entitlements SET revoked_at = $1
         WHERE user_id = $2 AND product_id = $3 AND order_id = $4 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(order.user_id)
        .bind(order.product_id)
        .bind(order.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE deliveries SET status = 'cancelled', locked_until = NULL, claim_token = NULL
         WHERE order_id = $1 AND status IN ('pending', 'failed')",
        )
        .bind(order.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RefundApplied::Refunded { order_id: order.id })
    })
}
