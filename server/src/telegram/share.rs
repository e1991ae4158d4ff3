//! The Mini App's Share: the product's card, the same message inline mode sends, saved for the
//! user with `savePreparedInlineMessage`. The app hands its id to `WebApp.shareMessage` (Bot API
//! 8.0), where the user picks the chat; older clients get the product's t.me link instead.

use super::bot::{Bot, BotError};
use super::inline::product_card;
use super::links::{Links, Place};
use app::api::ProductCard;
use app::i18n::Locale;
use tgbot::types::{PreparedInlineMessage, SavePreparedInlineMessage};

/// What the app needs to share a product.
pub struct Prepared {
    /// For `WebApp.shareMessage`; `None` when Telegram did not take the message.
    pub message_id: Option<String>,
    /// The product's t.me link, for clients older than 8.0 (`t.me/share/url`).
    pub link: Option<String>,
}

/// Prepares `card` for `user_id` to send to any kind of chat. A refusal from Telegram is
/// logged and leaves the link: the user can still share the product, only less richly.
pub async fn prepare(
    bot: &Bot,
    links: &Links,
    user_id: i64,
    locale: Locale,
    card: &ProductCard,
) -> Prepared {
    let link = links.open(Place::Product(&card.slug)).await;
    let message_id = match save(bot, links, user_id, locale, card).await {
        Ok(prepared) => Some(prepared.id),
        Err(err) => {
            tracing::warn!(error = %err, slug = %card.slug, "no prepared message; sharing the link");
            None
        }
    };
    Prepared { message_id, link }
}

async fn save(
    bot: &Bot,
    links: &Links,
    user_id: i64,
    locale: Locale,
    card: &ProductCard,
) -> Result<PreparedInlineMessage, BotError> {
    // One result per message: its id only has to be valid.
    let article = product_card(links, locale, "share".to_owned(), card).await;
    let method = SavePreparedInlineMessage::new(user_id, article)
        .with_allow_user_chats(true)
        .with_allow_bot_chats(true)
        .with_allow_group_chats(true)
        .with_allow_channel_chats(true);
    bot.call("savePreparedInlineMessage", method).await
}
