//! The Bot API surface: authentication, rate limiting, method dispatch (case-insensitive, as
//! Telegram's), and the messaging and bot-settings methods. Payments and updates live in their
//! own modules.

use axum::{
    body::Body,
    extract::{Path, Request, State},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{
    error::ApiError,
    ids::{self, unix_now},
    params::Params,
    shapes::{bot_user_json, command_entities},
    state::{ChatType, SentMessage, StoredFile},
    Emulator,
};

const MAX_TEXT_CHARS: usize = 4096;
const MAX_CAPTION_CHARS: usize = 1024;

/// A successful method result. Some methods (setWebhook) also carry a description.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub result: Value,
    pub description: Option<&'static str>,
}

impl Reply {
    pub fn new(result: Value) -> Self {
        Reply {
            result,
            description: None,
        }
    }

    pub fn with_description(mut self, description: &'static str) -> Self {
        self.description = Some(description);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut body = json!({ "ok": true, "result": self.result });
        if let Some(description) = self.description {
            body["description"] = json!(description);
        }
        Json(body).into_response()
    }
}

pub async fn handle(
    State(emulator): State<Emulator>,
    Path((token_segment, method)): Path<(String, String)>,
    request: Request<Body>,
) -> Response {
    match emulator.call(&token_segment, &method, request).await {
        Ok(reply) => reply.into_response(),
        Err(err) => err.into_response(),
    }
}

impl Emulator {
    async fn call(
        &self,
        token_segment: &str,
        method: &str,
        request: Request<Body>,
    ) -> Result<Reply, ApiError> {
        let token = token_segment
            .strip_prefix("bot")
            .ok_or(ApiError::NotFound)?;
        if token != self.inner.config.bot_token {
            return Err(ApiError::Unauthorized);
        }
        self.take_rate_limit(method).await?;
        let params = Params::from_request(request).await?;
        self.dispatch(&method.to_ascii_lowercase(), &params).await
    }

    async fn take_rate_limit(&self, method: &str) -> Result<(), ApiError> {
        let mut state = self.state().await;
        let Some(limit) = state.rate_limit.as_mut() else {
            return Ok(());
        };
        if limit
            .method
            .as_ref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method))
        {
            return Ok(());
        }
        let retry_after = limit.retry_after;
        limit.remaining = limit.remaining.saturating_sub(1);
        if limit.remaining == 0 {
            state.rate_limit = None;
        }
        Err(ApiError::TooManyRequests(retry_after))
    }

    pub(super) async fn dispatch(&self, method: &str, params: &Params) -> Result<Reply, ApiError> {
        match method {
            "getme" => Ok(Reply::new(self.me_json())),
            "getchat" => self.get_chat(params).await,
            "getchatmember" => self.get_chat_member(params).await,
            "getupdates" => self.get_updates(params).await,
            "setwebhook" => self.set_webhook(params).await,
            "deletewebhook" => self.delete_webhook(params).await,
            "getwebhookinfo" => Ok(Reply::new(self.webhook_info().await)),
            "sendmessage" => self.send_message(params).await,
            "senddocument" => self.send_document(params).await,
            "setmycommands" => self.set_my_commands(params).await,
            "getmycommands" => self.get_my_commands(params).await,
            "deletemycommands" => self.delete_my_commands(params).await,
            "setchatmenubutton" => self.set_chat_menu_button(params).await,
            "getchatmenubutton" => self.get_chat_menu_button(params).await,
            "createinvoicelink" => self.create_invoice_link(params).await,
            "answerprecheckoutquery" => self.answer_pre_checkout_query(params).await,
            "answerinlinequery" => self.answer_inline_query(params).await,
            "savepreparedinlinemessage" => self.save_prepared_inline_message(params).await,
            "refundstarpayment" => self.refund_star_payment(params).await,
            "getstartransactions" => self.get_star_transactions(params).await,
            "edituserstarsubscription" => self.edit_user_star_subscription(params).await,
            "getmystarbalance" => Ok(self.star_balance().await),
            _ => Err(ApiError::NotFound),
        }
    }

    /// The `User` object `getMe` returns, with every capability flag Telegram sends.
    fn me_json(&self) -> Value {
        let config = &self.inner.config;
        let mut me = bot_user_json(self.bot_id(), &config.bot_first_name, &config.bot_username);
        for flag in [
            "can_join_groups",
            "can_read_all_group_messages",
            "supports_inline_queries",
            "can_connect_to_business",
            "has_main_web_app",
            "allows_users_to_create_topics",
            "can_manage_bots",
            "has_topics_enabled",
            "supports_guest_queries",
            "supports_join_request_queries",
        ] {
            me[flag] = json!(false);
        }
        me["can_join_groups"] = json!(true);
        // The shop's bot has inline mode on (@BotFather /setinline), as its README asks.
        me["supports_inline_queries"] = json!(true);
        me
    }

    pub(super) fn bot_from(&self) -> Value {
        let config = &self.inner.config;
        bot_user_json(self.bot_id(), &config.bot_first_name, &config.bot_username)
    }

    /// Bots write to private chats of users that exist and have met the bot, and to the groups
    /// and channels they are in. A `web_app` button is refused outside a private chat (Bot API,
    /// InlineKeyboardButton.web_app: "Available only in private chats between a user and the
    /// bot"), with Telegram's error.
    async fn target_chat(&self, params: &Params, markup: Option<&Value>) -> Result<i64, ApiError> {
        let raw = params
            .str("chat_id")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ApiError::bad_request("chat_id is empty"))?;
        let chat_id: i64 = raw
            .trim()
            .parse()
            .map_err(|_| ApiError::bad_request("chat not found"))?;
        let state = self.state().await;
        if state.user(chat_id).is_some() {
            return Ok(chat_id);
        }
        let Some(chat) = state.chats.get(&chat_id) else {
            return Err(ApiError::bad_request("chat not found"));
        };
        if chat.kind == ChatType::Channel && !chat.bot_admin {
            return Err(ApiError::bad_request(
                "need administrator rights in the channel chat",
            ));
        }
        if has_web_app_button(markup) {
            return Err(ApiError::bad_request("BUTTON_TYPE_INVALID"));
        }
        Ok(chat_id)
    }

    /// The stored markup, and the part of it a Message object shows (inline keyboards only).
    fn reply_markup(params: &Params) -> Result<(Option<Value>, Option<Value>), ApiError> {
        let Some(markup) = params.json("reply_markup")? else {
            return Ok((None, None));
        };
        let invalid = || ApiError::bad_request("can't parse reply keyboard markup JSON object");
        if !markup.is_object() {
            return Err(invalid());
        }
        if let Some(rows) = markup.get("inline_keyboard") {
            let well_formed = rows.as_array().is_some_and(|rows| {
                rows.iter().all(|row| {
                    row.as_array().is_some_and(|buttons| {
                        buttons
                            .iter()
                            .all(|b| b.get("text").is_some_and(Value::is_string))
                    })
                })
            });
            if !well_formed {
                return Err(invalid());
            }
            return Ok((Some(markup.clone()), Some(markup)));
        }
        Ok((Some(markup), None))
    }

    fn parse_mode(params: &Params) -> Result<Option<String>, ApiError> {
        match params.str("parse_mode").filter(|m| !m.is_empty()) {
            None => Ok(None),
            Some(mode)
                if ["html", "markdown", "markdownv2"]
                    .contains(&mode.to_ascii_lowercase().as_str()) =>
            {
                Ok(Some(mode))
            }
            Some(mode) => Err(ApiError::bad_request(format!(
                "unsupported parse_mode \"{mode}\""
            ))),
        }
    }

    /// Entities the bot passed explicitly win; otherwise commands are detected like Telegram does.
    fn entities(params: &Params, key: &str, text: &str) -> Result<Vec<Value>, ApiError> {
        match params.json(key)? {
            Some(Value::Array(entities)) => Ok(entities),
            Some(_) => Err(ApiError::bad_request(format!(
                "can't parse {key} JSON object"
            ))),
            None => Ok(command_entities(text)),
        }
    }

    async fn record_sent(
        &self,
        chat_id: i64,
        build: impl FnOnce(Value) -> Value,
        reply_markup: Option<Value>,
        parse_mode: Option<String>,
        file: Option<StoredFile>,
    ) -> Value {
        let mut state = self.state().await;
        let Some(chat) = state.chat_json(chat_id) else {
            return Value::Null;
        };
        let message_id = state.next_message_id(chat_id);
        let message = build(json!({
            "message_id": message_id,
            "from": self.bot_from(),
            "chat": chat,
            "date": unix_now(),
        }));
        state.sent.entry(chat_id).or_default().push(SentMessage {
            message: message.clone(),
            reply_markup,
            parse_mode,
            file,
        });
        message
    }

    /// `getChat` for the groups and channels the emulator knows, by id or `@username`.
    async fn get_chat(&self, params: &Params) -> Result<Reply, ApiError> {
        let raw = params.str("chat_id").unwrap_or_default();
        let state = self.state().await;
        if let Some(user) = raw.trim().parse().ok().and_then(|id| state.user(id)) {
            let mut chat = user.private_chat_json();
            chat["accent_color_id"] = json!(0);
            chat["max_reaction_count"] = json!(11);
            return Ok(Reply::new(chat));
        }
        let chat = state
            .group_chat(&raw)
            .ok_or_else(|| ApiError::bad_request("chat not found"))?;
        let mut info = chat.to_json();
        // ChatFullInfo's required fields beside the Chat's.
        info["accent_color_id"] = json!(0);
        info["max_reaction_count"] = json!(11);
        Ok(Reply::new(info))
    }

    /// `getChatMember`: a user's or the bot's status in a group or channel.
    async fn get_chat_member(&self, params: &Params) -> Result<Reply, ApiError> {
        let raw = params.str("chat_id").unwrap_or_default();
        let user_id = params
            .i64("user_id")?
            .ok_or_else(|| ApiError::bad_request("user_id is required"))?;
        let bot_id = self.bot_id();
        let state = self.state().await;
        let chat = state
            .group_chat(&raw)
            .ok_or_else(|| ApiError::bad_request("chat not found"))?;
        let (user, status) = if user_id == bot_id {
            let status = match (chat.bot_admin, chat.kind) {
                (true, _) => "administrator",
                (false, ChatType::Channel) => "left",
                (false, _) => "member",
            };
            (self.bot_from(), status)
        } else {
            let user = state
                .user(user_id)
                .ok_or_else(|| ApiError::bad_request("PARTICIPANT_ID_INVALID"))?;
            (user.to_json(), chat.status_of(user_id))
        };
        let mut member = json!({ "status": status, "user": user });
        match status {
            "administrator" => {
                for right in [
                    "can_be_edited",
                    "can_change_info",
                    "can_delete_messages",
                    "can_invite_users",
                    "can_manage_chat",
                    "can_manage_video_chats",
                    "can_promote_members",
                    "can_restrict_members",
                    "can_send_welcome_messages",
                    "is_anonymous",
                ] {
                    member[right] = json!(false);
                }
                member["can_manage_chat"] = json!(true);
                if chat.kind == ChatType::Channel {
                    member["can_post_messages"] = json!(true);
                    member["can_edit_messages"] = json!(true);
                }
            }
            "creator" => member["is_anonymous"] = json!(false),
            _ => {}
        }
        Ok(Reply::new(member))
    }

    async fn send_message(&self, params: &Params) -> Result<Reply, ApiError> {
        let (stored_markup, inline_markup) = Self::reply_markup(params)?;
        let chat_id = self.target_chat(params, stored_markup.as_ref()).await?;
        let text = params.str("text").unwrap_or_default();
        if text.trim().is_empty() {
            return Err(ApiError::bad_request("message text is empty"));
        }
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(ApiError::bad_request("message is too long"));
        }
        let parse_mode = Self::parse_mode(params)?;
        let entities = if parse_mode.is_some() {
            Vec::new()
        } else {
            Self::entities(params, "entities", &text)?
        };
        let message = self
            .record_sent(
                chat_id,
                |mut message| {
                    message["text"] = json!(text);
                    if !entities.is_empty() {
                        message["entities"] = json!(entities);
                    }
                    if let Some(markup) = inline_markup {
                        message["reply_markup"] = markup;
                    }
                    message
                },
                stored_markup,
                parse_mode,
                None,
            )
            .await;
        Ok(Reply::new(message))
    }

    async fn send_document(&self, params: &Params) -> Result<Reply, ApiError> {
        let (stored_markup, inline_markup) = Self::reply_markup(params)?;
        let chat_id = self.target_chat(params, stored_markup.as_ref()).await?;
        let file = self.document_file(params).await?;
        let caption = params.str("caption").filter(|c| !c.is_empty());
        if caption
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_CAPTION_CHARS)
        {
            return Err(ApiError::bad_request("message caption is too long"));
        }
        let parse_mode = Self::parse_mode(params)?;
        let caption_entities = match (&caption, &parse_mode) {
            (Some(caption), None) => Self::entities(params, "caption_entities", caption)?,
            _ => Vec::new(),
        };
        self.state()
            .await
            .files
            .insert(file.file_id.clone(), file.clone());
        let document = file.document_json();
        let message = self
            .record_sent(
                chat_id,
                |mut message| {
                    message["document"] = document;
                    if let Some(caption) = caption {
                        message["caption"] = json!(caption);
                    }
                    if !caption_entities.is_empty() {
                        message["caption_entities"] = json!(caption_entities);
                    }
                    if let Some(markup) = inline_markup {
                        message["reply_markup"] = markup;
                    }
                    message
                },
                stored_markup,
                parse_mode,
                Some(file),
            )
            .await;
        Ok(Reply::new(message))
    }

    /// The document as an upload (`document` part or `attach://name`), a known file_id, or a URL.
    async fn document_file(&self, params: &Params) -> Result<StoredFile, ApiError> {
        let missing = || ApiError::bad_request("there is no document in the request");
        let upload = match params.uploaded_file("document") {
            Some(upload) => Some(upload),
            None => match params.str("document") {
                Some(reference) => match reference.strip_prefix("attach://") {
                    Some(name) => Some(params.file(name).ok_or_else(missing)?),
                    None => {
                        return self.document_by_reference(&reference).await;
                    }
                },
                None => return Err(missing()),
            },
        };
        let upload = upload.ok_or_else(missing)?;
        if upload.bytes.is_empty() {
            return Err(ApiError::bad_request("file must be non-empty"));
        }
        let sha256 = hex::encode(Sha256::digest(&upload.bytes));
        let mime_type = upload
            .content_type
            .clone()
            .filter(|m| m != "application/octet-stream" || upload.file_name.is_none())
            .or_else(|| upload.file_name.as_deref().map(guess_mime));
        Ok(StoredFile {
            file_id: ids::document_file_id(),
            file_unique_id: ids::file_unique_id(&sha256),
            file_name: upload.file_name.clone(),
            mime_type,
            file_size: Some(upload.bytes.len() as u64),
            sha256: Some(sha256),
        })
    }

    async fn document_by_reference(&self, reference: &str) -> Result<StoredFile, ApiError> {
        let reference = reference.trim();
        if reference.is_empty() {
            return Err(ApiError::bad_request("there is no document in the request"));
        }
        if let Some(known) = self.state().await.files.get(reference) {
            return Ok(known.clone());
        }
        let url = url::Url::parse(reference)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| ApiError::bad_request("wrong file identifier/HTTP URL specified"))?;
        // The emulator has no Internet, so a URL document keeps only what the URL reveals.
        let file_name = url
            .path_segments()
            .and_then(|mut s| s.next_back().map(str::to_owned))
            .filter(|n| !n.is_empty());
        Ok(StoredFile {
            file_id: ids::document_file_id(),
            file_unique_id: ids::random_file_unique_id(),
            mime_type: file_name.as_deref().map(guess_mime),
            file_name,
            file_size: None,
            sha256: None,
        })
    }

    async fn set_my_commands(&self, params: &Params) -> Result<Reply, ApiError> {
        let commands = params
            .json("commands")?
            .and_then(|c| c.as_array().cloned())
            .ok_or_else(|| ApiError::bad_request("can't parse commands JSON object"))?;
        if commands.len() > 100 {
            return Err(ApiError::bad_request("too many commands"));
        }
        for command in &commands {
            let name = command.get("command").and_then(Value::as_str).unwrap_or("");
            let valid_name = (1..=32).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid_name {
                return Err(ApiError::bad_request("BOT_COMMAND_INVALID"));
            }
            let description = command
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !(1..=256).contains(&description.chars().count()) {
                return Err(ApiError::bad_request("BOT_COMMAND_DESCRIPTION_INVALID"));
            }
        }
        let key = commands_key(params)?;
        self.state()
            .await
            .commands
            .insert(key, Value::Array(commands));
        Ok(Reply::new(json!(true)))
    }

    async fn get_my_commands(&self, params: &Params) -> Result<Reply, ApiError> {
        let key = commands_key(params)?;
        let commands = self.state().await.commands.get(&key).cloned();
        Ok(Reply::new(commands.unwrap_or_else(|| json!([]))))
    }

    async fn delete_my_commands(&self, params: &Params) -> Result<Reply, ApiError> {
        let key = commands_key(params)?;
        self.state().await.commands.remove(&key);
        Ok(Reply::new(json!(true)))
    }

    async fn set_chat_menu_button(&self, params: &Params) -> Result<Reply, ApiError> {
        let key = menu_key(params)?;
        let button = params
            .json("menu_button")?
            .unwrap_or(json!({"type": "default"}));
        let kind = button.get("type").and_then(Value::as_str).unwrap_or("");
        let valid = match kind {
            "default" | "commands" => true,
            "web_app" => {
                button.get("text").is_some_and(Value::is_string)
                    && button.pointer("/web_app/url").is_some_and(Value::is_string)
            }
            _ => false,
        };
        if !valid {
            return Err(ApiError::bad_request("can't parse menu button JSON object"));
        }
        self.state().await.menu_buttons.insert(key, button);
        Ok(Reply::new(json!(true)))
    }

    async fn get_chat_menu_button(&self, params: &Params) -> Result<Reply, ApiError> {
        let key = menu_key(params)?;
        let state = self.state().await;
        let button = state
            .menu_buttons
            .get(&key)
            .or_else(|| state.menu_buttons.get("default"))
            .cloned()
            .unwrap_or_else(|| json!({"type": "commands"}));
        Ok(Reply::new(button))
    }

    /// Commands set with `setMyCommands`, keyed `scope-json|language_code`.
    pub async fn bot_commands(&self) -> Value {
        json!(self.state().await.commands)
    }

    /// Menu buttons set with `setChatMenuButton`, keyed by chat id or `default`.
    pub async fn menu_buttons(&self) -> Value {
        json!(self.state().await.menu_buttons)
    }
}

/// Whether an inline keyboard holds a `web_app` button.
pub(super) fn has_web_app_button(markup: Option<&Value>) -> bool {
    markup
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .any(|button| button.get("web_app").is_some())
}

fn commands_key(params: &Params) -> Result<String, ApiError> {
    let scope = params
        .json("scope")?
        .unwrap_or_else(|| json!({"type": "default"}));
    let language = params.str("language_code").unwrap_or_default();
    Ok(format!("{scope}|{language}"))
}

fn menu_key(params: &Params) -> Result<String, ApiError> {
    Ok(params
        .i64("chat_id")?
        .map(|id| id.to_string())
        .unwrap_or_else(|| "default".into()))
}

fn guess_mime(file_name: &str) -> String {
    let extension = file_name
        .rsplit('.')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "epub" => "application/epub+zip",
        "json" => "application/json",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
    .to_owned()
}
