//! Payments in Telegram Stars: orders and invoice links, the pre-checkout answer, applying
//! `successful_payment` and `refunded_payment`, shop-initiated refunds, the delivery outbox and
//! reconciliation against `getStarTransactions`.
//!
//! Every path that changes money state goes through the ledger of Star charges
//! ([`ledger::apply_payment`], [`ledger::apply_refund`]), each one write transaction keyed by
//! Telegram's unique charge id, so webhook, long polling, retries and reconciliation may race
//! without granting twice. What can be paid (purchases, membership charges, tips, bundles, gifts) is one
//! mechanism ([`payable`]), named by one payload type ([`payload`]). This module imports
//! nothing from the studio.

pub mod checkout;
pub mod delivery;
pub mod demo;
pub mod discounts;
pub mod gifts;
pub mod ledger;
pub mod memberships;
pub mod orders;
pub mod payable;
pub mod payload;
pub mod pricing;
pub mod reconcile;
pub mod refunds;
pub mod stars;
pub mod tips;
pub mod types;

pub use checkout::{
    answer_pre_checkout, apply_payment, apply_refund, decide_pre_checkout, take_payment,
};
pub use delivery::{deliver_due, delivery_loop, DeliveryConfig};
pub use ledger::{settle_due, settle_loop, HeldCharge, Resolution};
pub use orders::{
    create_order, create_priced_order, expire_stale, order_status, NewOrder, OrderStatus,
};
pub use reconcile::{reconcile, reconcile_loop, ReconcileReport};
pub use refunds::{refund, OrderRef, RefundOutcome};
pub use stars::Stars;
pub use types::{Actor, Applied, Decline, PaymentFacts, RefundApplied, RefundFacts, Source};

use crate::telegram::bot::BotError;
pub use gifts::GiftRefusal;

/// The only currency the shop sells in.
pub const CURRENCY: &str = "XTR";

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("no product {0:?} is on sale")]
    NotOnSale(String),
    #[error("the buyer already owns this product")]
    AlreadyOwned,
    /// A membership cannot be bought as a gift.
    #[error("this product cannot be given as a gift")]
    NotGiftable,
    /// A gift link that cannot be claimed (by this user); says why.
    #[error("the gift cannot be claimed: {0:?}")]
    Gift(GiftRefusal),
    #[error("user {0} is not known to the shop")]
    UnknownBuyer(i64),
    #[error("no such order")]
    OrderNotFound,
    #[error("only the product's creator or an admin may refund an order")]
    Forbidden,
    #[error("the order is {0} and cannot be refunded")]
    NotRefundable(OrderStatus),
    /// A held charge cannot be granted: what it paid for is paid, refunded or gone.
    #[error("this charge cannot be granted: what it paid for is no longer open")]
    NotGrantable,
    #[error("invalid amount of Stars: {0}")]
    InvalidAmount(i64),
    /// A discount code or a pay-what-you-want amount the shop does not accept; says why.
    #[error(transparent)]
    Deal(#[from] app::deals::Refusal),
    /// The same order is being made by another Buy of the buyer's, whose invoice link has not
    /// come in time.
    #[error("this order is being made; try again in a moment")]
    CheckoutInProgress,
    #[error("stored order data is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Bot(#[from] BotError),
    #[error("storage error")]
    Storage(#[from] crate::storage::StorageError),
    /// The buyer's stamped copy of a file could not be made.
    #[error(transparent)]
    Stamp(#[from] crate::stamping::StampError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

/// Seconds since the Unix epoch, the unit of every time column.
pub(crate) use clock::unix_now;

pub(crate) use crate::telegram::bot::api_error;
