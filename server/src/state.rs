//! What every handler can reach: the shop's parts, made once at start (`prepare`) and shared by
//! the router's clones. A module of its own, below the router and the handlers alike, so that
//! what a handler needs is named without importing the router that mounts it.

use crate::auth::Authenticator;
use crate::db::Db;
use crate::downloads::Signer;
use crate::storage::Storage;
use crate::telegram::updates::Inbox;
use app::api::ShopHandle;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos: LeptosOptions,
    pub db: Db,
    pub shop: ShopHandle,
    pub auth: Authenticator,
    pub storage: Storage,
    pub signer: Signer,
    /// Users with every right in the shop (`ADMIN_IDS`).
    pub admin_ids: Arc<[i64]>,
    /// Present when a bot is configured.
    pub telegram: Option<TelegramState>,
    /// The in-process Bot API emulator (dev preview), mounted at `/emulator`.
    #[cfg(feature = "dev-preview")]
    pub emulator: Option<telegram_emulator::Emulator>,
    /// `DEV_RELOAD`: the dev preview's pages follow restarts (see `dev_preview::boot`).
    #[cfg(feature = "dev-preview")]
    pub dev_reload: bool,
    /// The creator studio's limits (prices, uploads).
    pub studio: crate::studio::StudioConfig,
    /// Now for memberships' access; the dev preview's emulator advances it.
    pub clock: crate::clock::Clock,
    /// Who may read `/metrics`.
    pub metrics: crate::metrics::MetricsAccess,
    /// Checkout, tip and studio-write budgets per user or address.
    pub rate_limits: crate::rate_limit::RateLimits,
    /// The bundle's current file names (`leptos.output_name` is its `bundle`).
    pub assets: app::Assets,
    /// Rendered catalog pages, kept while the catalog is unchanged.
    pub page_cache: crate::page_cache::PageCache,
    /// Turns for the shop's requests (`http::take_turns`): `REQUESTS_AT_ONCE` of them.
    pub turns: Arc<tokio::sync::Semaphore>,
    /// Tells the video worker an upload queued a job.
    pub video_wake: crate::videos::Wake,
}

/// What the webhook needs.
#[derive(Clone)]
pub struct TelegramState {
    pub inbox: Inbox,
    pub webhook_secret: String,
    pub bot: crate::telegram::bot::Bot,
    /// Buttons and t.me links into the Mini App.
    pub links: crate::telegram::links::Links,
}

impl AppState {
    pub fn new(
        leptos: LeptosOptions,
        db: Db,
        storage: Storage,
        auth: Authenticator,
        signer: Signer,
        shop: ShopHandle,
    ) -> Self {
        Self {
            rate_limits: crate::rate_limit::RateLimits::new(Default::default(), auth.clone()),
            leptos,
            db,
            shop,
            auth,
            storage,
            signer,
            admin_ids: Arc::new([]),
            telegram: None,
            #[cfg(feature = "dev-preview")]
            emulator: None,
            #[cfg(feature = "dev-preview")]
            dev_reload: false,
            studio: crate::studio::StudioConfig::default(),
            clock: crate::clock::Clock::default(),
            metrics: crate::metrics::MetricsAccess::default(),
            assets: app::Assets::default(),
            page_cache: Default::default(),
            turns: Arc::new(tokio::sync::Semaphore::new(
                crate::config::DEFAULT_REQUESTS_AT_ONCE,
            )),
            video_wake: Default::default(),
        }
    }

    /// Whether the browser dev preview runs; never in a build without the `dev-preview` feature.
    pub fn dev_preview(&self) -> bool {
        #[cfg(feature = "dev-preview")]
        return self.emulator.is_some();
        #[cfg(not(feature = "dev-preview"))]
        false
    }
}
