//! Refunds the shop starts: a creator refunds a buyer of their product, or an admin any order.

use tgbot::types::RefundStarPayment;

use super::checkout::apply_refund_facts;
use super::types::{Actor, RefundApplied, RefundFacts};
use super::{api_error, OrderStatus, PaymentError};
use crate::db::Db;
use crate::telegram::bot::Bot;

/// An order named by its public id (as the Mini App knows it) or its row id (as admins do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderRef {
    Public(String),
    Id(i64),
}

impl From<&str> for OrderRef {
    fn from(public_id: &str) -> Self {
        OrderRef::Public(public_id.to_owned())
    }
}

impl From<i64> for OrderRef {
    fn from(id: i64) -> Self {
        OrderRef::Id(id)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    /// Telegram returned the Stars; the order is refunded and access revoked.
    Refunded,
    /// It was refunded before; nothing was done.
    AlreadyRefunded,
}

#[derive(sqlx::FromRow)]
struct RefundRow {
    id: i64,
    user_id: i64,
    status: String,
    public_id: String,
    amount_stars: i64,
    telegram_payment_charge_id: Option<String>,
    creator_id: i64,
}

/// Refunds a paid order through `refundStarPayment`, then applies it like a `refunded_payment`
/// message would (that message, arriving later, then changes nothing). Idempotent: an order
/// already refunded, or Telegram's `CHARGE_ALREADY_REFUNDED`, counts as done.
pub async fn refund(
    db: &Db,
    bot: &Bot,
    order: impl Into<OrderRef>,
    actor: Actor,
) -> Result<RefundOutcome, PaymentError> {
    let (public_id, id) = match order.into() {
        OrderRef::Public(public_id) => (Some(public_id), None),
        OrderRef::Id(id) => (None, Some(id)),
    };
    let row: Option<RefundRow> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT o.id, o.user_id, o.status, o.public_id, o.amount_stars,
                o.telegram_payment_charge_id, p.creator_id
         FROM orders o JOIN products p ON p.id = o.product_id
         WHERE o.public_id = $1 OR o.id = $2",
    )
    .bind(public_id)
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    let row = row.ok_or(PaymentError::OrderNotFound)?;
    if !actor.is_admin && actor.user_id != row.creator_id {
        return Err(PaymentError::Forbidden);
    }
    let status: OrderStatus = row.status.parse()?;
    match status {
        OrderStatus::Paid => {}
        OrderStatus::Refunded => return Ok(RefundOutcome::AlreadyRefunded),
        other => return Err(PaymentError::NotRefundable(other)),
    }
    let order_charge = row
        .telegram_payment_charge_id
        .ok_or_else(|| PaymentError::Corrupt("a paid order without a charge id".into()))?;
    // A membership is refunded by its latest charge: the period the buyer now loses.
    let membership_charge = super::memberships::charge_to_refund(db, row.id).await?;
    let is_membership = membership_charge.is_some();
    let charge_id = membership_charge.unwrap_or(order_charge);

    let call = RefundStarPayment::new(row.user_id, charge_id.clone());
    // Whether this call moved the Stars: Telegram's `refunded_payment` message may be applied
    // before we get here, so the database alone cannot tell.
    let refunded_now = match bot.call("refundStarPayment", call).await {
        Ok(_) => true,
        // Refunded by another replica, by hand, or by an earlier attempt whose answer was lost.
        Err(err)
            if api_error(&err)
                .is_some_and(|e| e.description().contains("CHARGE_ALREADY_REFUNDED")) =>
        {
            false
        }
        Err(err) => return Err(err.into()),
    };
    let applied = apply_refund_facts(
        db,
        &RefundFacts {
            charge_id,
            payload: row.public_id,
            total_amount: row.amount_stars,
            payer: row.user_id,
        },
    )
    .await?;
    if is_membership {
        super::memberships::stop_after_refund(db, bot, row.id).await;
    }
    Ok(match applied {
        RefundApplied::Refunded { .. } => RefundOutcome::Refunded,
        _ if refunded_now => RefundOutcome::Refunded,
        _ => RefundOutcome::AlreadyRefunded,
    })
}
