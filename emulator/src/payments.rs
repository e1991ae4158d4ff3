//! Telegram Stars: invoice links, the pre-checkout handshake, charges, refunds and the bot's
//! transaction ledger. The pay flow is the one a real user triggers in the payment sheet, so the
//! shop sees the same update sequence (pre_checkout_query, then successful_payment) as in
//! production, including the 10-second answer deadline.

use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::oneshot;

use super::{
    error::{ApiError, ControlError},
    ids,
    methods::Reply,
    params::Params,
    shapes::EmulatedUser,
    state::State,
    subscriptions::Subscription,
    Emulator,
};

pub(super) const STARS: &str = "XTR";
/// The only subscription period Telegram accepts: 30 days.
pub const SUBSCRIPTION_PERIOD: i64 = 2_592_000;
/// Telegram's highest price for a subscription, in Stars.
pub const MAX_SUBSCRIPTION_STARS: i64 = 10_000;
const LINK_PREFIX: &str = "https://t.me/$";

/// An invoice created with `createInvoiceLink`, kept under its link's slug.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    pub slug: String,
    pub link: String,
    pub title: String,
    pub description: String,
    pub payload: String,
    pub currency: String,
    pub amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_period: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Charge {
    pub user_id: i64,
    /// What the user paid, in Stars.
    pub amount: i64,
    pub payload: String,
    pub refunded: bool,
    /// The affiliate's commission, when the payer was referred by one.
    pub affiliate: Option<AffiliateCut>,
    /// For a subscription's charge: its period.
    pub subscription_period: Option<i64>,
}

/// 1 Star in nanostars (Bot API: `nanostar_amount` counts 1/1000000000 shares of a Star).
pub(super) const NANOSTARS: i64 = 1_000_000_000;

/// An affiliate's commission on one charge (Bot API `AffiliateInfo`).
#[derive(Debug, Clone)]
pub struct AffiliateCut {
    pub affiliate: EmulatedUser,
    pub commission_per_mille: i64,
    pub nanostars: i64,
}

impl Charge {
    /// A charge of `amount` Stars by `user_id`, split with the affiliate who referred them.
    pub(super) fn new(
        state: &State,
        user_id: i64,
        amount: i64,
        payload: &str,
        subscription_period: Option<i64>,
    ) -> Self {
        let affiliate = state
            .users
            .get(&user_id)
            .and_then(|r| r.referral.clone())
            .and_then(|referral| {
                let affiliate = state.user(referral.affiliate_id)?.clone();
                Some(AffiliateCut {
                    affiliate,
                    commission_per_mille: referral.commission_per_mille,
                    // ‰ of the amount: amount × per_mille / 1000 Stars, exactly, in nanostars.
                    nanostars: amount * referral.commission_per_mille * (NANOSTARS / 1000),
                })
            });
        Charge {
            user_id,
            amount,
            payload: payload.to_owned(),
            refunded: false,
            affiliate,
            subscription_period,
        }
    }

    /// What the bot received: the amount less the affiliate's commission.
    pub(super) fn bot_nanostars(&self) -> i64 {
        self.amount * NANOSTARS - self.affiliate.as_ref().map_or(0, |a| a.nanostars)
    }

    /// The bot's `StarTransaction` for this charge (`refund`: for its refund). Bot API: the
    /// transaction's `amount`/`nanostar_amount` are what the bot's balance moved by; the payer is
    /// the `source` of the payment and the `receiver` of its refund (`TransactionPartnerUser`,
    /// `transaction_type` "invoice_payment"), whose `affiliate` (AffiliateInfo: `amount` "rounded
    /// to 0; can be negative for refunds", `nanostar_amount` from -999999999 to 999999999) is
    /// the affiliate's commission, returned on a refund.
    pub(super) fn transaction(
        &self,
        id: &str,
        user: &EmulatedUser,
        date: i64,
        refund: bool,
    ) -> StarTransaction {
        let mut partner = user_partner(user, &self.payload, self.subscription_period);
        if let Some(cut) = &self.affiliate {
            let sign = if refund { -1 } else { 1 };
            let mut info = json!({
                "affiliate_user": cut.affiliate.to_json(),
                "commission_per_mille": cut.commission_per_mille,
                "amount": sign * (cut.nanostars / NANOSTARS),
            });
            if cut.nanostars % NANOSTARS != 0 {
                info["nanostar_amount"] = json!(sign * (cut.nanostars % NANOSTARS));
            }
            partner["affiliate"] = info;
        }
        let bot = self.bot_nanostars();
        StarTransaction {
            id: id.to_owned(),
            amount: bot / NANOSTARS,
            nanostar_amount: (bot % NANOSTARS != 0).then_some(bot % NANOSTARS),
            date,
            source: (!refund).then(|| partner.clone()),
            receiver: refund.then_some(partner),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CheckoutAnswer {
    pub ok: bool,
    pub error_message: Option<String>,
}

/// A Bot API `StarTransaction`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StarTransaction {
    pub id: String,
    pub amount: i64,
    /// Bot API: "The number of 1/1000000000 shares of Telegram Stars transferred by the
    /// transaction; from 0 to 999999999".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nanostar_amount: Option<i64>,
    pub date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver: Option<Value>,
}

/// How a payment attempt by an emulated user ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PaymentOutcome {
    Paid {
        telegram_payment_charge_id: String,
    },
    Declined {
        error_message: String,
    },
    InsufficientStars {
        balance: i64,
        amount: i64,
    },
    TimedOut,
    Cancelled,
    /// The payment broke down on Telegram's side after the user pressed Pay: nothing is charged
    /// and the bot hears nothing (the sheet reports `failed`).
    Failed,
    /// The sheet closed before the payment settled; it goes on (the sheet reports `pending`).
    Pending,
}

/// A payment between its `pre_checkout_query` and the bot's answer.
struct Waiting {
    invoice: Invoice,
    user_id: i64,
    query_id: String,
    answer_rx: oneshot::Receiver<CheckoutAnswer>,
}

enum Started {
    Settled(PaymentOutcome),
    Waiting(Waiting),
}

/// Accepts `https://t.me/$slug`, `t.me/$slug`, `$slug` or the bare slug.
pub fn slug_of(link_or_slug: &str) -> &str {
    let trimmed = link_or_slug.trim();
    match trimmed.rfind('$') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed.rsplit('/').next().unwrap_or(trimmed),
    }
}

pub(super) fn user_partner(
    user: &EmulatedUser,
    payload: &str,
    subscription_period: Option<i64>,
) -> Value {
    let mut partner = json!({
        "type": "user",
        "transaction_type": "invoice_payment",
        "user": user.to_json(),
        "invoice_payload": payload,
    });
    if let Some(period) = subscription_period {
        partner["subscription_period"] = json!(period);
    }
    partner
}

/// The checks Telegram applies to a Stars invoice, in its error vocabulary.
fn validate_invoice(params: &Params) -> Result<Invoice, ApiError> {
    let title = params.str("title").unwrap_or_default();
    if title.is_empty() || title.chars().count() > 32 {
        return Err(ApiError::bad_request("TITLE_INVALID"));
    }
    let description = params.str("description").unwrap_or_default();
    if description.is_empty() || description.chars().count() > 255 {
        return Err(ApiError::bad_request("DESCRIPTION_INVALID"));
    }
    let payload = params.str("payload").unwrap_or_default();
    if payload.is_empty() || payload.len() > 128 {
        return Err(ApiError::bad_request("INVOICE_PAYLOAD_INVALID"));
    }
    if params.str("provider_token").is_some_and(|t| !t.is_empty()) {
        return Err(ApiError::bad_request("PAYMENT_PROVIDER_INVALID"));
    }
    let currency = params.str("currency").unwrap_or_default();
    if currency != STARS {
        return Err(ApiError::bad_request("CURRENCY_INVALID"));
    }
    let prices = params
        .json("prices")?
        .and_then(|p| p.as_array().cloned())
        .ok_or_else(|| ApiError::bad_request("can't parse prices JSON object"))?;
    let [price] = prices.as_slice() else {
        // Stars invoices take exactly one price.
        return Err(ApiError::bad_request("STARS_INVOICE_INVALID"));
    };
    let amount = price
        .get("amount")
        .and_then(Value::as_i64)
        .filter(|a| *a > 0)
        .ok_or_else(|| ApiError::bad_request("CURRENCY_TOTAL_AMOUNT_INVALID"))?;
    if !price.get("label").is_some_and(Value::is_string) {
        return Err(ApiError::bad_request("can't parse prices JSON object"));
    }
    let subscription_period = params.i64("subscription_period")?;
    if subscription_period.is_some_and(|p| p != SUBSCRIPTION_PERIOD) {
        return Err(ApiError::bad_request("SUBSCRIPTION_PERIOD_INVALID"));
    }
    // Bot API, createInvoiceLink: "Subscription price must no exceed 10000 Telegram Stars." The
    // text of the refusal is not documented; Telegram's error for a Stars invoice it will not
    // make is STARS_INVOICE_INVALID.
    if subscription_period.is_some() && amount > MAX_SUBSCRIPTION_STARS {
        return Err(ApiError::bad_request("STARS_INVOICE_INVALID"));
    }
    let slug = ids::invoice_slug();
    Ok(Invoice {
        link: format!("{LINK_PREFIX}{slug}"),
        slug,
        title,
        description,
        payload,
        currency,
        amount,
        photo_url: params.str("photo_url").filter(|u| !u.is_empty()),
        subscription_period,
    })
}

impl Emulator {
    pub(super) async fn create_invoice_link(&self, params: &Params) -> Result<Reply, ApiError> {
        let invoice = validate_invoice(params)?;
        let link = invoice.link.clone();
        self.state()
            .await
            .invoices
            .insert(invoice.slug.clone(), invoice);
        Ok(Reply::new(json!(link)))
    }

    pub(super) async fn answer_pre_checkout_query(
        &self,
        params: &Params,
    ) -> Result<Reply, ApiError> {
        let id = params.str("pre_checkout_query_id").unwrap_or_default();
        let ok = params
            .bool("ok")?
            .ok_or_else(|| ApiError::bad_request("parameter \"ok\" is required"))?;
        let error_message = params.str("error_message").filter(|m| !m.is_empty());
        if !ok && error_message.is_none() {
            return Err(ApiError::bad_request("ERROR_MESSAGE_EMPTY"));
        }
        let waiting = self.state().await.pending_checkouts.remove(&id);
        let answered =
            waiting.is_some_and(|tx| tx.send(CheckoutAnswer { ok, error_message }).is_ok());
        // A missing waiter means unknown, already answered, or expired: Telegram says the same,
        // in the words it uses for every query answered late.
        if !answered {
            return Err(ApiError::bad_request(
                "query is too old and response timeout expired or query ID is invalid",
            ));
        }
        Ok(Reply::new(json!(true)))
    }

    pub(super) async fn refund_star_payment(&self, params: &Params) -> Result<Reply, ApiError> {
        let user_id = params
            .i64("user_id")?
            .ok_or_else(|| ApiError::bad_request("USER_ID_INVALID"))?;
        let charge_id = params.str("telegram_payment_charge_id").unwrap_or_default();
        {
            let mut state = self.state().await;
            let Some(user) = state.user(user_id).cloned() else {
                return Err(ApiError::bad_request("USER_ID_INVALID"));
            };
            let charge = match state.charges.get(&charge_id) {
                Some(charge) if charge.user_id == user_id => charge.clone(),
                _ => return Err(ApiError::bad_request("CHARGE_ID_INVALID")),
            };
            if charge.refunded {
                return Err(ApiError::bad_request("CHARGE_ALREADY_REFUNDED"));
            }
            // The bot pays back what it received; the affiliate returns the commission.
            if state.bot_nanostars < charge.bot_nanostars() {
                return Err(ApiError::bad_request("BALANCE_TOO_LOW"));
            }
            state.bot_nanostars -= charge.bot_nanostars();
            if let Some(record) = state.users.get_mut(&user_id) {
                record.stars += charge.amount;
            }
            if let Some(stored) = state.charges.get_mut(&charge_id) {
                stored.refunded = true;
            }
            let date = self.now();
            // Telegram lists a refund under the charge's id, with the user as the receiver.
            let refund = charge.transaction(&charge_id, &user, date, true);
            state.transactions.push(refund);
            let refunded = json!({
                "currency": STARS,
                "total_amount": charge.amount,
                "invoice_payload": charge.payload,
                "telegram_payment_charge_id": charge_id,
            });
            queue_user_message(&mut state, &user, "refunded_payment", refunded, date);
        }
        self.notify_changes();
        Ok(Reply::new(json!(true)))
    }

    pub(super) async fn get_star_transactions(&self, params: &Params) -> Result<Reply, ApiError> {
        let offset = params.i64("offset")?.unwrap_or(0).max(0) as usize;
        let limit = params.i64("limit")?.unwrap_or(100).clamp(1, 100) as usize;
        let state = self.state().await;
        let page: Vec<&StarTransaction> =
            state.transactions.iter().skip(offset).take(limit).collect();
        Ok(Reply::new(json!({ "transactions": page })))
    }

    pub(super) async fn star_balance(&self) -> Reply {
        // Bot API `StarAmount`: whole Stars and, when there are any, the nanostars beyond them.
        let balance = self.state().await.bot_nanostars;
        let mut amount = json!({ "amount": balance / NANOSTARS });
        if balance % NANOSTARS != 0 {
            amount["nanostar_amount"] = json!(balance % NANOSTARS);
        }
        Reply::new(amount)
    }

    /// The invoice behind a link or slug, as created.
    pub async fn invoice(&self, link_or_slug: &str) -> Result<Invoice, ControlError> {
        let slug = slug_of(link_or_slug);
        self.state()
            .await
            .invoices
            .get(slug)
            .cloned()
            .ok_or_else(|| ControlError::UnknownInvoice(slug.to_owned()))
    }

    /// How many invoice links the bot has made (`createInvoiceLink` calls answered).
    pub async fn invoice_count(&self) -> usize {
        self.state().await.invoices.len()
    }

    /// Every Star transaction of the bot, oldest first.
    pub async fn transactions(&self) -> Vec<StarTransaction> {
        self.state().await.transactions.clone()
    }

    /// The user opens the invoice and closes the sheet without paying; the bot hears nothing.
    pub async fn cancel_invoice(
        &self,
        link_or_slug: &str,
        user_id: i64,
    ) -> Result<PaymentOutcome, ControlError> {
        self.invoice(link_or_slug).await?;
        self.state()
            .await
            .user(user_id)
            .ok_or(ControlError::UnknownUser(user_id))?;
        Ok(PaymentOutcome::Cancelled)
    }

    /// The user presses Pay but the payment fails inside Telegram (a network or store error)
    /// before any pre-checkout: no Stars move and no update reaches the bot.
    pub async fn fail_invoice(
        &self,
        link_or_slug: &str,
        user_id: i64,
    ) -> Result<PaymentOutcome, ControlError> {
        self.invoice(link_or_slug).await?;
        self.state()
            .await
            .user(user_id)
            .ok_or(ControlError::UnknownUser(user_id))?;
        Ok(PaymentOutcome::Failed)
    }

    /// The user pays the invoice: a `pre_checkout_query` goes to the bot, and only an `ok`
    /// answer within the deadline debits the user and sends `successful_payment`.
    pub async fn pay_invoice(
        &self,
        link_or_slug: &str,
        user_id: i64,
    ) -> Result<PaymentOutcome, ControlError> {
        match self.start_payment(link_or_slug, user_id).await? {
            Started::Settled(outcome) => Ok(outcome),
            Started::Waiting(waiting) => self.finish_payment(waiting).await,
        }
    }

    /// As [`Emulator::pay_invoice`], seen from the payment sheet: when the payment has not
    /// settled within `pending_after` (the bot has not yet answered its pre-checkout query),
    /// the sheet closes with `Pending` while the payment goes on, as Telegram's does. Bot API,
    /// Mini Apps `invoiceClosed`: "pending – the payment is still processing. The bot will
    /// receive a service message about a successful payment when the payment is successfully
    /// paid."
    pub async fn pay_invoice_or_pending(
        &self,
        link_or_slug: &str,
        user_id: i64,
        pending_after: Duration,
    ) -> Result<PaymentOutcome, ControlError> {
        let waiting = match self.start_payment(link_or_slug, user_id).await? {
            Started::Settled(outcome) => return Ok(outcome),
            Started::Waiting(waiting) => waiting,
        };
        let emulator = self.clone();
        // The task outlives this call when the sheet reports pending: the payment completes
        // (or times out) on its own, as it would in Telegram.
        let mut payment = tokio::spawn(async move { emulator.finish_payment(waiting).await });
        match tokio::time::timeout(pending_after, &mut payment).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Ok(PaymentOutcome::Failed),
            Err(_) => Ok(PaymentOutcome::Pending),
        }
    }

    /// Sends the `pre_checkout_query`, unless the user cannot pay at all.
    async fn start_payment(
        &self,
        link_or_slug: &str,
        user_id: i64,
    ) -> Result<Started, ControlError> {
        let invoice = self.invoice(link_or_slug).await?;
        let query_id = ids::query_id();
        let (answer_tx, answer_rx) = oneshot::channel();
        {
            let mut state = self.state().await;
            let record = state
                .users
                .get(&user_id)
                .ok_or(ControlError::UnknownUser(user_id))?;
            if record.stars < invoice.amount {
                return Ok(Started::Settled(PaymentOutcome::InsufficientStars {
                    balance: record.stars,
                    amount: invoice.amount,
                }));
            }
            let user = record.user.clone();
            state.pending_checkouts.insert(query_id.clone(), answer_tx);
            state.queue_update(
                "pre_checkout_query",
                json!({
                    "id": query_id,
                    "from": user.to_json(),
                    "currency": invoice.currency,
                    "total_amount": invoice.amount,
                    "invoice_payload": invoice.payload,
                }),
            );
        }
        self.notify_changes();
        Ok(Started::Waiting(Waiting {
            invoice,
            user_id,
            query_id,
            answer_rx,
        }))
    }

    /// Waits for the bot's answer; an `ok` within the deadline completes the payment.
    async fn finish_payment(&self, waiting: Waiting) -> Result<PaymentOutcome, ControlError> {
        let Waiting {
            invoice,
            user_id,
            query_id,
            answer_rx,
        } = waiting;
        let answer = tokio::time::timeout(self.inner.config.pre_checkout_timeout, answer_rx).await;
        let answer = match answer {
            Ok(Ok(answer)) => answer,
            // Late answers must then be refused as too old, so the query is forgotten.
            Ok(Err(_)) | Err(_) => {
                self.state().await.pending_checkouts.remove(&query_id);
                return Ok(PaymentOutcome::TimedOut);
            }
        };
        if !answer.ok {
            return Ok(PaymentOutcome::Declined {
                error_message: answer.error_message.unwrap_or_default(),
            });
        }
        let outcome = {
            let mut state = self.state().await;
            self.complete_payment(&mut state, &invoice, user_id)?
        };
        self.notify_changes();
        Ok(outcome)
    }

    fn complete_payment(
        &self,
        state: &mut State,
        invoice: &Invoice,
        user_id: i64,
    ) -> Result<PaymentOutcome, ControlError> {
        let record = state
            .users
            .get_mut(&user_id)
            .ok_or(ControlError::UnknownUser(user_id))?;
        // The balance may have changed while the bot was deciding.
        if record.stars < invoice.amount {
            return Ok(PaymentOutcome::InsufficientStars {
                balance: record.stars,
                amount: invoice.amount,
            });
        }
        record.stars -= invoice.amount;
        let user = record.user.clone();
        let charge_id = ids::charge_id();
        let date = self.now();
        let charge = Charge::new(
            state,
            user_id,
            invoice.amount,
            &invoice.payload,
            invoice.subscription_period,
        );
        state.bot_nanostars += charge.bot_nanostars();
        state
            .transactions
            .push(charge.transaction(&charge_id, &user, date, false));
        state.charges.insert(charge_id.clone(), charge);
        let mut payment = json!({
            "currency": invoice.currency,
            "total_amount": invoice.amount,
            "invoice_payload": invoice.payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        });
        if let Some(period) = invoice.subscription_period {
            payment["subscription_expiration_date"] = json!(date + period);
            payment["is_recurring"] = json!(true);
            payment["is_first_recurring"] = json!(true);
            state.subscriptions.insert(
                charge_id.clone(),
                Subscription::new(&charge_id, user_id, invoice, period, date + period),
            );
        }
        queue_user_message(state, &user, "successful_payment", payment, date);
        Ok(PaymentOutcome::Paid {
            telegram_payment_charge_id: charge_id,
        })
    }
}

/// Queues a service message from `user` in their private chat with the bot.
pub(super) fn queue_user_message(
    state: &mut State,
    user: &EmulatedUser,
    field: &str,
    content: Value,
    date: i64,
) {
    let message_id = state.next_message_id(user.id);
    let mut message = json!({
        "message_id": message_id,
        "from": user.to_json(),
        "chat": user.private_chat_json(),
        "date": date,
    });
    message[field] = content;
    state.queue_update("message", message);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        json!({
            "title": "Nebula poster",
            "description": "A3 print",
            "payload": "order:42",
            "currency": "XTR",
            "prices": [{"label": "Poster", "amount": 150}],
        })
    }

    fn with(key: &str, value: Value) -> Params {
        let mut params = valid();
        params[key] = value;
        Params::from_json(params)
    }

    fn description(result: Result<Invoice, ApiError>) -> String {
        result.expect_err("must be rejected").to_string()
    }

    #[test]
    fn valid_invoice_gets_a_link() {
        let invoice = validate_invoice(&Params::from_json(valid())).unwrap();
        assert_eq!(invoice.link, format!("https://t.me/${}", invoice.slug));
        assert_eq!(invoice.amount, 150);
        // Form posts carry prices as a JSON string.
        let form = with("prices", json!("[{\"label\":\"Poster\",\"amount\":150}]"));
        assert_eq!(validate_invoice(&form).unwrap().amount, 150);
    }

    #[test]
    fn stars_rules_are_enforced() {
        let cases = [
            ("currency", json!("USD"), "Bad Request: CURRENCY_INVALID"),
            (
                "provider_token",
                json!("tok"),
                "Bad Request: PAYMENT_PROVIDER_INVALID",
            ),
            ("payload", json!(""), "Bad Request: INVOICE_PAYLOAD_INVALID"),
            (
                "payload",
                json!("x".repeat(129)),
                "Bad Request: INVOICE_PAYLOAD_INVALID",
            ),
            ("title", json!("t".repeat(33)), "Bad Request: TITLE_INVALID"),
            (
                "description",
                json!("d".repeat(256)),
                "Bad Request: DESCRIPTION_INVALID",
            ),
            (
                "subscription_period",
                json!(86400),
                "Bad Request: SUBSCRIPTION_PERIOD_INVALID",
            ),
            (
                "prices",
                json!([{"label": "a", "amount": 1}, {"label": "b", "amount": 2}]),
                "Bad Request: STARS_INVOICE_INVALID",
            ),
            (
                "prices",
                json!([{"label": "a", "amount": 0}]),
                "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID",
            ),
        ];
        for (key, value, expected) in cases {
            assert_eq!(
                description(validate_invoice(&with(key, value))),
                expected,
                "{key}"
            );
        }
        // Limits count characters for the title and bytes for the payload.
        assert!(validate_invoice(&with("title", json!("é".repeat(32)))).is_ok());
        assert!(validate_invoice(&with("payload", json!("é".repeat(65)))).is_err());
    }

    #[test]
    fn slugs_are_found_in_any_link_form() {
        assert_eq!(slug_of("https://t.me/$abc"), "abc");
        assert_eq!(slug_of("$abc"), "abc");
        assert_eq!(slug_of("abc"), "abc");
    }
}
