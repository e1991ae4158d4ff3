//! The money moments at the edge: answering `pre_checkout_query`, and the facts (`types.rs`) of
//! `successful_payment` and `refunded_payment` (payload parsed once, `payload.rs`) handed to the
//! ledger (`ledger.rs`), where each is applied in one transaction keyed by Telegram's unique
//! charge id, whichever way it arrived (webhook, long polling, reconciliation).

use tgbot::types::{AnswerPreCheckoutQuery, PreCheckoutQuery, RefundedPayment, SuccessfulPayment};

use super::payload::Payload;
use super::types::{Applied, Decline, PaymentFacts, RefundApplied, RefundFacts};
use super::{api_error, PaymentError, CURRENCY};
use crate::db::Db;
use crate::telegram::bot::Bot;

/// Decides a pre-checkout query for whatever its payload names (`payable::check_offer`: one
/// indexed read, no network call), on the shop's clock `now`. Telegram gives the bot 10
/// seconds.
pub async fn check_pre_checkout(
    db: &Db,
    query: &PreCheckoutQuery,
    now: i64,
) -> Result<(), Decline> {
    if query.currency != CURRENCY {
        return Err(Decline::WrongCurrency);
    }
    let payload = Payload::parse(&query.invoice_payload);
    super::payable::check_offer(
        db,
        &payload,
        i64::from(query.from.id),
        query.total_amount,
        now,
    )
    .await
}

/// The answer to a pre-checkout query (ok only for a payable order of the shop's own, else the
/// reason in the buyer's language) and the verdict behind it. It only reads, so it can be given
/// while another writer holds the database: the webhook returns it as its reply.
pub async fn decide_pre_checkout(
    db: &Db,
    query: &PreCheckoutQuery,
    now: i64,
) -> (AnswerPreCheckoutQuery, Result<(), Decline>) {
    let verdict = check_pre_checkout(db, query, now).await;
    let answer = match verdict {
        Ok(()) => AnswerPreCheckoutQuery::ok(query.id.clone()),
        Err(decline) => {
            let locale = app::locale_for(query.from.language_code.as_deref().unwrap_or_default());
            AnswerPreCheckoutQuery::error(query.id.clone(), decline.message(locale))
        }
    };
    (answer, verdict)
}

/// Answers a pre-checkout query with a Bot API call ([`decide_pre_checkout`]'s answer). The
/// outer `Result` is whether the answer reached Telegram; the inner one is the verdict.
pub async fn answer_pre_checkout(
    db: &Db,
    bot: &Bot,
    query: &PreCheckoutQuery,
    now: i64,
) -> Result<Result<(), Decline>, PaymentError> {
    let (answer, verdict) = decide_pre_checkout(db, query, now).await;
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

/// Applies a `successful_payment` from `payer` (the ledger's one apply-payment).
pub async fn apply_payment(
    db: &Db,
    payer: i64,
    payment: &SuccessfulPayment,
) -> Result<Applied, PaymentError> {
    apply_payment_facts(db, &PaymentFacts::from_update(payer, payment)).await
}

/// Applies a charge however it was learnt of: see [`super::ledger::apply_payment`].
pub async fn apply_payment_facts(db: &Db, facts: &PaymentFacts) -> Result<Applied, PaymentError> {
    super::ledger::apply_payment(db, facts).await
}

/// Applies a `successful_payment` and, when the charge grants nothing by rule, returns its
/// Stars at once (a failure is left to the ledger's settling loop).
pub async fn take_payment(
    db: &Db,
    bot: &Bot,
    payer: i64,
    payment: &SuccessfulPayment,
) -> Result<Applied, PaymentError> {
    let applied = apply_payment(db, payer, payment).await?;
    if let Applied::Unmatched {
        refund_due: true, ..
    } = applied
    {
        if let Err(err) = super::ledger::settle_due(db, bot).await {
            tracing::warn!(error = %err, "cannot refund a charge now; the settling loop will");
        }
    }
    Ok(applied)
}

/// Applies a `refunded_payment` message from `payer`.
pub async fn apply_refund(
    db: &Db,
    payer: i64,
    refund: &RefundedPayment,
) -> Result<RefundApplied, PaymentError> {
    apply_refund_facts(db, &RefundFacts::from_update(payer, refund)).await
}

/// Applies a refund however it was learnt of: see [`super::ledger::apply_refund`].
pub async fn apply_refund_facts(
    db: &Db,
    facts: &RefundFacts,
) -> Result<RefundApplied, PaymentError> {
    super::ledger::apply_refund(db, facts).await
}
