//! Starfront's backend: configuration, database, catalog, storage and the HTTP router.

pub mod assets;
pub mod audio;
pub mod auth;
pub mod catalog;
pub use ::clock;
pub mod config;
pub mod courses;
pub mod db;
#[cfg(feature = "dev-preview")]
pub mod dev_preview;
pub mod downloads;
pub mod error;
pub mod grants;
pub mod http;
pub mod language;
pub mod library;
pub mod licenses;
pub mod listen;
pub mod metrics;
pub mod migrate_lock;
pub mod page_cache;
pub mod payments;
pub mod promotion;
pub mod rate_limit;
pub mod ratings;
pub mod reading;
pub mod replica;
pub mod reviews;
#[cfg(feature = "demo")]
pub mod seed;
pub mod shop;
pub mod stamping;
pub mod state;
pub mod storage;
pub mod studio;
pub mod support;
pub mod telegram;
pub mod users;
pub mod videos;

use config::Config;
use leptos::prelude::LeptosOptions;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use telegram::bot::{Bot, BotError};
use telegram::dispatch::Dispatcher;
use telegram::init_data::Validator;
use telegram::links::Links;
use telegram::updates::{self, Inbox};
#[cfg(feature = "dev-preview")]
use telegram_emulator::{Emulator, EmulatorConfig};
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("cannot open the file store")]
    Storage(#[from] storage::StorageError),
    #[error("cannot read the bundle's manifest")]
    Assets(#[from] assets::AssetsError),
    #[cfg(feature = "demo")]
    #[error("cannot load the demo catalog")]
    Seed(#[from] seed::SeedError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server stopped with an error")]
    Serve(#[source] std::io::Error),
    #[error(transparent)]
    Bot(#[from] BotError),
    #[error("configuration error: {0}")]
    Config(#[from] config::ConfigError),
}

/// Everything start-up prepares: the state behind the router.
pub async fn prepare(config: &Config) -> Result<http::AppState, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let db = db::connect(&config.database_url).await?;
    let storage = storage::Storage::from_config(&config.storage, &config.files_dir())?;
    tracing::info!(files = %storage.describe(), "file storage");
    #[cfg(feature = "demo")]
    if config.seed_demo {
        let report = seed::apply(&db, &storage).await?;
        tracing::info!(added = report.products_added, "demo catalog ready");
    }
    let assets = assets::load(&config.site_root)?;
    let leptos = LeptosOptions::builder()
        .output_name(assets.bundle.clone())
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.bind)
        .build();
    // One clock for the shop and, in the dev preview, the emulator: advancing Telegram's time
    // (a membership's month) moves the shop's too.
    let clock = clock::Clock::default();
    // The dev preview plays Telegram itself, reached over HTTP like the real one.
    #[cfg(feature = "dev-preview")]
    let emulator = match &config.bot_token {
        Some(token) if config.dev_preview => Some(Emulator::new(EmulatorConfig {
            clock: clock.clone(),
            ..EmulatorConfig::new(token.clone())
        })),
        _ => None,
    };
    let mut validator = Validator::new(config.bot_token.as_deref(), config.init_data_max_age);
    if let Some(bot_id) = config.third_party_bot_id {
        validator = validator.with_third_party(bot_id, config.telegram_test_env);
    }
    // The dev preview's init data carries the emulator's signature where Telegram's carries its
    // own; the shop checks it as it would Telegram's.
    #[cfg(feature = "dev-preview")]
    if let (Some(emulator), None) = (&emulator, config.third_party_bot_id) {
        validator = validator.with_third_party_key(emulator.bot_id(), emulator.webapp_public_key());
    }
    let auth = auth::Authenticator::new(validator, db.clone())
        .with_sensitive_max_age(config.init_data_sensitive_max_age);
    let signer = match &config.bot_token {
        Some(token) => downloads::Signer::new(auth::derive_key(token, "download links")),
        None => downloads::Signer::ephemeral(),
    };
    let mut shop = shop::ShopBackend::new(db.clone(), auth.clone(), signer.clone())
        .with_catalog_page_size(config.catalog_page_size)
        .with_clock(clock.clone())
        .with_max_price_stars(config.max_price_stars);

    let mut telegram = None;
    if let Some(token) = &config.bot_token {
        let local = local_url(config.bind);
        let api_url = match &config.telegram_api_url {
            Some(url) => url.clone(),
            None if config.dev_preview => local.join("emulator/").expect("a valid path"),
            None => Url::parse(config::TELEGRAM_API_DEFAULT).expect("a valid URL"),
        };
        let bot = Bot::new(token, &api_url)?;
        let webapp_url = config
            .public_url
            .clone()
            .or_else(|| config.dev_preview.then_some(local));
        let links = Links::new(
            bot.clone(),
            webapp_url,
            config.bot_username.clone(),
            config.mini_app_short_name.clone(),
        );
        let inbox = Inbox::new(
            db.clone(),
            Dispatcher::new(db.clone(), bot.clone(), links.clone())
                .with_admins(&config.admin_ids)
                .with_clock(clock.clone()),
        );
        shop = shop
            .with_payments(bot.clone(), config.public_url.clone())
            .with_links(links.clone());
        telegram = Some(http::TelegramState {
            inbox,
            // Every replica derives the same secret from the token when none is configured.
            webhook_secret: config
                .webhook_secret
                .clone()
                .unwrap_or_else(|| hex::encode(auth::derive_key(token, "webhook secret"))),
            bot,
            links,
        });
    }
    let mut state = http::AppState::new(leptos, db, storage, auth, signer, Arc::new(shop));
    state.admin_ids = config.admin_ids.clone().into();
    state.studio = studio::StudioConfig {
        max_price_stars: config.max_price_stars,
        max_upload_bytes: config.max_upload_bytes,
    };
    state.telegram = telegram;
    #[cfg(feature = "dev-preview")]
    {
        state.emulator = emulator;
        state.dev_reload = config.dev_reload;
    }
    state.clock = clock;
    state.rate_limits = rate_limit::RateLimits::new(config.rate_limits, state.auth.clone());
    state.turns = std::sync::Arc::new(tokio::sync::Semaphore::new(config.requests_at_once));
    state.metrics = metrics::MetricsAccess {
        token: config.metrics_token.clone(),
    };
    state.assets = assets;
    Ok(state)
}

/// Pending orders nobody paid within the hour stop being payable.
async fn expire_orders(db: db::Db) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        tick.tick().await;
        match payments::expire_stale(&db, std::time::Duration::from_secs(3600)).await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "stale orders expired"),
            Err(err) => tracing::warn!(error = %err, "cannot expire stale orders"),
        }
    }
}

/// The shop's own base URL on this machine.
fn local_url(bind: SocketAddr) -> Url {
    let ip = match bind.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    Url::parse(&format!("http://{}/", SocketAddr::new(ip, bind.port()))).expect("a valid URL")
}

/// The background tasks of one process, stopped together at shutdown. Dropping this leaves them
/// running (tests that never stop the shop).
#[derive(Default)]
pub struct Workers(Vec<tokio::task::JoinHandle<()>>);

impl Workers {
    fn spawn(&mut self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.0.push(tokio::spawn(task));
    }

    /// Stops every task at its next await. Work that was mid-transaction rolls back and is
    /// picked up again at the next start (by its inbox row, outbox claim or reconciliation).
    pub async fn stop(self) {
        for task in &self.0 {
            task.abort();
        }
        for task in self.0 {
            let _ = task.await;
        }
    }
}

/// Starts the Telegram side: the webhook registration (with `PUBLIC_URL`) or long polling, and
/// the retry of pending updates.
pub fn start_telegram(
    config: &Config,
    state: &http::AppState,
    telegram: &http::TelegramState,
) -> Workers {
    let mut workers = Workers::default();
    let state_db = state.db.clone();
    let storage = state.storage.clone();
    let inbox = telegram.inbox.clone();
    workers.spawn(updates::retry_worker(inbox.clone()));
    workers.spawn(payments::delivery_loop(
        state_db.clone(),
        telegram.bot.clone(),
        storage.clone(),
        payments::DeliveryConfig {
            public_base: config.public_url.clone(),
            max_upload_bytes: None,
        },
    ));
    // At start, then every RECONCILE_INTERVAL_SECS: payments whose updates were lost still get
    // applied. Every replica runs it; applying is keyed by charge id, so two runs grant once.
    workers.spawn(payments::reconcile_loop(
        state_db.clone(),
        telegram.bot.clone(),
        config.reconcile_interval,
    ));
    // Charges the ledger owes back whose refund call failed are retried here.
    tokio::spawn(payments::settle_loop(
        state_db.clone(),
        telegram.bot.clone(),
        std::time::Duration::from_secs(30),
    ));
    if config.demo_refund {
        tracing::info!("DEMO_REFUND: every purchase is refunded after delivery");
        workers.spawn(payments::demo::demo_refund_loop(
            state_db.clone(),
            telegram.bot.clone(),
        ));
    }
    workers.spawn(expire_orders(state_db));
    let bot = telegram.bot.clone();
    let links = telegram.links.clone();
    workers.spawn(async move {
        if let Err(err) = telegram::bot::publish_commands(&bot).await {
            tracing::warn!(error = %err, "cannot publish the bot's command menu");
        }
        // Without BOT_USERNAME, getMe names the bot for t.me links; asked here so the first
        // link need not wait for it (a failure is asked again when a link is made).
        links.username().await;
    });
    match &config.public_url {
        Some(public) => {
            let url = public.join("telegram/webhook").expect("a valid path");
            let bot = telegram.bot.clone();
            let secret = telegram.webhook_secret.clone();
            workers.spawn(async move {
                let mut delay = 1;
                loop {
                    let method = tgbot::types::SetWebhook::new(url.as_str())
                        .with_secret_token(secret.clone())
                        .with_allowed_updates(updates::allowed_updates());
                    match bot.call("setWebhook", method).await {
                        Ok(_) => break tracing::info!(%url, "webhook registered"),
                        Err(err) => tracing::warn!(error = %err, "setWebhook failed; retrying"),
                    }
                    tokio::time::sleep(std::time::Duration::from_secs(delay)).await;
                    delay = (delay * 2).min(60);
                }
            });
        }
        None => {
            tracing::info!("no PUBLIC_URL: receiving updates by long polling");
            workers.spawn(updates::poll_loop(telegram.bot.clone(), inbox));
        }
    }
    workers
}

/// Runs the shop until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> Result<(), StartError> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
    serve(listener, config, shutdown_signal()).await
}

/// Serves the shop on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    mut config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let replica = replica::init(config.replica_id.as_deref());
    // With port 0 the system picked one; everything that links back to us must know which.
    config.bind = addr;
    config.check_dev_preview()?;
    let state = prepare(&config).await?;
    let mut workers = match &state.telegram {
        Some(telegram) => start_telegram(&config, &state, telegram),
        None => Workers::default(),
    };
    workers.spawn(videos::run(
        state.db.clone(),
        state.storage.clone(),
        videos::Settings {
            max_seconds: config.max_video_seconds,
        },
        state.clock.clone(),
        state.video_wake.clone(),
    ));
    metrics::handle();
    workers.spawn(metrics::upkeep_loop());
    let limits = state.rate_limits.clone();
    workers.spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.forget_idle();
        }
    });
    tracing::info!(%addr, replica, dev_preview = config.dev_preview, "listening");
    println!("Starfront is running at http://{addr}/");
    let router = http::router(state).layer(axum::middleware::from_fn_with_state(
        config.request_timeout,
        http::request_timeout,
    ));
    // At the signal, intake stops (no new connections, no more long polling) and the background
    // workers stop together, while requests in flight finish, and with them their transactions.
    // Workers stop at once rather than after the requests: in the dev preview their Bot API
    // calls are requests to this very server (the emulator), which the drain would wait for.
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let http = listen::serve(listener, router, config.connection_limits, async move {
        shutdown.await;
        let _ = stopping.send(true);
    });
    let workers = async move {
        let _ = stopped.wait_for(|stopping| *stopping).await;
        workers.stop().await;
    };
    tokio::join!(http, workers);
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
