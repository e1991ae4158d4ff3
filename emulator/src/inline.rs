//! Inline mode: a user types `@bot words` in any chat, the bot gets an `inline_query` and
//! answers it with `answerInlineQuery`. The emulator checks an answer as Telegram does and keeps
//! it for the test (or the dev preview) that asked.
//!
//! Prepared messages are inline results too: the bot saves one for a user of its Mini App
//! (`savePreparedInlineMessage`), the Mini App calls `WebApp.shareMessage` with its id, and the
//! user sends it to a chat they pick, "via @bot", as an inline result is sent.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{json, Value};

use super::{
    error::ApiError,
    ids,
    methods::Reply,
    params::Params,
    state::{ChatType, SentMessage},
    ControlError, Emulator, InlineRequest,
};

/// Bot API, answerInlineQuery: "No more than 50 results per query are allowed."
const MAX_RESULTS: usize = 50;
/// Bot API, InlineQueryResult*: "id: Unique identifier for this result, 1-64 bytes".
const MAX_ID_BYTES: usize = 64;
/// Bot API, InlineQuery: "query: Text of the query (up to 256 characters)".
const MAX_QUERY_CHARS: usize = 256;
/// Bot API, InputTextMessageContent: "message_text: Text of the message to be sent, 1-4096
/// characters".
const MAX_TEXT_CHARS: usize = 4096;
/// The result types of the Bot API's InlineQueryResult (the cached ones share these names).
const RESULT_TYPES: [&str; 13] = [
    "article",
    "photo",
    "gif",
    "mpeg4_gif",
    "video",
    "audio",
    "voice",
    "document",
    "location",
    "venue",
    "contact",
    "game",
    "sticker",
];

/// How long a prepared message can be sent. Telegram gives each one an `expiration_date`
/// without promising a length; the emulator keeps them a day.
pub const PREPARED_KEPT_SECS: i64 = 86_400;

/// A message the bot prepared for one user to send (`savePreparedInlineMessage`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreparedMessage {
    pub id: String,
    pub user_id: i64,
    /// The inline result, as the bot sent it.
    pub result: Value,
    pub allow_user_chats: bool,
    pub allow_bot_chats: bool,
    pub allow_group_chats: bool,
    pub allow_channel_chats: bool,
    pub expiration_date: i64,
}

/// An inline query a user made, and the bot's answer once it came.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InlineQuery {
    pub id: String,
    pub from: i64,
    pub query: String,
    /// `results`, `cache_time`, `is_personal`, `next_offset` and `button` as the bot sent them.
    pub answer: Option<Value>,
}

impl Emulator {
    /// The user types `@bot <query>` (or scrolls on to `offset`) in a chat of `chat_type`;
    /// queues the `inline_query` update.
    pub async fn inline_query(
        &self,
        user_id: i64,
        request: &InlineRequest,
    ) -> Result<InlineQuery, ControlError> {
        let query = request.query.as_str();
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(ControlError::Invalid(format!(
                "an inline query has at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let record = {
            let mut state = self.state().await;
            let user = state
                .user(user_id)
                .cloned()
                .ok_or(ControlError::UnknownUser(user_id))?;
            let record = InlineQuery {
                id: ids::query_id(),
                from: user_id,
                query: query.to_owned(),
                answer: None,
            };
            let mut payload = json!({
                "id": record.id,
                "from": user.to_json(),
                "query": query,
                "offset": request.offset,
            });
            if let Some(chat_type) = &request.chat_type {
                payload["chat_type"] = json!(chat_type);
            }
            state.queue_update("inline_query", payload);
            state
                .inline_queries
                .insert(record.id.clone(), record.clone());
            record
        };
        self.notify_changes();
        Ok(record)
    }

    /// An inline query and the bot's answer, if any.
    pub async fn inline_answer(&self, id: &str) -> Result<InlineQuery, ControlError> {
        self.state()
            .await
            .inline_queries
            .get(id)
            .cloned()
            .ok_or_else(|| ControlError::UnknownInlineQuery(id.to_owned()))
    }

    pub(super) async fn answer_inline_query(&self, params: &Params) -> Result<Reply, ApiError> {
        let id = params.str("inline_query_id").unwrap_or_default();
        let results = match params.json("results")? {
            Some(Value::Array(results)) => results,
            _ => return Err(ApiError::bad_request("can't parse inline query results")),
        };
        check_results(&results)?;
        let mut answer = json!({ "results": results });
        if let Some(secs) = params.i64("cache_time")? {
            answer["cache_time"] = json!(secs);
        }
        if let Some(personal) = params.bool("is_personal")? {
            answer["is_personal"] = json!(personal);
        }
        if let Some(offset) = params.str("next_offset") {
            answer["next_offset"] = json!(offset);
        }
        if let Some(button) = params.json("button")? {
            answer["button"] = button;
        }
        let mut state = self.state().await;
        // A query is answered once; later answers come too late for Telegram.
        let query = state
            .inline_queries
            .get_mut(&id)
            .filter(|q| q.answer.is_none())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "query is too old and response timeout expired or query ID is invalid",
                )
            })?;
        query.answer = Some(answer);
        Ok(Reply::new(json!(true)))
    }
}

impl Emulator {
    pub(super) async fn save_prepared_inline_message(
        &self,
        params: &Params,
    ) -> Result<Reply, ApiError> {
        let user_id = params
            .i64("user_id")?
            .ok_or_else(|| ApiError::bad_request("user_id is required"))?;
        let result = params
            .json("result")?
            .filter(Value::is_object)
            .ok_or_else(|| ApiError::bad_request("can't parse inline query result"))?;
        check_results(std::slice::from_ref(&result))?;
        let allowed = |key: &str| params.bool(key).map(Option::unwrap_or_default);
        let prepared = PreparedMessage {
            id: ids::prepared_message_id(),
            user_id,
            result,
            allow_user_chats: allowed("allow_user_chats")?,
            allow_bot_chats: allowed("allow_bot_chats")?,
            allow_group_chats: allowed("allow_group_chats")?,
            allow_channel_chats: allowed("allow_channel_chats")?,
            expiration_date: self.now() + PREPARED_KEPT_SECS,
        };
        let mut state = self.state().await;
        // The message is for a user of the bot's Mini App: one Telegram knows.
        if state.user(user_id).is_none() {
            return Err(ApiError::bad_request("USER_ID_INVALID"));
        }
        let reply = json!({ "id": prepared.id, "expiration_date": prepared.expiration_date });
        state.prepared.insert(prepared.id.clone(), prepared);
        Ok(Reply::new(reply))
    }

    /// A prepared message, as the bot saved it.
    pub async fn prepared_message(&self, id: &str) -> Result<PreparedMessage, ControlError> {
        self.state()
            .await
            .prepared
            .get(id)
            .cloned()
            .ok_or_else(|| ControlError::Invalid(format!("unknown prepared message {id:?}")))
    }

    /// `WebApp.shareMessage`: the user sends the prepared message to `chat_id` (a group or
    /// channel of theirs), or to their chat with the bot when `None`. Refused, with the error
    /// Telegram's client reports in `shareMessageFailed`, when it is another user's, expired, or
    /// not allowed in that kind of chat.
    pub async fn share_prepared(
        &self,
        id: &str,
        user_id: i64,
        chat_id: Option<i64>,
    ) -> Result<Value, ControlError> {
        let now = self.now();
        let bot = self.bot_from();
        let mut state = self.state().await;
        let user = state
            .user(user_id)
            .cloned()
            .ok_or(ControlError::UnknownUser(user_id))?;
        let prepared = state
            .prepared
            .get(id)
            .filter(|p| p.user_id == user_id)
            .cloned()
            .ok_or_else(|| ControlError::Invalid("MESSAGE_SEND_FAILED: no such message".into()))?;
        if prepared.expiration_date <= now {
            return Err(ControlError::Invalid("MESSAGE_EXPIRED".into()));
        }
        let (chat, allowed) = match chat_id {
            None => (user.private_chat_json(), prepared.allow_bot_chats),
            Some(id) => {
                let chat = state
                    .chats
                    .get(&id)
                    .filter(|chat| chat.members.contains(&user_id))
                    .ok_or_else(|| {
                        ControlError::Invalid(format!("user {user_id} is not in chat {id}"))
                    })?;
                let allowed = match chat.kind {
                    ChatType::Channel => prepared.allow_channel_chats,
                    ChatType::Group | ChatType::Supergroup => prepared.allow_group_chats,
                };
                (chat.to_json(), allowed)
            }
        };
        if !allowed {
            return Err(ControlError::Invalid(
                "UNSUPPORTED: not allowed in this chat".into(),
            ));
        }
        let chat_key = chat_id.unwrap_or(user_id);
        let message = sent_result(
            &prepared.result,
            json!({
                "message_id": state.next_message_id(chat_key),
                "from": user.to_json(),
                "chat": chat,
                "date": now,
                "via_bot": bot,
            }),
        );
        state.sent.entry(chat_key).or_default().push(SentMessage {
            reply_markup: message.get("reply_markup").cloned(),
            message: message.clone(),
            parse_mode: None,
            file: None,
        });
        drop(state);
        self.notify_changes();
        Ok(message)
    }
}

/// The message an inline result becomes once sent: its `input_message_content` (text and link
/// preview, or a photo with its caption) and its keyboard.
fn sent_result(result: &Value, mut message: Value) -> Value {
    let content = result.get("input_message_content");
    if let Some(text) = content.and_then(|c| c.get("message_text")) {
        message["text"] = text.clone();
        if let Some(preview) = content.and_then(|c| c.get("link_preview_options")) {
            message["link_preview_options"] = preview.clone();
        }
    } else if result.get("type").and_then(Value::as_str) == Some("photo") {
        message["photo"] = json!([{ "url": result.get("photo_url") }]);
        if let Some(caption) = result.get("caption") {
            message["caption"] = caption.clone();
        }
    }
    if let Some(markup) = result.get("reply_markup") {
        message["reply_markup"] = markup.clone();
    }
    message
}

/// Telegram's checks of an answer's results, with its error names.
fn check_results(results: &[Value]) -> Result<(), ApiError> {
    if results.len() > MAX_RESULTS {
        return Err(ApiError::bad_request("RESULTS_TOO_MUCH"));
    }
    let mut ids = HashSet::new();
    for result in results {
        let text = |key: &str| result.get(key).and_then(Value::as_str).unwrap_or_default();
        let id = text("id");
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            return Err(ApiError::bad_request("RESULT_ID_INVALID"));
        }
        if !ids.insert(id) {
            return Err(ApiError::bad_request("RESULT_ID_DUPLICATE"));
        }
        let kind = text("type");
        if !RESULT_TYPES.contains(&kind) {
            return Err(ApiError::bad_request("RESULT_TYPE_INVALID"));
        }
        let content = result.get("input_message_content");
        match kind {
            "article" if text("title").trim().is_empty() => {
                return Err(ApiError::bad_request("ARTICLE_TITLE_EMPTY"));
            }
            // An article is only what it sends.
            "article" if content.is_none() => {
                return Err(ApiError::bad_request("Message must be non-empty"));
            }
            "photo" if text("photo_url").is_empty() && text("photo_file_id").is_empty() => {
                return Err(ApiError::bad_request("PHOTO_CONTENT_URL_EMPTY"));
            }
            "photo" if text("photo_file_id").is_empty() && text("thumbnail_url").is_empty() => {
                return Err(ApiError::bad_request("PHOTO_THUMB_URL_EMPTY"));
            }
            _ => {}
        }
        if let Some(message) = content.and_then(|c| c.get("message_text")) {
            let chars = message.as_str().map_or(0, |m| m.trim().chars().count());
            if chars == 0 {
                return Err(ApiError::bad_request("Message must be non-empty"));
            }
            if chars > MAX_TEXT_CHARS {
                return Err(ApiError::bad_request("MESSAGE_TOO_LONG"));
            }
        }
        // The message goes into whatever chat the user picks, where Telegram allows no web_app
        // button.
        if super::methods::has_web_app_button(result.get("reply_markup")) {
            return Err(ApiError::bad_request("BUTTON_TYPE_INVALID"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(id: &str) -> Value {
        json!({
            "type": "article",
            "id": id,
            "title": "Sourdough at Home",
            "input_message_content": { "message_text": "Sourdough at Home" },
        })
    }

    fn refusal(results: Vec<Value>) -> String {
        match check_results(&results) {
            Err(ApiError::BadRequest(reason)) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn answers_are_checked_as_telegram_checks_them() {
        assert!(check_results(&[article("a"), article("b")]).is_ok());
        assert!(check_results(&[]).is_ok());
        let many = (0..51).map(|i| article(&i.to_string())).collect();
        assert_eq!(refusal(many), "RESULTS_TOO_MUCH");
        assert_eq!(
            refusal(vec![article("a"), article("a")]),
            "RESULT_ID_DUPLICATE"
        );
        assert_eq!(refusal(vec![article("")]), "RESULT_ID_INVALID");
        assert_eq!(refusal(vec![article(&"x".repeat(65))]), "RESULT_ID_INVALID");

        let mut odd = article("a");
        odd["type"] = json!("poster");
        assert_eq!(refusal(vec![odd]), "RESULT_TYPE_INVALID");
        let mut untitled = article("a");
        untitled["title"] = json!(" ");
        assert_eq!(refusal(vec![untitled]), "ARTICLE_TITLE_EMPTY");
        let mut contentless = article("a");
        contentless
            .as_object_mut()
            .unwrap()
            .remove("input_message_content");
        assert_eq!(refusal(vec![contentless]), "Message must be non-empty");
        let mut blank = article("a");
        blank["input_message_content"]["message_text"] = json!("");
        assert_eq!(refusal(vec![blank]), "Message must be non-empty");

        let photo = json!({ "type": "photo", "id": "p", "photo_url": "https://x/c.jpg" });
        assert_eq!(refusal(vec![photo.clone()]), "PHOTO_THUMB_URL_EMPTY");
        let mut thumbed = photo;
        thumbed["thumbnail_url"] = json!("https://x/t.jpg");
        assert!(check_results(&[thumbed]).is_ok());

        let mut web_app = article("a");
        web_app["reply_markup"] = json!({ "inline_keyboard": [[
            { "text": "Open", "web_app": { "url": "https://shop.example/" } }
        ]] });
        assert_eq!(refusal(vec![web_app]), "BUTTON_TYPE_INVALID");
        let mut link = article("a");
        link["reply_markup"] = json!({ "inline_keyboard": [[
            { "text": "Open", "url": "https://t.me/shop_bot?startapp=p_a" }
        ]] });
        assert!(check_results(&[link]).is_ok());
    }
}
