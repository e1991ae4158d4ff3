//! `DEMO_REFUND`: a public demo shop gives every buyer their Stars back right after delivery,
//! as Telegram's own demo bots do, so trying the shop costs nothing.

use super::refunds::{refund, RefundOutcome};
use super::types::Actor;
use super::PaymentError;
use crate::db::Db;
use crate::telegram::bot::Bot;
use std::time::Duration;

/// The shop itself, acting as admin.
const SHOP: Actor = Actor {
    user_id: 0,
    is_admin: true,
};

/// Refunds delivered orders; returns how many it refunded.
pub async fn refund_delivered(db: &Db, bot: &Bot) -> Result<usize, PaymentError> {
    let due: Vec<i64> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT o.id FROM orders o JOIN deliveries d ON d.order_id = o.id
         WHERE o.status = 'paid' AND d.status = 'sent' ORDER BY o.id LIMIT 50",
    )
    .fetch_all(pool)
    .await)?;
    let mut refunded = 0;
    for id in due {
        if refund(db, bot, id, SHOP).await? == RefundOutcome::Refunded {
            refunded += 1;
        }
    }
    Ok(refunded)
}

pub async fn demo_refund_loop(db: Db, bot: Bot) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        match refund_delivered(&db, &bot).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(refunded = n, "demo refunds"),
            Err(err) => tracing::warn!(error = %err, "demo refund failed; will retry"),
        }
    }
}
