//! Links into the Mini App, and the one rule for the bot's buttons into it.
//!
//! Telegram opens a Mini App from a `web_app` inline button only in the bot's private chats
//! (Bot API, InlineKeyboardButton: "Available only in private chats between a user and the
//! bot"; a group refuses the message with `BUTTON_TYPE_INVALID`). Everywhere else, groups,
//! channels and messages sent inline, the way in is a t.me link with `startapp`, which opens the
//! bot's Mini App in any chat. Every button the bot makes into the app comes from
//! [`Links::button`], and every t.me link the shop hands out from here.

use super::bot::Bot;
use std::sync::Arc;
use tgbot::types::{Chat, GetBot, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo};
use tokio::sync::OnceCell;
use url::Url;

/// Where in the Mini App a link lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place<'a> {
    /// The catalog.
    Shop,
    /// A product page, `/p/<slug>`.
    Product(&'a str),
    /// Another page (`library`, `studio/support`). No start parameter names it, so outside a
    /// private chat the link opens the shop.
    Page(&'a str),
    /// A creator's link (`promotion`): the app records the visit and lands where it points.
    Referral(&'a str),
    /// A gift's link, `/gift/<code>`, which its holder claims.
    Gift(&'a str),
}

impl Place<'_> {
    fn path(self) -> String {
        match self {
            Place::Shop => String::new(),
            Place::Product(slug) => format!("p/{slug}"),
            Place::Page(path) => path.to_owned(),
            // Counted only through a t.me link, whose start parameter Telegram signs into the
            // init data; a `web_app` button carries none, so a referral opened from the bot's
            // private chat lands on the shop uncounted. Channels, where links are posted, get
            // t.me links.
            Place::Referral(code) => format!("?startapp=r_{code}"),
            Place::Gift(code) => format!("gift/{code}"),
        }
    }

    /// The `startapp` value the app turns back into the page (`app::webapp::start_param_path`).
    pub(crate) fn start_param(self) -> Option<String> {
        match self {
            Place::Product(slug) => Some(format!("p_{slug}")),
            Place::Referral(code) => Some(format!("r_{code}")),
            Place::Gift(code) => Some(format!("g_{code}")),
            Place::Shop | Place::Page(_) => None,
        }
    }
}

/// Where a button goes: `web_app` buttons work only in the bot's private chats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatKind {
    Private,
    /// Groups, supergroups, channels, and inline messages (which land in any chat).
    Shared,
}

impl From<&Chat> for ChatKind {
    fn from(chat: &Chat) -> Self {
        match chat {
            Chat::Private(_) => ChatKind::Private,
            Chat::Group(_) | Chat::Supergroup(_) | Chat::Channel(_) => ChatKind::Shared,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Links {
    /// Where `web_app` buttons open the Mini App; `None` when the shop has no URL to open.
    webapp_url: Option<Url>,
    /// `MINI_APP_SHORT_NAME`.
    short_name: Option<String>,
    /// `BOT_USERNAME`, or what `getMe` says (asked once; a failed call is asked again next time).
    username: Arc<OnceCell<String>>,
    bot: Bot,
}

impl Links {
    pub fn new(
        bot: Bot,
        webapp_url: Option<Url>,
        username: Option<String>,
        short_name: Option<String>,
    ) -> Self {
        Self {
            webapp_url,
            short_name,
            username: Arc::new(OnceCell::new_with(username)),
            bot,
        }
    }

    pub fn webapp_url(&self) -> Option<&Url> {
        self.webapp_url.as_ref()
    }

    /// The bot's username, from `BOT_USERNAME` or `getMe`; `None` while Telegram cannot say.
    pub async fn username(&self) -> Option<&str> {
        let known = self
            .username
            .get_or_try_init(|| async {
                let me = self.bot.call("getMe", GetBot).await?;
                Ok::<_, super::bot::BotError>(me.username.to_string())
            })
            .await;
        match known {
            Ok(name) => Some(name),
            Err(err) => {
                tracing::warn!(error = %err, "the bot's username is unknown; t.me links left out");
                None
            }
        }
    }

    /// `https://t.me/<bot>[/<short name>]?startapp[=<param>]`: opens the Mini App at `place`
    /// from any chat.
    pub async fn open(&self, place: Place<'_>) -> Option<String> {
        let username = self.username().await?;
        Some(startapp_link(
            username,
            self.short_name.as_deref(),
            place.start_param().as_deref(),
        ))
    }

    /// `https://t.me/<bot>?start=<payload>`: starts the bot's private chat with `/start <payload>`.
    pub async fn start(&self, payload: &str) -> Option<String> {
        let username = self.username().await?;
        Some(format!("https://t.me/{username}?start={payload}"))
    }

    /// A button into the Mini App at `place`: a `web_app` button in a private chat, a t.me link
    /// anywhere else. `None` when there is nothing to open.
    pub async fn button(
        &self,
        chat: ChatKind,
        label: &str,
        place: Place<'_>,
    ) -> Option<InlineKeyboardMarkup> {
        let button = match chat {
            ChatKind::Private => {
                let url = self.webapp_url.as_ref()?.join(&place.path()).ok()?;
                InlineKeyboardButton::for_web_app(label, WebAppInfo::from(url.as_str()))
            }
            ChatKind::Shared => InlineKeyboardButton::for_url(label, self.open(place).await?),
        };
        Some(InlineKeyboardMarkup::from(vec![vec![button]]))
    }
}

fn startapp_link(username: &str, short_name: Option<&str>, start_param: Option<&str>) -> String {
    let app = short_name
        .map(|name| format!("/{name}"))
        .unwrap_or_default();
    let param = start_param.map(|p| format!("={p}")).unwrap_or_default();
    format!("https://t.me/{username}{app}?startapp{param}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_name_the_main_app_or_the_short_name() {
        let product = Place::Product("rust-in-action").start_param();
        assert_eq!(
            startapp_link("shop_bot", None, product.as_deref()),
            "https://t.me/shop_bot?startapp=p_rust-in-action"
        );
        assert_eq!(
            startapp_link("shop_bot", Some("store"), product.as_deref()),
            "https://t.me/shop_bot/store?startapp=p_rust-in-action"
        );
        assert_eq!(
            startapp_link("shop_bot", None, Place::Shop.start_param().as_deref()),
            "https://t.me/shop_bot?startapp"
        );
    }

    #[test]
    fn the_app_reads_the_start_parameter_back_as_the_page() {
        let places = [
            Place::Product("rust-in-action"),
            Place::Product("a1"),
            Place::Gift("Zx-9_aaaaaaaaaaaaaaaaaaa"),
        ];
        for place in places {
            let param = place.start_param().unwrap();
            assert_eq!(
                app::webapp::start_param_path(&param),
                Some(format!("/{}", place.path()))
            );
        }
    }
}
