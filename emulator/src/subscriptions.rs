//! Telegram Stars subscriptions: an invoice made with `subscription_period` starts one when it is
//! paid; at each period's end Telegram charges the user again and sends the bot a
//! `successful_payment` with `is_recurring`, a new charge id and the new
//! `subscription_expiration_date` (no pre-checkout query). `editUserStarSubscription` lets the bot
//! stop the renewal, and later allow the user to turn it back on (Bot API: "Pass False to allow
//! the user to re-enable a subscription that was previously canceled by the bot"): it stays off
//! until the user does so in Telegram. The user can stop and restart it in Telegram too. Renewals
//! happen when the emulator's clock is advanced past a subscription's end, or at once through the
//! control API.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    error::{ApiError, ControlError},
    ids,
    methods::Reply,
    params::Params,
    payments::{queue_user_message, Charge, Invoice, STARS},
    state::State,
    Emulator,
};

/// One user's subscription to an invoice of the bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    /// The first charge's id: how the bot names the subscription.
    pub charge_id: String,
    pub user_id: i64,
    pub payload: String,
    pub title: String,
    pub amount: i64,
    pub period: i64,
    /// Paid up to here (Unix time).
    pub expires_at: i64,
    /// Renewal is off: the subscription ends with its period.
    pub canceled: bool,
    /// The bot canceled it and has not allowed the user to turn it back on.
    pub canceled_by_bot: bool,
    /// The user turned renewal off in Telegram.
    pub canceled_by_user: bool,
    /// No longer renews: it ran out after a cancellation or a failed charge.
    pub ended: bool,
    /// Every charge of it, the first included, oldest first.
    pub charges: Vec<String>,
}

impl Subscription {
    pub(super) fn new(
        charge_id: &str,
        user_id: i64,
        invoice: &Invoice,
        period: i64,
        expires_at: i64,
    ) -> Self {
        Subscription {
            charge_id: charge_id.to_owned(),
            user_id,
            payload: invoice.payload.clone(),
            title: invoice.title.clone(),
            amount: invoice.amount,
            period,
            expires_at,
            canceled: false,
            canceled_by_bot: false,
            canceled_by_user: false,
            ended: false,
            charges: vec![charge_id.to_owned()],
        }
    }
}

/// What became of one due renewal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RenewalOutcome {
    /// Charged again; the bot was sent `successful_payment`.
    Renewed {
        telegram_payment_charge_id: String,
        subscription_expiration_date: i64,
    },
    /// Renewal was turned off: the subscription ended at its period's end, nothing charged.
    Ended,
    /// The user could not pay: the subscription ended, nothing charged.
    InsufficientStars { balance: i64, amount: i64 },
}

/// A renewal of the subscription named by its first charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Renewal {
    pub subscription: String,
    #[serde(flatten)]
    pub outcome: RenewalOutcome,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AdvanceClock {
    pub seconds: i64,
}

impl Emulator {
    /// `editUserStarSubscription`: the bot cancels renewal (access runs to the period's end) or
    /// lifts its own cancellation, which lets the user turn renewal back on but does not turn it
    /// on. Any charge of the subscription names it.
    pub(super) async fn edit_user_star_subscription(
        &self,
        params: &Params,
    ) -> Result<Reply, ApiError> {
        let user_id = params
            .i64("user_id")?
            .ok_or_else(|| ApiError::bad_request("USER_ID_INVALID"))?;
        let charge_id = params.str("telegram_payment_charge_id").unwrap_or_default();
        let is_canceled = params
            .bool("is_canceled")?
            .ok_or_else(|| ApiError::bad_request("parameter \"is_canceled\" is required"))?;
        let mut state = self.state().await;
        if state.user(user_id).is_none() {
            return Err(ApiError::bad_request("USER_ID_INVALID"));
        }
        let subscription = state
            .subscriptions
            .values_mut()
            .find(|s| s.charges.contains(&charge_id))
            .filter(|s| s.user_id == user_id)
            .ok_or_else(|| ApiError::bad_request("CHARGE_ID_INVALID"))?;
        if subscription.ended {
            return Err(ApiError::bad_request("SUBSCRIPTION_EXPIRED"));
        }
        if is_canceled {
            subscription.canceled = true;
            subscription.canceled_by_bot = true;
        } else {
            // The bot may only undo its own cancellation; the user's stands.
            if subscription.canceled_by_user {
                return Err(ApiError::bad_request("SUBSCRIPTION_CANCELED_BY_USER"));
            }
            subscription.canceled_by_bot = false;
        }
        Ok(Reply::new(json!(true)))
    }

    /// Every subscription, by first charge id.
    pub async fn subscriptions(&self) -> Vec<Subscription> {
        self.state().await.subscriptions.values().cloned().collect()
    }

    /// The user turns renewal off in Telegram's own subscription settings (the bot hears nothing).
    pub async fn cancel_subscription_as_user(
        &self,
        charge_id: &str,
    ) -> Result<Subscription, ControlError> {
        let mut state = self.state().await;
        let subscription = state
            .subscriptions
            .get_mut(charge_id)
            .ok_or_else(|| ControlError::Invalid(format!("no subscription {charge_id:?}")))?;
        subscription.canceled = true;
        subscription.canceled_by_user = true;
        Ok(subscription.clone())
    }

    /// The user turns renewal back on in Telegram's subscription settings (the bot hears
    /// nothing until the next charge). Refused while the bot's cancellation stands.
    pub async fn reenable_subscription_as_user(
        &self,
        charge_id: &str,
    ) -> Result<Subscription, ControlError> {
        let mut state = self.state().await;
        let subscription = state
            .subscriptions
            .get_mut(charge_id)
            .ok_or_else(|| ControlError::Invalid(format!("no subscription {charge_id:?}")))?;
        if subscription.ended {
            return Err(ControlError::Invalid("the subscription has ended".into()));
        }
        if subscription.canceled_by_bot {
            return Err(ControlError::Invalid(
                "the bot canceled this subscription; only the bot can allow it again".into(),
            ));
        }
        subscription.canceled = false;
        subscription.canceled_by_user = false;
        Ok(subscription.clone())
    }

    /// The period ends now: Telegram charges the next one (or ends a canceled subscription),
    /// whatever the clock says. The new period starts where the paid one ended.
    pub async fn renew_subscription(&self, charge_id: &str) -> Result<Renewal, ControlError> {
        let renewal = {
            let mut state = self.state().await;
            if !state.subscriptions.contains_key(charge_id) {
                return Err(ControlError::Invalid(format!(
                    "no subscription {charge_id:?}"
                )));
            }
            renew(&mut state, charge_id, self.now())?
        };
        self.notify_changes();
        Ok(renewal)
    }

    /// Time passes: the clock (shared with the dev preview's shop) moves `seconds` forward and
    /// every subscription whose period ended by then renews, period after period, as Telegram
    /// would have done meanwhile.
    pub async fn advance_clock(&self, seconds: i64) -> Result<Vec<Renewal>, ControlError> {
        if seconds <= 0 {
            return Err(ControlError::Invalid(
                "the clock only moves forward (seconds > 0)".into(),
            ));
        }
        self.inner.config.clock.advance(seconds);
        let now = self.now();
        let mut renewals = Vec::new();
        {
            let mut state = self.state().await;
            loop {
                let due: Vec<String> = state
                    .subscriptions
                    .values()
                    .filter(|s| !s.ended && s.expires_at <= now)
                    .map(|s| s.charge_id.clone())
                    .collect();
                if due.is_empty() {
                    break;
                }
                for charge_id in due {
                    renewals.push(renew(&mut state, &charge_id, now)?);
                }
            }
        }
        if !renewals.is_empty() {
            self.notify_changes();
        }
        Ok(renewals)
    }
}

/// Charges the next period of a subscription (or ends it), queuing the bot's update.
fn renew(state: &mut State, charge_id: &str, now: i64) -> Result<Renewal, ControlError> {
    let unknown = || ControlError::Invalid(format!("no subscription {charge_id:?}"));
    let sub = state
        .subscriptions
        .get(charge_id)
        .ok_or_else(unknown)?
        .clone();
    let end = |state: &mut State, outcome: RenewalOutcome| {
        if let Some(s) = state.subscriptions.get_mut(charge_id) {
            s.ended = true;
        }
        Renewal {
            subscription: charge_id.to_owned(),
            outcome,
        }
    };
    if sub.ended || sub.canceled {
        return Ok(end(state, RenewalOutcome::Ended));
    }
    let record = state
        .users
        .get_mut(&sub.user_id)
        .ok_or(ControlError::UnknownUser(sub.user_id))?;
    if record.stars < sub.amount {
        let balance = record.stars;
        return Ok(end(
            state,
            RenewalOutcome::InsufficientStars {
                balance,
                amount: sub.amount,
            },
        ));
    }
    record.stars -= sub.amount;
    let user = record.user.clone();
    let new_charge = ids::charge_id();
    let expires_at = sub.expires_at + sub.period;
    let charge = Charge::new(
        state,
        sub.user_id,
        sub.amount,
        &sub.payload,
        Some(sub.period),
    );
    state.bot_nanostars += charge.bot_nanostars();
    state
        .transactions
        .push(charge.transaction(&new_charge, &user, now, false));
    state.charges.insert(new_charge.clone(), charge);
    if let Some(s) = state.subscriptions.get_mut(charge_id) {
        s.expires_at = expires_at;
        s.charges.push(new_charge.clone());
    }
    let payment: Value = json!({
        "currency": STARS,
        "total_amount": sub.amount,
        "invoice_payload": sub.payload,
        "telegram_payment_charge_id": new_charge,
        "provider_payment_charge_id": "",
        "subscription_expiration_date": expires_at,
        "is_recurring": true,
    });
    queue_user_message(state, &user, "successful_payment", payment, now);
    Ok(Renewal {
        subscription: charge_id.to_owned(),
        outcome: RenewalOutcome::Renewed {
            telegram_payment_charge_id: new_charge,
            subscription_expiration_date: expires_at,
        },
    })
}
