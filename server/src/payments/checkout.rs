//! The money moments at the edge: answering `pre_checkout_query`, and the facts of
//! `successful_payment` and `refunded_payment` (payload parsed once, `payload.rs`) handed to the
//! ledger (`ledger.rs`), where each is applied in one transaction keyed by Telegram's unique
//! charge id, whichever way it arrived (webhook, long polling, reconciliation).

use tgbot::types::{AnswerPreCheckoutQuery, PreCheckoutQuery, RefundedPayment, SuccessfulPayment};

use super::ledger::Source;
use super::payload::Payload;
use super::{api_error, PaymentError, CURRENCY};
use crate::db::Db;
use crate::telegram::bot::Bot;
use app::i18n::{td_string, Locale};

/// Why a pre-checkout query is declined; each reason has the message the buyer sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decline {
    UnknownOrder,
    WrongCurrency,
    AlreadyPaid,
    Expired,
    OtherPayer,
    PriceChanged,
    NotOnSale,
    AlreadyOwned,
    /// The order's discount code was switched off, expired, or does not fit the product.
    CodeDisabled,
    CodeExpired,
    CodeOtherProduct,
    /// The database did not answer: better to ask the buyer to retry than to take money the
    /// shop cannot record.
    Unavailable,
}

impl Decline {
    /// What Telegram shows the buyer (`answerPreCheckoutQuery`'s `error_message`), in their
    /// language.
    pub fn message(self, locale: Locale) -> &'static str {
        match self {
            Decline::UnknownOrder => td_string!(locale, declines.unknown_order),
            Decline::WrongCurrency => td_string!(locale, declines.wrong_currency),
            Decline::AlreadyPaid => td_string!(locale, declines.already_paid),
            Decline::Expired => td_string!(locale, declines.expired),
            Decline::OtherPayer => td_string!(locale, declines.other_payer),
            Decline::PriceChanged => td_string!(locale, declines.price_changed),
            Decline::NotOnSale => td_string!(locale, declines.not_on_sale),
            Decline::AlreadyOwned => td_string!(locale, declines.already_owned),
            Decline::CodeDisabled => td_string!(locale, declines.code_disabled),
            Decline::CodeExpired => td_string!(locale, declines.code_expired),
            Decline::CodeOtherProduct => td_string!(locale, declines.code_other_product),
            Decline::Unavailable => td_string!(locale, declines.unavailable),
        }
    }
}

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

/// What a charge is, whichever way the shop learnt of it (an update or the Star ledger).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaymentFacts {
    pub payer: i64,
    pub charge_id: String,
    pub payload: String,
    pub currency: String,
    /// What the payer paid (`successful_payment.total_amount`); from the Star ledger, what the
    /// bot received (`StarTransaction.amount`), which is less when an affiliate took a share.
    pub total_amount: i64,
    /// The fraction of a Star beyond `total_amount` the bot received (Bot API
    /// `StarTransaction.nanostar_amount`, 0 to 999999999); 0 from an update.
    pub nanostar_amount: i64,
    /// The Telegram Star affiliate program's commission on this charge, known from the Star
    /// ledger only (Bot API `TransactionPartnerUser.affiliate`).
    pub affiliate: Option<AffiliateShare>,
    /// For a subscription's charge: the end of the period it paid (Telegram's
    /// `subscription_expiration_date`).
    pub subscription_expires_at: Option<i64>,
    /// `successful_payment.is_first_recurring`: the first charge of a subscription. `None`
    /// when the ledger told of the charge (it does not say).
    pub is_first_recurring: Option<bool>,
    /// How the shop learnt of the charge (an update or the Star ledger).
    pub source: Source,
}

/// An affiliate's commission on a charge (Bot API `AffiliateInfo`): `amount` whole Stars
/// ("rounded to 0; can be negative for refunds") and `nanostar_amount` beyond them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AffiliateShare {
    /// `affiliate_user.id`, or `affiliate_chat.id` when a chat received the commission.
    pub affiliate_id: Option<i64>,
    pub commission_per_mille: i64,
    pub amount: i64,
    pub nanostar_amount: i64,
}

impl PaymentFacts {
    pub fn from_update(payer: i64, payment: &SuccessfulPayment) -> Self {
        PaymentFacts {
            payer,
            charge_id: payment.telegram_payment_charge_id.clone(),
            payload: payment.invoice_payload.clone(),
            currency: payment.currency.clone(),
            total_amount: payment.total_amount,
            nanostar_amount: 0,
            affiliate: None,
            subscription_expires_at: payment.subscription_expiration_date,
            is_first_recurring: payment.is_first_recurring,
            source: Source::Webhook,
        }
    }

    /// Whether the amount fits a price of `price` Stars. A charge an affiliate shared is
    /// smaller than the price by the commission, so it is matched by charge id, payload and
    /// payer alone.
    pub fn amount_matches(&self, price: i64) -> bool {
        self.affiliate.is_some() || self.total_amount == price
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// What the charge paid for is granted (an order paid, a membership started or renewed, a
    /// tip paid); `order_id` is the order's (or tip's) row id.
    Granted { order_id: i64 },
    /// This charge was applied (or recorded) before; nothing changed.
    AlreadyApplied,
    /// Recorded in the ledger, nothing granted: refunded by rule (`refund_due`) or held for a
    /// person, for `reason`.
    Unmatched {
        reason: &'static str,
        refund_due: bool,
    },
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

/// A refund, from a `refunded_payment` message, the shop's own call, or the Star ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundFacts {
    pub charge_id: String,
    pub payload: String,
    pub total_amount: i64,
    /// Who got the Stars back (0 when a message came without a sender).
    pub payer: i64,
}

impl RefundFacts {
    pub fn from_update(payer: i64, refund: &RefundedPayment) -> Self {
        RefundFacts {
            charge_id: refund.telegram_payment_charge_id.clone(),
            payload: refund.invoice_payload.clone(),
            total_amount: refund.total_amount,
            payer,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundApplied {
    /// What the charge granted is taken back (the order or tip refunded, access revoked), or a
    /// refund heard before its payment settled the open order or tip as refunded.
    Refunded { order_id: i64 },
    /// Applied before; nothing changed.
    AlreadyRefunded,
    /// A charge that granted nothing (held, owed back, or naming nothing) is refunded.
    UnmatchedRefunded,
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
