//! The words the payment modules pass one another: why a pre-checkout is declined, the facts of
//! a charge or a refund however they arrived, what applying them came to, and who acts. They sit
//! below every module that speaks them, so that discount codes, the kinds (`payable.rs`) and the
//! ledger need not import the edge (`checkout.rs`) that hands them facts and calls them, nor the
//! refunds that name an actor: imports among the payment modules run one way, from the
//! orchestrating ones down.

use tgbot::types::{RefundedPayment, SuccessfulPayment};

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

/// How the shop learnt of a charge (`star_charges.source`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// A Telegram update, by webhook or long polling.
    #[default]
    Webhook,
    /// The bot's Star transactions (`getStarTransactions`).
    Reconciliation,
}

impl Source {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Source::Webhook => "webhook",
            Source::Reconciliation => "reconciliation",
        }
    }
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

/// Who asks for a refund, or settles a held charge. `is_admin` comes from configuration, never
/// from the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub is_admin: bool,
}
