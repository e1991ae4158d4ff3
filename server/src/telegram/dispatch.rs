//! One dispatcher for every update, whichever way it arrived.

use super::bot::{Bot, BotError};
use super::commands;
use super::links::Links;
use crate::db::Db;
use crate::payments::{self, PaymentError};
use tgbot::types::{AnswerPreCheckoutQuery, MessageData, PreCheckoutQuery, Update, UpdateType};

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("the update cannot be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Bot(#[from] BotError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Support(#[from] crate::support::SupportError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
}

#[derive(Clone)]
pub struct Dispatcher {
    pub(super) db: Db,
    pub(super) bot: Bot,
    /// Buttons and links into the Mini App.
    pub(super) links: Links,
    /// `ADMIN_IDS`: who may use admin commands such as `/makecreator`.
    pub(super) admin_ids: std::sync::Arc<[i64]>,
    /// The shop's clock: pre-checkout judges an order's time by it.
    pub(super) clock: crate::clock::Clock,
}

impl Dispatcher {
    pub fn new(db: Db, bot: Bot, links: Links) -> Self {
        Self {
            db,
            bot,
            links,
            admin_ids: std::sync::Arc::new([]),
            clock: crate::clock::Clock::default(),
        }
    }

    /// The shop's clock (shared with the dev preview's emulator).
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_admins(mut self, admin_ids: &[i64]) -> Self {
        self.admin_ids = admin_ids.into();
        self
    }

    /// Decides a pre-checkout query without answering it: the answer, to send as the webhook's
    /// reply, and whether it lets the payment through.
    pub async fn decide_pre_checkout(
        &self,
        update_id: i64,
        query: &PreCheckoutQuery,
    ) -> AnswerPreCheckoutQuery {
        let (answer, verdict) =
            payments::decide_pre_checkout(&self.db, query, self.clock.now()).await;
        tracing::info!(
            update_id,
            ?verdict,
            "pre-checkout answered in the webhook reply"
        );
        answer
    }

    pub async fn handle(&self, update: &Update) -> Result<(), DispatchError> {
        match &update.update_type {
            UpdateType::Message(message) => match &message.data {
                MessageData::SuccessfulPayment(payment) => {
                    // A service message from the payer; without a sender it cannot be checked
                    // against the order, so the ledger holds it (payer 0) for review.
                    let payer = message.sender.get_user().map_or(0, |u| i64::from(u.id));
                    let applied =
                        payments::take_payment(&self.db, &self.bot, payer, payment).await?;
                    tracing::info!(
                        update_id = update.id,
                        charge_id = %payment.telegram_payment_charge_id,
                        outcome = ?applied,
                        "successful payment"
                    );
                    Ok(())
                }
                MessageData::RefundedPayment(refund) => {
                    let payer = message.sender.get_user().map_or(0, |u| i64::from(u.id));
                    let applied = payments::apply_refund(&self.db, payer, refund).await?;
                    tracing::info!(
                        update_id = update.id,
                        charge_id = %refund.telegram_payment_charge_id,
                        outcome = ?applied,
                        "refunded payment"
                    );
                    Ok(())
                }
                MessageData::Text(text) if text.data.starts_with('/') => {
                    commands::handle(self, message).await
                }
                _ => Ok(()),
            },
            UpdateType::InlineQuery(query) => super::inline::answer(self, query).await,
            UpdateType::PreCheckoutQuery(query) => {
                let verdict =
                    payments::answer_pre_checkout(&self.db, &self.bot, query, self.clock.now())
                        .await?;
                tracing::info!(update_id = update.id, ?verdict, "pre-checkout answered");
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
