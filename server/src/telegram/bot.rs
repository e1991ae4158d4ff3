//! The Bot API client: `tgbot`'s client pointed at Telegram, or at the emulator, by base URL.

use std::time::Duration;
use tgbot::api::{Client, ExecuteError, Method};
use url::Url;

/// Ordinary calls give up after this; Telegram answers in well under a second.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one `getUpdates` waits on the server; the HTTP timeout leaves room above it.
pub const POLL_TIMEOUT_SECS: u64 = 25;
/// A `retry_after` longer than this is not waited out inside a request.
const MAX_RETRY_AFTER_SECS: u64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("cannot build the Bot API client")]
    Build(#[source] reqwest::Error),
    #[error("Bot API call {method} failed: {source}")]
    Call {
        method: &'static str,
        #[source]
        source: ExecuteError,
    },
}

/// A Bot API error's description, when Telegram (not the network) refused the call.
pub fn api_error(err: &BotError) -> Option<&tgbot::types::ResponseError> {
    match err {
        BotError::Call {
            source: ExecuteError::Response(response),
            ..
        } => Some(response),
        _ => None,
    }
}

#[derive(Clone, Debug)]
pub struct Bot {
    api: Client,
    poll: Client,
    token: String,
}

impl Bot {
    /// `base_url` is Telegram's (`https://api.telegram.org`) or the emulator's.
    pub fn new(token: &str, base_url: &Url) -> Result<Self, BotError> {
        let host = base_url.as_str().trim_end_matches('/').to_owned();
        let client = |timeout| -> Result<Client, BotError> {
            let http = reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(Duration::from_secs(5))
                .build()
                .map_err(BotError::Build)?;
            Ok(Client::with_http_client(http, token)
                .with_host(host.clone())
                .with_max_retries(3)
                .with_max_retry_after(MAX_RETRY_AFTER_SECS))
        };
        Ok(Self {
            api: client(CALL_TIMEOUT)?,
            poll: client(Duration::from_secs(POLL_TIMEOUT_SECS + 10))?,
            token: token.to_owned(),
        })
    }

    /// Calls a Bot API method; `retry_after` answers are waited out and retried by the client.
    pub async fn call<M>(&self, name: &'static str, method: M) -> Result<M::Response, BotError>
    where
        M: Method,
        M::Response: serde::de::DeserializeOwned + Send + 'static,
    {
        self.api
            .execute(method)
            .await
            .map_err(|source| BotError::Call {
                method: name,
                source,
            })
    }

    /// `getUpdates` with a client whose timeout outlasts the long poll.
    pub async fn poll(
        &self,
        method: tgbot::types::GetUpdates,
    ) -> Result<Vec<tgbot::types::Update>, BotError> {
        self.poll
            .execute(method)
            .await
            .map_err(|source| BotError::Call {
                method: "getUpdates",
                source,
            })
    }

    /// The bot's numeric id: the part of the token before ':'.
    pub fn id(&self) -> Option<i64> {
        self.token
            .split_once(':')
            .and_then(|(id, _)| id.parse().ok())
    }
}

/// Publishes the command menu in English (the default) and Russian.
pub async fn publish_commands(bot: &Bot) -> Result<(), BotError> {
    use app::i18n::{td_string, Locale};
    use tgbot::types::{BotCommand, SetBotCommands};
    for (locale, code) in [(Locale::en, None), (Locale::ru, Some("ru"))] {
        let menu = [
            ("start", td_string!(locale, bot.menu_start)),
            ("library", td_string!(locale, bot.menu_library)),
            ("terms", td_string!(locale, bot.menu_terms)),
            ("paysupport", td_string!(locale, bot.menu_paysupport)),
            ("help", td_string!(locale, bot.menu_help)),
        ];
        let commands = menu
            .into_iter()
            .filter_map(|(name, description)| BotCommand::new(name, description).ok());
        let mut method = SetBotCommands::new(commands);
        if let Some(code) = code {
            method = method.with_language_code(code);
        }
        bot.call("setMyCommands", method).await?;
    }
    Ok(())
}
