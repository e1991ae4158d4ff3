//! Everything Telegram would remember about the bot, its users and their Stars. One lock guards
//! it all; nobody awaits while holding it, so the simple design costs nothing.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::{
    delivery::{DeliveryStats, WebhookConfig},
    inline::{InlineQuery, PreparedMessage},
    payments::{Charge, CheckoutAnswer, Invoice, StarTransaction},
    shapes::EmulatedUser,
    subscriptions::Subscription,
};

/// Update kinds Telegram withholds unless `allowed_updates` asks for them explicitly.
const OPT_IN_KINDS: [&str; 3] = ["chat_member", "message_reaction", "message_reaction_count"];

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: EmulatedUser,
    pub stars: i64,
    /// The affiliate whose link brought this user to the bot, if any.
    pub referral: Option<Referral>,
}

/// A user referred through a Telegram Star affiliate program: each of their payments to the bot
/// pays `commission_per_mille` ‰ of it to the affiliate (Bot API `AffiliateInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub affiliate_id: i64,
    pub commission_per_mille: i64,
}

/// A user with their Star balance, as the control API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    #[serde(flatten)]
    pub user: EmulatedUser,
    pub stars: i64,
}

impl From<&UserRecord> for UserView {
    fn from(record: &UserRecord) -> Self {
        UserView {
            user: record.user.clone(),
            stars: record.stars,
        }
    }
}

/// The kinds of chat besides a user's private chat with the bot (Bot API `Chat.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatType {
    Group,
    Supergroup,
    Channel,
}

/// A group, supergroup or channel the bot is in, with the emulated users in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupChat {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: ChatType,
    pub title: String,
    /// A public chat's `@username` (without the `@`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub members: Vec<i64>,
    /// Members who administer the chat; the first one created it.
    pub admins: Vec<i64>,
    /// Whether the bot is an administrator. In a channel only administrators post.
    pub bot_admin: bool,
}

impl GroupChat {
    /// The Bot API `Chat` object.
    pub fn to_json(&self) -> Value {
        let mut chat = json!({ "id": self.id, "title": self.title, "type": self.kind });
        if let Some(username) = &self.username {
            chat["username"] = json!(username);
        }
        chat
    }

    /// A member's `status` (Bot API ChatMember): `creator`, `administrator`, `member` or `left`.
    pub fn status_of(&self, user_id: i64) -> &'static str {
        match self.admins.iter().position(|id| *id == user_id) {
            Some(0) => "creator",
            Some(_) => "administrator",
            None if self.members.contains(&user_id) => "member",
            None => "left",
        }
    }
}

/// A file the bot sent, with what the emulator learnt about its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFile {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
    /// Hex SHA-256 of the uploaded bytes; absent for documents sent by URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl StoredFile {
    /// The Bot API `Document` object.
    pub fn document_json(&self) -> Value {
        let mut doc = json!({
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
        });
        if let Some(name) = &self.file_name {
            doc["file_name"] = json!(name);
        }
        if let Some(mime) = &self.mime_type {
            doc["mime_type"] = json!(mime);
        }
        if let Some(size) = self.file_size {
            doc["file_size"] = json!(size);
        }
        doc
    }
}

/// Something the bot sent to a chat: the Message Telegram answered with, plus what the
/// Message object alone does not show (non-inline keyboards, parse mode, file digest).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentMessage {
    pub message: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<StoredFile>,
}

/// How long Telegram keeps an update nobody took (Bot API, Getting updates: "they will not be
/// kept longer than 24 hours").
pub const UPDATE_KEPT_SECS: i64 = 86_400;
/// Bot API, Update: "If there are no new updates for at least a week, then identifier of the next
/// update will be chosen randomly instead of sequentially."
pub const SEQUENCE_RESTART_SECS: i64 = 7 * 86_400;

#[derive(Debug, Clone)]
pub struct QueuedUpdate {
    pub id: i64,
    pub kind: String,
    pub body: Value,
    /// When it was queued, on the emulator's clock.
    pub queued_at: i64,
    /// Webhook deliveries of it that failed so far.
    pub failed_deliveries: u32,
}

#[derive(Debug, Clone)]
pub struct RateLimit {
    pub remaining: u32,
    pub retry_after: u64,
    /// Lower-case method name the limit applies to; every method when `None`.
    pub method: Option<String>,
}

#[derive(Debug)]
pub struct State {
    pub users: BTreeMap<i64, UserRecord>,
    /// Groups, supergroups and channels, by their (negative) chat id.
    pub chats: BTreeMap<i64, GroupChat>,
    next_message_ids: HashMap<i64, i64>,
    pub sent: HashMap<i64, Vec<SentMessage>>,
    pub files: HashMap<String, StoredFile>,
    pub invoices: HashMap<String, Invoice>,
    pub charges: HashMap<String, Charge>,
    /// Star subscriptions, under their first charge's id.
    pub subscriptions: BTreeMap<String, Subscription>,
    pub transactions: Vec<StarTransaction>,
    /// The bot's Star balance in nanostars (1/1,000,000,000 Star): affiliate commissions leave
    /// fractions of a Star (Bot API `StarAmount.nanostar_amount`).
    pub bot_nanostars: i64,
    pub pending_checkouts: HashMap<String, oneshot::Sender<CheckoutAnswer>>,
    pub updates: VecDeque<QueuedUpdate>,
    next_update_id: i64,
    /// When the last update was queued: a week later the sequence restarts at random.
    last_update_at: Option<i64>,
    /// Bumped by every getUpdates; an older long poll that sees it changed ends with 409.
    pub poll_generation: u64,
    clock: clock::Clock,
    pub allowed_updates: Option<Vec<String>>,
    pub webhook: Option<WebhookConfig>,
    pub delivery: DeliveryStats,
    pub rate_limit: Option<RateLimit>,
    pub commands: BTreeMap<String, Value>,
    pub menu_buttons: BTreeMap<String, Value>,
    /// Inline queries users made, by id, with the bot's answers.
    pub inline_queries: HashMap<String, InlineQuery>,
    /// Messages the bot prepared for users of its Mini App to send, by id.
    pub prepared: HashMap<String, PreparedMessage>,
}

impl State {
    pub fn new(clock: clock::Clock) -> Self {
        State {
            users: BTreeMap::new(),
            chats: BTreeMap::new(),
            next_message_ids: HashMap::new(),
            sent: HashMap::new(),
            files: HashMap::new(),
            invoices: HashMap::new(),
            charges: HashMap::new(),
            subscriptions: BTreeMap::new(),
            transactions: Vec::new(),
            bot_nanostars: 0,
            pending_checkouts: HashMap::new(),
            updates: VecDeque::new(),
            next_update_id: 1,
            last_update_at: None,
            poll_generation: 0,
            clock,
            allowed_updates: None,
            webhook: None,
            delivery: DeliveryStats::default(),
            rate_limit: None,
            commands: BTreeMap::new(),
            menu_buttons: BTreeMap::new(),
            inline_queries: HashMap::new(),
            prepared: HashMap::new(),
        }
    }

    /// Message ids count per chat, shared by both directions, as in Telegram.
    pub fn next_message_id(&mut self, chat_id: i64) -> i64 {
        let next = self.next_message_ids.entry(chat_id).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }

    /// Appends `{"update_id": N, kind: payload}` to the queue and returns it.
    pub fn queue_update(&mut self, kind: &str, payload: Value) -> Value {
        let now = self.clock.now();
        if self
            .last_update_at
            .is_some_and(|last| now - last >= SEQUENCE_RESTART_SECS)
        {
            self.next_update_id = super::ids::restarted_update_id();
        }
        self.last_update_at = Some(now);
        let id = self.next_update_id;
        self.next_update_id += 1;
        let body = json!({ "update_id": id, kind: payload });
        self.updates.push_back(QueuedUpdate {
            id,
            kind: kind.to_owned(),
            body: body.clone(),
            queued_at: now,
            failed_deliveries: 0,
        });
        body
    }

    /// Forgets the updates Telegram would no longer keep.
    pub fn drop_expired(&mut self) {
        let cutoff = self.clock.now() - UPDATE_KEPT_SECS;
        self.updates.retain(|u| u.queued_at > cutoff);
    }

    pub fn is_allowed(&self, kind: &str) -> bool {
        match &self.allowed_updates {
            Some(allowed) if !allowed.is_empty() => allowed.iter().any(|k| k == kind),
            _ => !OPT_IN_KINDS.contains(&kind),
        }
    }

    /// Telegram never delivers updates the bot opted out of, so they are discarded on the way.
    pub fn discard_disallowed(&mut self) {
        let allowed: Vec<bool> = self
            .updates
            .iter()
            .map(|u| self.is_allowed(&u.kind))
            .collect();
        let mut keep = allowed.into_iter();
        self.updates.retain(|_| keep.next().unwrap_or(true));
    }

    /// `offset` confirms every update before it; a negative offset keeps only the last `-offset`.
    pub fn confirm_updates(&mut self, offset: i64) {
        if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while self.updates.len() > keep {
                self.updates.pop_front();
            }
        } else {
            self.updates.retain(|u| u.id >= offset);
        }
    }

    pub fn user(&self, id: i64) -> Option<&EmulatedUser> {
        self.users.get(&id).map(|r| &r.user)
    }

    /// The `Chat` object of chat `id`: a user's private chat with the bot, or a group's.
    /// A group or channel by its id or its `@username`, as `chat_id` names it.
    pub fn group_chat(&self, chat_id: &str) -> Option<&GroupChat> {
        let chat_id = chat_id.trim();
        match chat_id.strip_prefix('@') {
            Some(name) => self.chats.values().find(|c| {
                c.username
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(name))
            }),
            None => self.chats.get(&chat_id.parse().ok()?),
        }
    }

    pub fn chat_json(&self, id: i64) -> Option<Value> {
        match self.user(id) {
            Some(user) => Some(user.private_chat_json()),
            None => self.chats.get(&id).map(GroupChat::to_json),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_assigns_increasing_ids_and_offset_confirms() {
        let mut state = State::new(Default::default());
        for text in ["a", "b", "c"] {
            state.queue_update("message", json!({ "text": text }));
        }
        assert_eq!(
            state.updates.iter().map(|u| u.id).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        state.confirm_updates(3);
        assert_eq!(state.updates.len(), 1);
        assert_eq!(state.updates[0].body["message"]["text"], "c");
        state.queue_update("message", json!({}));
        state.confirm_updates(-1);
        assert_eq!(state.updates[0].id, 4);
    }

    #[test]
    fn allowed_updates_filter_and_defaults() {
        let mut state = State::new(Default::default());
        state.queue_update("message_reaction", json!({}));
        state.queue_update("message", json!({}));
        state.queue_update("pre_checkout_query", json!({}));
        state.discard_disallowed();
        assert_eq!(state.updates.len(), 2);
        state.allowed_updates = Some(vec!["pre_checkout_query".into()]);
        state.discard_disallowed();
        assert_eq!(state.updates.len(), 1);
        assert_eq!(state.updates[0].kind, "pre_checkout_query");
    }
}
