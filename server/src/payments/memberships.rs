//! Memberships: products sold as Telegram Stars subscriptions. The invoice carries
//! `subscription_period` (30 days, the only one Telegram allows); the first `successful_payment`
//! starts the membership and every renewal arrives as another `successful_payment` with the same
//! payload, a new charge id and the new `subscription_expiration_date`, which the shop stores as
//! the end of access. Each charge is recorded under its unique id, so a repeated update extends
//! once. A buyer may stop (and resume) the renewal through the bot (`editUserStarSubscription`);
//! access then runs to the end of the paid period. Progress is never deleted when access ends.

use tgbot::types::EditUserStarSubscription;

use super::checkout::{Applied, PaymentFacts, RefundApplied, RefundFacts};
use super::{PaymentError, CURRENCY};
use crate::db::Db;
use crate::telegram::bot::Bot;

/// The only subscription period Telegram accepts: 30 days, in seconds.
pub const PERIOD_SECS: i64 = 2_592_000;
/// Telegram's highest price for a Stars subscription.
pub const MAX_PRICE_STARS: u32 = 10_000;

pub use app::api::Billing;

/// A buyer's latest membership of one product, as the library shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipState {
    pub product_id: i64,
    pub expires_at: i64,
    pub canceled: bool,
    /// Canceled, and the shop has allowed the buyer to turn renewal back on in Telegram.
    pub reenable_in_telegram: bool,
    pub ended: bool,
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

/// Applies a charge of a subscription invoice (`subscription_expires_at` is set): the first one
/// pays the order, grants access until the expiration date and starts the membership; a renewal
/// (the order already paid by the first) moves the end of access to the new date. One write
/// transaction; a charge id seen before changes nothing.
pub async fn apply_charge(db: &Db, facts: &PaymentFacts) -> Result<Applied, PaymentError> {
    let Some(expires_at) = facts.subscription_expires_at else {
        return Err(PaymentError::Corrupt("not a subscription charge".into()));
    };
    crate::on_db!(db, |pool| {
        let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM orders WHERE telegram_payment_charge_id = $1)
                 OR EXISTS (SELECT 1 FROM unmatched_payments WHERE telegram_payment_charge_id = $1)
                 OR EXISTS (SELECT 1 FROM membership_charges WHERE telegram_payment_charge_id = $1)",
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
        let membership: Option<(i64, Option<i64>)> = match &order {
            Some(o) => {
                sqlx::query_as("SELECT id, ended_at FROM memberships WHERE order_id = $1")
                    .bind(o.id)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            None => None,
        };
        let mismatch = match (&order, membership) {
            (None, _) => Some("unknown_payload"),
            _ if facts.currency != CURRENCY => Some("wrong_currency"),
            (Some(o), _) if !facts.amount_matches(o.amount_stars) => Some("amount_mismatch"),
            (Some(o), _) if o.user_id != facts.payer => Some("other_payer"),
            (Some(o), _) if o.status == "refunded" => Some("order_refunded"),
            // Telegram renewed a membership the shop ended by a refund: kept for a refund by hand.
            (Some(_), Some((_, Some(_)))) => Some("membership_ended"),
            (Some(_), Some(_)) => None,
            (Some(o), None) if o.status == "paid" || o.telegram_payment_charge_id.is_some() => {
                Some("order_paid_by_another_charge")
            }
            (Some(_), None) => None,
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
            tracing::warn!(charge_id = %facts.charge_id, reason, "subscription charge recorded for review");
            return Ok(Applied::Unmatched { reason });
        }
        let Some(order) = order else {
            return Err(PaymentError::Corrupt("order vanished".into()));
        };
        let now = super::unix_now();

        let membership_id = match membership {
            Some((id, _)) => {
                // A renewal: access moves to the new date, never backwards (updates may be reordered).
                // A charge for a period that began after the renewal was turned off shows the
                // buyer turned it back on in Telegram: the membership renews again.
                sqlx::query(
                    "UPDATE memberships
                     SET expires_at = CASE WHEN expires_at < $1 THEN $1 ELSE expires_at END,
                         canceled_at = CASE WHEN canceled_at <= $1 - $3 THEN NULL ELSE canceled_at END,
                         renewal_allowed_at = CASE WHEN canceled_at <= $1 - $3 THEN NULL
                                                   ELSE renewal_allowed_at END
                     WHERE id = $2",
                )
                .bind(expires_at)
                .bind(id)
                .bind(PERIOD_SECS)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE entitlements
                     SET expires_at = CASE WHEN expires_at < $1 THEN $1 ELSE expires_at END
                     WHERE user_id = $2 AND product_id = $3 AND order_id = $4
                       AND revoked_at IS NULL AND expires_at IS NOT NULL",
                )
                .bind(expires_at)
                .bind(order.user_id)
                .bind(order.product_id)
                .bind(order.id)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => {
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
                    "INSERT INTO entitlements (user_id, product_id, granted_at, order_id, expires_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (user_id, product_id) DO UPDATE
                       SET revoked_at = NULL, granted_at = excluded.granted_at,
                           order_id = excluded.order_id, expires_at = excluded.expires_at",
                )
                .bind(order.user_id)
                .bind(order.product_id)
                .bind(now)
                .bind(order.id)
                .bind(expires_at)
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
                sqlx::query_scalar(
                    "INSERT INTO memberships
                       (user_id, product_id, order_id, subscription_charge_id, amount_stars, started_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(order.user_id)
                .bind(order.product_id)
                .bind(order.id)
                .bind(&facts.charge_id)
                .bind(facts.total_amount)
                .bind(now)
                .bind(expires_at)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        // The unique charge id is the guard a concurrent writer (Postgres) would hit.
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO membership_charges
               (membership_id, telegram_payment_charge_id, amount_stars, paid_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (telegram_payment_charge_id) DO NOTHING RETURNING id",
        )
        .bind(membership_id)
        .bind(&facts.charge_id)
        .bind(facts.total_amount)
        .bind(now)
        .bind(expires_at)
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            return Ok(Applied::AlreadyApplied);
        }
        tx.commit().await?;
        Ok(Applied::Granted { order_id: order.id })
    })
}

#[derive(sqlx::FromRow)]
struct ChargeRow {
    id: i64,
    membership_id: i64,
    order_id: i64,
    user_id: i64,
    product_id: i64,
}

/// A refund of any charge of a membership: the membership ends, its order becomes refunded and
/// access stops, in one transaction. `None` when the charge is not a membership's.
pub async fn apply_refund(
    db: &Db,
    facts: &RefundFacts,
) -> Result<Option<RefundApplied>, PaymentError> {
    crate::on_db!(db, |pool| {
        let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
        let charge: Option<ChargeRow> = sqlx::query_as(
            "SELECT c.id, c.membership_id, m.order_id, m.user_id, m.product_id
             FROM membership_charges c JOIN memberships m ON m.id = c.membership_id
             WHERE c.telegram_payment_charge_id = $1",
        )
        .bind(&facts.charge_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(charge) = charge else {
            return Ok(None);
        };
        let now = super::unix_now();
        let marked = sqlx::query(
            "UPDATE membership_charges SET refunded_at = $1 WHERE id = $2 AND refunded_at IS NULL",
        )
        .bind(now)
        .bind(charge.id)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 0 {
            return Ok(Some(RefundApplied::AlreadyRefunded));
        }
        sqlx::query("UPDATE memberships SET ended_at = COALESCE(ended_at, $1) WHERE id = $2")
            .bind(now)
            .bind(charge.membership_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE orders SET status = 'refunded', refunded_at = $1 WHERE id = $2 AND status = 'paid'",
        )
        .bind(now)
        .bind(charge.order_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE entitlements SET revoked_at = $1
             WHERE user_id = $2 AND product_id = $3 AND order_id = $4 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(charge.user_id)
        .bind(charge.product_id)
        .bind(charge.order_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE deliveries SET status = 'cancelled', locked_until = NULL, claim_token = NULL
             WHERE order_id = $1 AND status IN ('pending', 'failed')",
        )
        .bind(charge.order_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(RefundApplied::Refunded {
            order_id: charge.order_id,
        }))
    })
}

/// The charge a shop refund of `order_id` returns: a membership's latest one not refunded
/// (the period the buyer loses), `None` for an order that is no membership.
pub async fn charge_to_refund(db: &Db, order_id: i64) -> Result<Option<String>, PaymentError> {
    Ok(crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT c.telegram_payment_charge_id
         FROM membership_charges c JOIN memberships m ON m.id = c.membership_id
         WHERE m.order_id = $1 AND c.refunded_at IS NULL
         ORDER BY c.paid_at DESC, c.id DESC LIMIT 1",
    )
    .bind(order_id)
    .fetch_optional(pool)
    .await)?)
}

/// Why a buyer's change to their membership was refused.
#[derive(Debug, thiserror::Error)]
pub enum RenewalError {
    #[error("no membership of this product")]
    NotMember,
    #[error("this membership has ended")]
    Ended,
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

impl From<sqlx::Error> for RenewalError {
    fn from(err: sqlx::Error) -> Self {
        RenewalError::Payment(err.into())
    }
}

/// The buyer stops (`renew = false`) the renewal of their membership of `slug` through the bot,
/// or lifts that stop (`renew = true`). Lifting it only allows the buyer to turn renewal back on
/// in Telegram (Bot API, editUserStarSubscription: "Pass False to allow the user to re-enable a
/// subscription that was previously canceled by the bot"), so the membership stays canceled
/// until a renewal charge arrives. Access is untouched: it runs to the end of the paid period.
pub async fn set_renewal(
    db: &Db,
    bot: &Bot,
    user_id: i64,
    slug: &str,
    renew: bool,
    now: i64,
) -> Result<MembershipState, RenewalError> {
    let row: Option<(i64, String, i64)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT m.id, m.subscription_charge_id, m.product_id
         FROM memberships m JOIN products p ON p.id = m.product_id
         WHERE m.user_id = $1 AND p.slug = $2 AND m.ended_at IS NULL AND m.expires_at > $3
         ORDER BY m.id DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(slug)
    .bind(now)
    .fetch_optional(pool)
    .await)?;
    let Some((id, charge_id, product_id)) = row else {
        return Err(RenewalError::NotMember);
    };
    let call = EditUserStarSubscription::new(user_id, charge_id, !renew);
    if let Err(err) = bot.call("editUserStarSubscription", call).await {
        // Telegram no longer knows it as running: the period is over on its side.
        if super::api_error(&err).is_some() {
            tracing::warn!(error = %err, membership = id, "editUserStarSubscription refused");
            return Err(RenewalError::Ended);
        }
        return Err(RenewalError::Payment(err.into()));
    }
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE memberships
         SET canceled_at = CASE WHEN $1 THEN canceled_at ELSE $2 END,
             renewal_allowed_at = CASE WHEN $1 AND canceled_at IS NOT NULL THEN $2 END
         WHERE id = $3"
    )
    .bind(renew)
    .bind(now)
    .bind(id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    latest(db, user_id, product_id)
        .await?
        .ok_or(RenewalError::NotMember)
}

/// Stops the renewal at Telegram after the shop refunded a membership, so the buyer is not
/// charged for a membership that no longer grants anything. Best effort: logged on failure.
pub async fn stop_after_refund(db: &Db, bot: &Bot, order_id: i64) {
    let row: Option<(i64, String)> = match crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT user_id, subscription_charge_id FROM memberships
         WHERE order_id = $1 AND canceled_at IS NULL",
    )
    .bind(order_id)
    .fetch_optional(pool)
    .await)
    {
        Ok(row) => row,
        Err(err) => return tracing::warn!(error = %err, "cannot read the refunded membership"),
    };
    let Some((user_id, charge_id)) = row else {
        return;
    };
    let call = EditUserStarSubscription::new(user_id, charge_id, true);
    match bot.call("editUserStarSubscription", call).await {
        Ok(_) => {
            let done = crate::on_db!(db, |pool| {
                sqlx::query(
                "UPDATE memberships SET canceled_at = $1 WHERE order_id = $2 AND canceled_at IS NULL",
            )
            .bind(super::unix_now())
            .bind(order_id)
            .execute(pool)
            .await.map(crate::db::Done::from)
            });
            if let Err(err) = done {
                tracing::warn!(error = %err, order_id, "cannot record the stopped renewal");
            }
        }
        Err(err) => tracing::warn!(error = %err, order_id, "cannot stop a refunded membership"),
    }
}

/// The buyer's most recent membership of a product.
pub async fn latest(
    db: &Db,
    user_id: i64,
    product_id: i64,
) -> Result<Option<MembershipState>, sqlx::Error> {
    type Row = (i64, Option<i64>, Option<i64>, Option<i64>);
    let row: Option<Row> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT expires_at, canceled_at, renewal_allowed_at, ended_at FROM memberships
         WHERE user_id = $1 AND product_id = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(product_id)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(
        |(expires_at, canceled_at, allowed_at, ended_at)| MembershipState {
            product_id,
            expires_at,
            canceled: canceled_at.is_some(),
            reenable_in_telegram: canceled_at.is_some() && allowed_at.is_some(),
            ended: ended_at.is_some(),
        },
    ))
}

/// The studio's membership figures for one creator (`None`: the whole shop) at `now`.
pub async fn stats(
    db: &Db,
    creator: Option<i64>,
    now: i64,
) -> Result<app::studio::types::MembershipStats, sqlx::Error> {
    let (active, ending, recurring, churned): (i64, i64, i64, i64) = crate::on_db!(db, |pool| {
        sqlx::query_as(
        "SELECT
           COUNT(CASE WHEN m.ended_at IS NULL AND m.expires_at > $2 THEN 1 END),
           COUNT(CASE WHEN m.ended_at IS NULL AND m.expires_at > $2
                       AND m.canceled_at IS NOT NULL THEN 1 END),
           CAST(COALESCE(SUM(CASE WHEN m.ended_at IS NULL AND m.expires_at > $2
                                   AND m.canceled_at IS NULL THEN m.amount_stars END), 0) AS BIGINT),
           COUNT(CASE WHEN COALESCE(m.ended_at, m.expires_at) <= $2
                       AND COALESCE(m.ended_at, m.expires_at) > $3 THEN 1 END)
         FROM memberships m JOIN products p ON p.id = m.product_id
         WHERE ($1 IS NULL OR p.creator_id = $1)",
    )
    .bind(creator)
    .bind(now)
    .bind(now - 30 * 86_400)
    .fetch_one(pool)
    .await
    })?;
    let count = |n: i64| u32::try_from(n).unwrap_or(0);
    Ok(app::studio::types::MembershipStats {
        active: count(active),
        ending: count(ending),
        churned_30d: count(churned),
        recurring_stars_per_month: u64::try_from(recurring).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_round_trips() {
        for b in [Billing::Once, Billing::Monthly] {
            assert_eq!(Billing::parse(b.as_str()), Some(b));
        }
        assert_eq!(Billing::parse("yearly"), None);
        assert_eq!(Billing::default(), Billing::Once);
    }
}
