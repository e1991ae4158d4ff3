//! Bot API object shapes (User, Chat, Message, MessageEntity) built as JSON, because the
//! emulator's contract is the wire format itself rather than any one client's types.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A Telegram user played by the emulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmulatedUser {
    pub id: i64,
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_premium: Option<bool>,
}

impl EmulatedUser {
    pub fn new(id: i64, first_name: impl Into<String>) -> Self {
        Self {
            id,
            first_name: first_name.into(),
            last_name: None,
            username: None,
            language_code: None,
            is_premium: None,
        }
    }

    /// The Bot API `User` object.
    pub fn to_json(&self) -> Value {
        let mut user = Map::new();
        user.insert("id".into(), json!(self.id));
        user.insert("is_bot".into(), json!(false));
        user.insert("first_name".into(), json!(self.first_name));
        insert_opt(&mut user, "last_name", &self.last_name);
        insert_opt(&mut user, "username", &self.username);
        insert_opt(&mut user, "language_code", &self.language_code);
        // Telegram only sends `is_premium` when it is true.
        if self.is_premium == Some(true) {
            user.insert("is_premium".into(), json!(true));
        }
        Value::Object(user)
    }

    /// The Bot API `Chat` object of the private chat between this user and the bot.
    pub fn private_chat_json(&self) -> Value {
        let mut chat = Map::new();
        chat.insert("id".into(), json!(self.id));
        chat.insert("first_name".into(), json!(self.first_name));
        insert_opt(&mut chat, "last_name", &self.last_name);
        insert_opt(&mut chat, "username", &self.username);
        chat.insert("type".into(), json!("private"));
        Value::Object(chat)
    }
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(value) = value {
        map.insert(key.into(), json!(value));
    }
}

/// The bot itself as seen in `from` of the messages it sends.
pub fn bot_user_json(id: i64, first_name: &str, username: &str) -> Value {
    json!({ "id": id, "is_bot": true, "first_name": first_name, "username": username })
}

/// `bot_command` entities for `/command` or `/command@bot` words, with offsets and lengths in
/// UTF-16 code units as the Bot API counts them.
pub fn command_entities(text: &str) -> Vec<Value> {
    let mut entities = Vec::new();
    let mut utf16_offset = 0usize;
    let mut previous: Option<char> = None;
    for (byte_index, c) in text.char_indices() {
        let at_word_start = previous.is_none_or(char::is_whitespace);
        if c == '/' && at_word_start {
            let rest = &text[byte_index + 1..];
            let name_len = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '@'))
                .unwrap_or(rest.len());
            let name = &rest[..name_len];
            if !name.is_empty() && !name.starts_with('@') {
                // Commands are ASCII, so bytes equal UTF-16 units here.
                entities.push(json!({
                    "offset": utf16_offset,
                    "length": 1 + name_len,
                    "type": "bot_command",
                }));
            }
        }
        utf16_offset += c.len_utf16();
        previous = Some(c);
    }
    entities
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_entities_count_utf16_units() {
        assert_eq!(
            command_entities("/start abc"),
            vec![json!({"offset": 0, "length": 6, "type": "bot_command"})]
        );
        // The emoji is two UTF-16 code units.
        assert_eq!(
            command_entities("😀 /help@shop_bot now"),
            vec![json!({"offset": 3, "length": 14, "type": "bot_command"})]
        );
        assert!(command_entities("a/b and /").is_empty());
    }

    #[test]
    fn user_json_omits_absent_fields() {
        let mut user = EmulatedUser::new(7, "Ann");
        user.is_premium = Some(false);
        assert_eq!(
            user.to_json(),
            json!({"id": 7, "is_bot": false, "first_name": "Ann"})
        );
        assert_eq!(
            user.private_chat_json(),
            json!({"id": 7, "first_name": "Ann", "type": "private"})
        );
    }
}
