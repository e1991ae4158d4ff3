//! An emulator of Telegram's side of the Bot API, for the dev preview and the tests, which cannot
//! reach Telegram. The shop's real Bot API client talks to it through a configurable base URL and
//! gets the exact JSON of the real Bot API back; a control API plays the users (messages, Star
//! payments) and injects the faults the shop must survive (dropped webhooks, rate limits).
//!
//! Mount it with `Router::nest("/emulator", emulator.router())` or serve it alone; the bot then
//! uses `{base}/bot{token}/{method}` and tests drive `{base}/control/...` or the same operations
//! as async methods on [`Emulator`].

mod control;
mod delivery;
mod error;
mod ids;
mod inline;
mod methods;
mod params;
mod payments;
mod shapes;
mod state;
mod subscriptions;
mod updates;

use std::{
    sync::{atomic::AtomicBool, Arc},
    time::Duration,
};

use axum::{extract::DefaultBodyLimit, routing::any, Router};
use sha2::Digest as _;
use tokio::sync::{watch, Mutex, MutexGuard};

pub use self::{
    control::{
        AddStars, ChatRights, DropWebhookDeliveries, InlineRequest, NewChat, PayRequest,
        RateLimitRequest, ReferUser, SetBalance, ShareRequest, UserMessage,
    },
    delivery::DeliveryStats,
    error::{ApiError, ControlError},
    inline::{InlineQuery, PreparedMessage},
    payments::{Invoice, PaymentOutcome, StarTransaction},
    shapes::EmulatedUser,
    state::{ChatType, GroupChat, SentMessage, StoredFile, UserView},
    subscriptions::{AdvanceClock, Renewal, RenewalOutcome, Subscription},
};

/// The bot token the shop's dev preview plays (the server's `config::DEV_BOT_TOKEN`), so a shop
/// with `DEV_PREVIEW=1` and `TELEGRAM_API_URL` pointing here works against the emulator as is.
pub const DEV_BOT_TOKEN: &str = "7000000001:AAStarfront-dev-preview-emulator-only";

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// `{bot_id}:{secret}`; the numeric part is the bot's user id, as in Telegram.
    pub bot_token: String,
    pub bot_username: String,
    pub bot_first_name: String,
    /// Star balance every newly created user starts with.
    pub initial_stars: i64,
    /// How long a payment waits for `answerPreCheckoutQuery` (Telegram: 10 seconds).
    pub pre_checkout_timeout: Duration,
    /// Webhook deliveries in flight at once. Telegram opens up to the webhook's
    /// `max_connections` (40 by default) and then gives no order; 1, the default here, delivers
    /// strictly in order, which tests of update sequences rely on.
    pub webhook_connections: usize,
    /// Failed deliveries of one update after which the webhook gives up on it (Bot API,
    /// setWebhook: "we will repeat the request and give up after a reasonable amount of
    /// attempts").
    pub webhook_max_attempts: u32,
    /// Telegram's now. The dev preview shares it with the shop, so advancing it (a month for a
    /// membership's renewal) moves the shop's now too.
    pub clock: clock::Clock,
}

impl EmulatorConfig {
    pub fn new(bot_token: impl Into<String>) -> Self {
        EmulatorConfig {
            bot_token: bot_token.into(),
            bot_username: "starfront_bot".into(),
            bot_first_name: "Starfront".into(),
            initial_stars: 2500,
            pre_checkout_timeout: Duration::from_secs(10),
            webhook_connections: 1,
            webhook_max_attempts: 50,
            clock: clock::Clock::default(),
        }
    }

    /// The digits before ':' in the token; 0 when the token is malformed.
    pub fn bot_id(&self) -> i64 {
        self.bot_token
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or(0)
    }
}

/// The emulated Telegram. Cheap to clone; clones share one state.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    config: EmulatorConfig,
    state: Mutex<State>,
    /// Bumped whenever updates are queued or the webhook changes, waking long polls and the
    /// webhook worker. A watch channel cannot lose a wake-up that happens before anyone waits.
    changes: watch::Sender<u64>,
    http: reqwest::Client,
    worker_started: AtomicBool,
    /// The emulator's stand-in for Telegram's Ed25519 key that signs Mini App init data for
    /// third parties (Telegram's own private key is Telegram's). Derived from the bot token, so
    /// every emulator of one bot signs alike.
    webapp_key: ed25519_dalek::SigningKey,
}

use self::state::State;

impl Emulator {
    pub fn new(config: EmulatorConfig) -> Self {
        let (changes, _) = watch::channel(0);
        let state = State::new(config.clock.clone());
        let http = reqwest::Client::builder()
            .timeout(delivery::REQUEST_TIMEOUT)
            .build()
            .unwrap_or_default();
        let seed: [u8; 32] = sha2::Sha256::digest(
            format!("emulated Telegram WebAppData key\n{}", config.bot_token).as_bytes(),
        )
        .into();
        Emulator {
            inner: Arc::new(Inner {
                webapp_key: ed25519_dalek::SigningKey::from_bytes(&seed),
                config,
                state: Mutex::new(state),
                changes,
                http,
                worker_started: AtomicBool::new(false),
            }),
        }
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.inner.config
    }

    pub fn bot_id(&self) -> i64 {
        self.inner.config.bot_id()
    }

    /// The public half of the key that signs Mini App init data (Telegram publishes its own:
    /// Mini Apps docs, "Validating data for Third-Party Use").
    pub fn webapp_public_key(&self) -> [u8; 32] {
        self.inner.webapp_key.verifying_key().to_bytes()
    }

    /// Telegram's `signature` of init data: Ed25519 over `"{bot_id}:WebAppData\n"` followed by
    /// the data-check-string (every received field but `hash` and `signature`, sorted by key,
    /// `key=value` joined by `\n`). Mini Apps docs, "Validating data for Third-Party Use".
    pub fn webapp_signature(&self, data_check_string: &str) -> [u8; 64] {
        use ed25519_dalek::Signer;
        let message = format!("{}:WebAppData\n{data_check_string}", self.bot_id());
        self.inner.webapp_key.sign(message.as_bytes()).to_bytes()
    }

    /// The Bot API at `/bot{token}/{method}` and the control API at `/control/...`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/{bot_token}/{method}", any(methods::handle))
            .layer(DefaultBodyLimit::max(params::MAX_BODY_BYTES))
            .merge(control::routes())
            .fallback(|| async { ApiError::NotFound })
            .with_state(self.clone())
    }

    /// Unix seconds on the emulator's (advanceable) clock.
    pub fn now(&self) -> i64 {
        self.inner.config.clock.now()
    }

    async fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().await
    }

    fn notify_changes(&self) {
        self.inner.changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}
