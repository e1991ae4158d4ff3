//! The control API: plays the users (profiles, Star balances, messages to the bot, payments)
//! and injects faults. Every route has an async method twin for in-process tests.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

use super::{
    error::ControlError,
    ids::unix_now,
    shapes::{command_entities, EmulatedUser},
    state::{ChatType, GroupChat, RateLimit, Referral, SentMessage, UserRecord, UserView},
    AdvanceClock, Emulator, PaymentOutcome,
};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SetBalance {
    pub balance: i64,
}

/// Stars bought by the user (a top-up in Telegram's Stars store).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AddStars {
    pub amount: i64,
}

/// The user followed an affiliate's referral link to the bot (Telegram Star affiliate programs:
/// the affiliate earns `commission_per_mille` ‰ of what the user pays the bot).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReferUser {
    pub affiliate_user_id: i64,
    pub commission_per_mille: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct UserMessage {
    pub text: String,
    /// A group the user writes in (one of its members); the private chat with the bot when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i64>,
}

/// The user types `@bot <query>` (`POST /control/users/{id}/inline`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct InlineRequest {
    #[serde(default)]
    pub query: String,
    /// The `next_offset` of the bot's last answer to the same words: the user scrolled on.
    #[serde(default)]
    pub offset: String,
    /// The kind of chat the user types in (`sender`, `private`, `group`, …), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_type: Option<String>,
}

/// The user sends a prepared message (`POST /control/prepared/{id}/share`), as
/// `WebApp.shareMessage` lets them: to `chat_id`, or to their chat with the bot.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ShareRequest {
    pub user_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i64>,
}

/// A group, supergroup or channel with the bot in it (`POST /control/chats`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NewChat {
    #[serde(rename = "type")]
    pub kind: ChatType,
    pub title: String,
    /// Emulated users in the chat besides the bot.
    #[serde(default)]
    pub members: Vec<i64>,
    /// Members who administer it (the first created it).
    #[serde(default)]
    pub admins: Vec<i64>,
    /// A public chat's `@username`.
    #[serde(default)]
    pub username: Option<String>,
    /// Whether the bot is an administrator (yes unless told otherwise).
    #[serde(default = "yes")]
    pub bot_admin: bool,
}

fn yes() -> bool {
    true
}

impl NewChat {
    /// A chat of `kind` with `members`, none of them an administrator; the bot administers it.
    pub fn new(kind: ChatType, title: impl Into<String>, members: Vec<i64>) -> Self {
        NewChat {
            kind,
            title: title.into(),
            members,
            admins: Vec::new(),
            username: None,
            bot_admin: true,
        }
    }
}

/// New rights in a chat (`POST /control/chats/{id}/rights`): who administers it, and whether the
/// bot does; what is left out stays.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ChatRights {
    #[serde(default)]
    pub admins: Option<Vec<i64>>,
    #[serde(default)]
    pub bot_admin: Option<bool>,
}

/// Names an invoice by full link or slug.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PayRequest {
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    pub user_id: i64,
    /// As a payment sheet: report `pending` when the payment has not settled after this many
    /// milliseconds (it goes on). Without it, the call waits for the outcome.
    #[serde(default)]
    pub pending_after_ms: Option<u64>,
}

impl PayRequest {
    fn invoice(&self) -> Result<&str, ControlError> {
        self.link
            .as_deref()
            .or(self.slug.as_deref())
            .ok_or_else(|| ControlError::Invalid("give \"link\" or \"slug\"".into()))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DropWebhookDeliveries {
    pub count: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RateLimitRequest {
    pub count: u32,
    pub retry_after: u64,
    /// Only calls of this Bot API method (any case) meet the limit; all calls when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

impl Emulator {
    /// Creates or updates a user; a new user starts with `initial_stars`, an existing one keeps
    /// their balance.
    pub async fn set_user(&self, user: EmulatedUser) -> Result<UserView, ControlError> {
        if user.id <= 0 || user.id == self.bot_id() {
            return Err(ControlError::Invalid(format!(
                "invalid user id {}",
                user.id
            )));
        }
        if user.first_name.trim().is_empty() {
            return Err(ControlError::Invalid("first_name is empty".into()));
        }
        let initial = self.inner.config.initial_stars;
        let mut state = self.state().await;
        let record = state
            .users
            .entry(user.id)
            .and_modify(|r| r.user = user.clone())
            .or_insert_with(|| UserRecord {
                user,
                stars: initial,
                referral: None,
            });
        Ok(UserView::from(&*record))
    }

    pub async fn user(&self, id: i64) -> Result<UserView, ControlError> {
        self.state()
            .await
            .users
            .get(&id)
            .map(UserView::from)
            .ok_or(ControlError::UnknownUser(id))
    }

    pub async fn balance(&self, id: i64) -> Result<i64, ControlError> {
        Ok(self.user(id).await?.stars)
    }

    pub async fn set_balance(&self, id: i64, balance: i64) -> Result<UserView, ControlError> {
        if balance < 0 {
            return Err(ControlError::Invalid(
                "a Star balance cannot be negative".into(),
            ));
        }
        let mut state = self.state().await;
        let record = state
            .users
            .get_mut(&id)
            .ok_or(ControlError::UnknownUser(id))?;
        record.stars = balance;
        Ok(UserView::from(&*record))
    }

    /// From now on `id`'s payments to the bot share `commission_per_mille` ‰ with the affiliate
    /// `affiliate_user_id` (another emulated user). Telegram's programs pay 1 to 900 ‰.
    pub async fn refer_user(&self, id: i64, refer: ReferUser) -> Result<UserView, ControlError> {
        if !(1..=900).contains(&refer.commission_per_mille) {
            return Err(ControlError::Invalid(
                "commission_per_mille must be 1 to 900".into(),
            ));
        }
        let mut state = self.state().await;
        if refer.affiliate_user_id == id || state.user(refer.affiliate_user_id).is_none() {
            return Err(ControlError::UnknownUser(refer.affiliate_user_id));
        }
        let record = state
            .users
            .get_mut(&id)
            .ok_or(ControlError::UnknownUser(id))?;
        record.referral = Some(Referral {
            affiliate_id: refer.affiliate_user_id,
            commission_per_mille: refer.commission_per_mille,
        });
        Ok(UserView::from(&*record))
    }

    /// The user buys `amount` Stars; the bot's balance and ledger are untouched, as in Telegram.
    pub async fn add_stars(&self, id: i64, amount: i64) -> Result<UserView, ControlError> {
        if amount <= 0 {
            return Err(ControlError::Invalid(
                "a top-up must be a positive number of Stars".into(),
            ));
        }
        let mut state = self.state().await;
        let record = state
            .users
            .get_mut(&id)
            .ok_or(ControlError::UnknownUser(id))?;
        record.stars = record
            .stars
            .checked_add(amount)
            .ok_or_else(|| ControlError::Invalid("the balance would overflow".into()))?;
        Ok(UserView::from(&*record))
    }

    /// Makes a group, supergroup or channel with the bot and `members` in it. Its id is
    /// negative, as Telegram's are (supergroups and channels `-100…`).
    pub async fn create_chat(&self, chat: NewChat) -> Result<GroupChat, ControlError> {
        if chat.title.trim().is_empty() {
            return Err(ControlError::Invalid("a chat needs a title".into()));
        }
        let mut state = self.state().await;
        if let Some(unknown) = chat.members.iter().find(|id| state.user(**id).is_none()) {
            return Err(ControlError::UnknownUser(*unknown));
        }
        if let Some(outsider) = chat.admins.iter().find(|id| !chat.members.contains(id)) {
            return Err(ControlError::Invalid(format!(
                "admin {outsider} must be a member of the chat"
            )));
        }
        let base = match chat.kind {
            ChatType::Group => -4_000_000_000,
            ChatType::Supergroup | ChatType::Channel => -1_002_000_000_000,
        };
        let created = GroupChat {
            id: base - state.chats.len() as i64,
            kind: chat.kind,
            title: chat.title,
            username: chat.username.map(|u| u.trim_start_matches('@').to_owned()),
            members: chat.members,
            admins: chat.admins,
            bot_admin: chat.bot_admin,
        };
        state.chats.insert(created.id, created.clone());
        Ok(created)
    }

    /// Changes who administers a chat (an owner demotes an admin, or the bot).
    pub async fn set_chat_rights(
        &self,
        chat_id: i64,
        rights: ChatRights,
    ) -> Result<GroupChat, ControlError> {
        let mut state = self.state().await;
        let chat = state
            .chats
            .get_mut(&chat_id)
            .ok_or_else(|| ControlError::Invalid(format!("unknown chat {chat_id}")))?;
        if let Some(admins) = rights.admins {
            if let Some(outsider) = admins.iter().find(|id| !chat.members.contains(id)) {
                return Err(ControlError::Invalid(format!(
                    "admin {outsider} must be a member of the chat"
                )));
            }
            chat.admins = admins;
        }
        if let Some(bot_admin) = rights.bot_admin {
            chat.bot_admin = bot_admin;
        }
        Ok(chat.clone())
    }

    /// The user writes to the bot; returns the queued update.
    pub async fn send_user_message(&self, user_id: i64, text: &str) -> Result<Value, ControlError> {
        self.send_message_in(user_id, None, text).await
    }

    /// The user writes in `chat_id` (a group they are in), or to the bot when `None`; returns
    /// the queued update.
    pub async fn send_message_in(
        &self,
        user_id: i64,
        chat_id: Option<i64>,
        text: &str,
    ) -> Result<Value, ControlError> {
        if text.trim().is_empty() {
            return Err(ControlError::Invalid("message text is empty".into()));
        }
        let update = {
            let mut state = self.state().await;
            let user = state
                .user(user_id)
                .cloned()
                .ok_or(ControlError::UnknownUser(user_id))?;
            let chat = match chat_id {
                None => user.private_chat_json(),
                Some(id) => {
                    let chat = state
                        .chats
                        .get(&id)
                        .ok_or_else(|| ControlError::Invalid(format!("unknown chat {id}")))?;
                    // In a channel only admins post, as the channel; no user writes there.
                    if chat.kind == ChatType::Channel || !chat.members.contains(&user_id) {
                        return Err(ControlError::Invalid(format!(
                            "user {user_id} cannot write in chat {id}"
                        )));
                    }
                    chat.to_json()
                }
            };
            let message_id = state.next_message_id(chat_id.unwrap_or(user_id));
            let mut message = json!({
                "message_id": message_id,
                "from": user.to_json(),
                "chat": chat,
                "date": unix_now(),
                "text": text,
            });
            let entities = command_entities(text);
            if !entities.is_empty() {
                message["entities"] = json!(entities);
            }
            state.queue_update("message", message)
        };
        self.notify_changes();
        Ok(update)
    }

    /// Everything the bot sent to the chat, oldest first.
    pub async fn chat_messages(&self, chat_id: i64) -> Vec<SentMessage> {
        self.state()
            .await
            .sent
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// The next `count` Bot API calls (of `method` only, when given) answer 429 with
    /// `retry_after` seconds.
    pub async fn rate_limit_next_calls(&self, count: u32, retry_after: u64, method: Option<&str>) {
        self.state().await.rate_limit = (count > 0).then_some(RateLimit {
            remaining: count,
            retry_after,
            method: method.map(str::to_ascii_lowercase),
        });
    }
}

pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/control/users", post(upsert_user))
        .route("/control/users/{id}", get(get_user))
        .route("/control/users/{id}/stars", post(set_stars))
        .route("/control/users/{id}/stars/add", post(add_stars))
        .route("/control/users/{id}/affiliate", post(refer_user))
        .route("/control/users/{id}/messages", post(user_message))
        .route("/control/users/{id}/inline", post(inline_query))
        .route("/control/inline/{id}", get(inline_answer))
        .route("/control/prepared/{id}", get(prepared_message))
        .route("/control/prepared/{id}/share", post(share_prepared))
        .route("/control/chats", post(create_chat))
        .route("/control/chats/{id}/rights", post(chat_rights))
        .route("/control/invoices/pay", post(pay))
        .route("/control/invoices/cancel", post(cancel))
        .route("/control/invoices/fail", post(fail))
        .route("/control/invoices/{slug}", get(get_invoice))
        .route("/control/webapp", get(webapp_keys))
        .route("/control/chats/{chat_id}/messages", get(chat_messages))
        .route("/control/updates", post(inject))
        .route("/control/webhook/drop", post(drop_deliveries))
        .route("/control/webhook", get(webhook_status))
        .route("/control/rate-limit", post(rate_limit))
        .route("/control/transactions", get(transactions))
        .route("/control/bot", get(bot_settings))
        .route("/control/clock/advance", post(advance_clock))
        .route("/control/subscriptions", get(subscriptions))
        .route("/control/subscriptions/{charge_id}/renew", post(renew))
        .route(
            "/control/subscriptions/{charge_id}/cancel",
            post(cancel_subscription),
        )
        .route(
            "/control/subscriptions/{charge_id}/reenable",
            post(reenable_subscription),
        )
}

fn reply<T: Serialize>(result: Result<T, ControlError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(err) => err.into_response(),
    }
}

async fn upsert_user(State(emu): State<Emulator>, Json(user): Json<EmulatedUser>) -> Response {
    reply(emu.set_user(user).await)
}

async fn get_user(State(emu): State<Emulator>, Path(id): Path<i64>) -> Response {
    reply(emu.user(id).await)
}

async fn set_stars(
    State(emu): State<Emulator>,
    Path(id): Path<i64>,
    Json(body): Json<SetBalance>,
) -> Response {
    reply(emu.set_balance(id, body.balance).await)
}

async fn add_stars(
    State(emu): State<Emulator>,
    Path(id): Path<i64>,
    Json(body): Json<AddStars>,
) -> Response {
    reply(emu.add_stars(id, body.amount).await)
}

async fn refer_user(
    State(emu): State<Emulator>,
    Path(id): Path<i64>,
    Json(body): Json<ReferUser>,
) -> Response {
    reply(emu.refer_user(id, body).await)
}

async fn user_message(
    State(emu): State<Emulator>,
    Path(id): Path<i64>,
    Json(body): Json<UserMessage>,
) -> Response {
    reply(emu.send_message_in(id, body.chat_id, &body.text).await)
}

async fn inline_query(
    State(emu): State<Emulator>,
    Path(id): Path<i64>,
    Json(body): Json<InlineRequest>,
) -> Response {
    reply(emu.inline_query(id, &body).await)
}

async fn inline_answer(State(emu): State<Emulator>, Path(id): Path<String>) -> Response {
    reply(emu.inline_answer(&id).await)
}

async fn prepared_message(State(emu): State<Emulator>, Path(id): Path<String>) -> Response {
    reply(emu.prepared_message(&id).await)
}

async fn share_prepared(
    State(emu): State<Emulator>,
    Path(id): Path<String>,
    Json(body): Json<ShareRequest>,
) -> Response {
    reply(emu.share_prepared(&id, body.user_id, body.chat_id).await)
}

async fn chat_rights(
    State(emu): State<Emulator>,
    Path(id): Path<i64>,
    Json(body): Json<ChatRights>,
) -> Response {
    reply(emu.set_chat_rights(id, body).await)
}

async fn create_chat(State(emu): State<Emulator>, Json(body): Json<NewChat>) -> Response {
    reply(emu.create_chat(body).await)
}

async fn pay(State(emu): State<Emulator>, Json(body): Json<PayRequest>) -> Response {
    let outcome: Result<PaymentOutcome, ControlError> = async {
        let invoice = body.invoice()?;
        match body.pending_after_ms {
            Some(ms) => {
                emu.pay_invoice_or_pending(invoice, body.user_id, Duration::from_millis(ms))
                    .await
            }
            None => emu.pay_invoice(invoice, body.user_id).await,
        }
    }
    .await;
    reply(outcome)
}

async fn cancel(State(emu): State<Emulator>, Json(body): Json<PayRequest>) -> Response {
    let outcome: Result<PaymentOutcome, ControlError> = async {
        let invoice = body.invoice()?;
        emu.cancel_invoice(invoice, body.user_id).await
    }
    .await;
    reply(outcome)
}

async fn fail(State(emu): State<Emulator>, Json(body): Json<PayRequest>) -> Response {
    let outcome: Result<PaymentOutcome, ControlError> = async {
        let invoice = body.invoice()?;
        emu.fail_invoice(invoice, body.user_id).await
    }
    .await;
    reply(outcome)
}

async fn get_invoice(State(emu): State<Emulator>, Path(slug): Path<String>) -> Response {
    reply(emu.invoice(&slug).await)
}

async fn chat_messages(State(emu): State<Emulator>, Path(chat_id): Path<i64>) -> Response {
    Json(emu.chat_messages(chat_id).await).into_response()
}

async fn inject(State(emu): State<Emulator>, Json(update): Json<Value>) -> Response {
    reply(emu.inject_update(update).await)
}

async fn drop_deliveries(
    State(emu): State<Emulator>,
    Json(body): Json<DropWebhookDeliveries>,
) -> Response {
    Json(emu.drop_next_webhook_deliveries(body.count).await).into_response()
}

async fn webhook_status(State(emu): State<Emulator>) -> Response {
    Json(json!({
        "info": emu.webhook_info().await,
        "delivery": emu.delivery_stats().await,
    }))
    .into_response()
}

async fn rate_limit(State(emu): State<Emulator>, Json(body): Json<RateLimitRequest>) -> Response {
    emu.rate_limit_next_calls(body.count, body.retry_after, body.method.as_deref())
        .await;
    Json(json!({ "count": body.count, "retry_after": body.retry_after })).into_response()
}

/// The key the emulator signs Mini App init data with, published as Telegram publishes its own
/// for third parties ("Validating data for Third-Party Use").
async fn webapp_keys(State(emu): State<Emulator>) -> Response {
    Json(json!({
        "bot_id": emu.bot_id(),
        "public_key": hex::encode(emu.webapp_public_key()),
    }))
    .into_response()
}

async fn transactions(State(emu): State<Emulator>) -> Response {
    Json(emu.transactions().await).into_response()
}

async fn bot_settings(State(emu): State<Emulator>) -> Response {
    Json(json!({
        "commands": emu.bot_commands().await,
        "menu_buttons": emu.menu_buttons().await,
    }))
    .into_response()
}

async fn advance_clock(State(emu): State<Emulator>, Json(body): Json<AdvanceClock>) -> Response {
    reply(
        emu.advance_clock(body.seconds)
            .await
            .map(|renewals| json!({ "now": emu.now(), "renewals": renewals })),
    )
}

async fn subscriptions(State(emu): State<Emulator>) -> Response {
    Json(emu.subscriptions().await).into_response()
}

async fn renew(State(emu): State<Emulator>, Path(charge_id): Path<String>) -> Response {
    reply(emu.renew_subscription(&charge_id).await)
}

async fn cancel_subscription(
    State(emu): State<Emulator>,
    Path(charge_id): Path<String>,
) -> Response {
    reply(emu.cancel_subscription_as_user(&charge_id).await)
}

async fn reenable_subscription(
    State(emu): State<Emulator>,
    Path(charge_id): Path<String>,
) -> Response {
    reply(emu.reenable_subscription_as_user(&charge_id).await)
}
