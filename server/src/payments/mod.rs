//! Payments in Telegram Stars: orders and invoice links, the pre-checkout answer, applying
//! `successful_payment` and `refunded_payment`, shop-initiated refunds, the delivery outbox and
//! reconciliation against `getStarTransactions`.
//!
//! Every path that changes money state goes through [`checkout::apply_payment_facts`] or
//! [`checkout::apply_refund_facts`], each one SQLite transaction keyed by Telegram's unique charge
//! id, so webhook, long polling, retries and reconciliation may race without granting twice.

pub mod checkout;
pub mod delivery;
pub mod demo;
pub mod discounts;
pub mod memberships;
pub mod orders;
pub mod pricing;
pub mod reconcile;
pub mod refunds;
pub mod stars;

pub use checkout::{
    answer_pre_checkout, apply_payment, apply_refund, Applied, Decline, PaymentFacts,
    RefundApplied, RefundFacts,
};
pub use delivery::{deliver_due, delivery_loop, DeliveryConfig};
pub use orders::{
    create_order, create_priced_order, expire_stale, order_status, NewOrder, OrderStatus,
};
pub use reconcile::{reconcile, reconcile_loop, ReconcileReport};
pub use refunds::{refund, Actor, OrderRef, RefundOutcome};
pub use stars::Stars;

use crate::telegram::bot::BotError;

/// The only currency the shop sells in.
pub const CURRENCY: &str = "XTR";

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("no product {0:?} is on sale")]
    NotOnSale(String),
    #[error("the buyer already owns this product")]
    AlreadyOwned,
    #[error("user {0} is not known to the shop")]
    UnknownBuyer(i64),
    #[error("no such order")]
    OrderNotFound,
    #[error("only the product's creator or an admin may refund an order")]
    Forbidden,
    #[error("the order is {0} and cannot be refunded")]
    NotRefundable(OrderStatus),
    #[error("invalid amount of Stars: {0}")]
    InvalidAmount(i64),
    /// A discount code or a pay-what-you-want amount the shop does not accept; says why.
    #[error(transparent)]
    Deal(#[from] app::deals::Refusal),
    #[error("stored order data is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Bot(#[from] BotError),
    #[error("storage error")]
    Storage(#[from] crate::storage::StorageError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

/// Seconds since the Unix epoch, the unit of every time column.
pub(crate) use crate::auth::unix_now;

/// A Bot API error's description, when Telegram (not the network) refused the call.
pub(crate) fn api_error(err: &BotError) -> Option<&tgbot::types::ResponseError> {
    match err {
        BotError::Call {
            source: tgbot::api::ExecuteError::Response(response),
            ..
        } => Some(response),
        _ => None,
    }
}
