//! One dispatcher for every update, whichever way it arrived.

use super::bot::{Bot, BotError};
use super::commands;
use crate::db::Db;
use tgbot::types::{AnswerPreCheckoutQuery, MessageData, PreCheckoutQuery, Update, UpdateType};
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("the update cannot be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Bot(#[from] BotError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct Dispatcher {
    pub(super) db: Db,
    pub(super) bot: Bot,
    /// Where buttons open the Mini App; `None` when the shop has no URL Telegram can open.
    pub(super) webapp_url: Option<Url>,
}

impl Dispatcher {
    pub fn new(db: Db, bot: Bot, webapp_url: Option<Url>) -> Self {
        Self {
            db,
            bot,
            webapp_url,
        }
    }

    pub async fn handle(&self, update: &Update) -> Result<(), DispatchError> {
        match &update.update_type {
            UpdateType::Message(message) => match &message.data {
                MessageData::SuccessfulPayment(payment) => {
                    // Kept in the update inbox with its charge id, so nothing is lost before
                    // orders exist to apply it to.
                    tracing::warn!(
                        update_id = update.id,
                        charge_id = %payment.telegram_payment_charge_id,
                        payload = %payment.invoice_payload,
                        "payment for an unknown order recorded for review"
                    );
                    Ok(())
                }
                MessageData::Text(text) if text.data.starts_with('/') => {
                    commands::handle(self, message).await
                }
                _ => Ok(()),
            },
            UpdateType::PreCheckoutQuery(query) => self.decline_unknown(query).await,
            _ => Ok(()),
        }
    }

    /// The shop takes money only for orders it created; anything else is declined at once.
    async fn decline_unknown(&self, query: &PreCheckoutQuery) -> Result<(), DispatchError> {
        let answer = AnswerPreCheckoutQuery::error(
            query.id.clone(),
            "This invoice is not known to the shop. Please start again from the catalog.",
        );
        self.bot.call("answerPreCheckoutQuery", answer).await?;
        Ok(())
    }
}
