//! Which handler an update goes to: commands, inline queries, payments. The one place that knows
//! them all, so it sits above them and the dispatcher they share (`dispatch`).

use super::commands;
use super::dispatch::{DispatchError, Dispatcher};
use crate::payments;
use tgbot::types::{AnswerPreCheckoutQuery, MessageData, PreCheckoutQuery, Update, UpdateType};

impl Dispatcher {
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
