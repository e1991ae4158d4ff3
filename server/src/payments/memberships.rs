//! Memberships: products sold as Telegram Stars subscriptions. The invoice carries
//! `subscription_period` (30 days, the only one Telegram allows); the first `successful_payment`
//! starts the membership and every renewal arrives as another `successful_payment` with the same
//! payload, a new charge id and the new `subscription_expiration_date`, which the shop stores as
//! the end of access. Each charge is applied by the ledger (`ledger.rs`, `payable.rs`) under its
//! unique id, so a repeated update extends once; a second *first* charge (two sheets) is no
//! renewal: it is refunded and its subscription cancelled. A buyer may stop (and resume) the renewal through the bot (`editUserStarSubscription`);
//! access then runs to the end of the paid period. Progress is never deleted when access ends.

use tgbot::types::EditUserStarSubscription;

use super::PaymentError;
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
