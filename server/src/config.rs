//! Configuration from the environment, with defaults that run a dev shop out of the box.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

const DEFAULT_BIND: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 3000);
pub const TELEGRAM_API_DEFAULT: &str = "https://api.telegram.org";
/// The dev preview's bot token: only ever valid against the built-in emulator.
pub const DEV_BOT_TOKEN: &str = "7000000001:AAStarfront-dev-preview-emulator-only";
/// The dev preview's demo admin; an admin only in dev preview and only when `ADMIN_IDS` is unset.
pub const DEV_ADMIN_ID: i64 = 9001;

#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    /// Where the built site lives (`pkg/` with the hydration bundle).
    pub site_root: PathBuf,
    /// The bot's token; in dev preview a built-in token for the emulator when none is set.
    pub bot_token: Option<String>,
    /// The Bot API base URL; `None` means Telegram's, or the in-process emulator in dev preview.
    pub telegram_api_url: Option<Url>,
    /// How old init data may be; `None` (from `INIT_DATA_MAX_AGE_SECS=0`) turns the check off.
    pub init_data_max_age: Option<Duration>,
    /// How old init data may be for refunds and studio writes; `None` means as for the rest.
    pub init_data_sensitive_max_age: Option<Duration>,
    /// Also accept init data Telegram signed for this bot id (Ed25519, Bot API 8.0).
    pub third_party_bot_id: Option<i64>,
    /// Use Telegram's test-environment key for third-party validation.
    pub telegram_test_env: bool,
    pub webhook_secret: Option<String>,
    pub public_url: Option<Url>,
    /// The bot's @username (without '@') for t.me links; `None`: asked of `getMe` at start.
    pub bot_username: Option<String>,
    /// The Mini App's short name from BotFather (`/newapp`): links then read
    /// `t.me/<bot>/<short name>`; `None`: `t.me/<bot>` (the bot's main Mini App).
    pub mini_app_short_name: Option<String>,
    pub dev_preview: bool,
    /// Dev preview pages reload themselves when the shop restarts (`scripts/dev.sh --watch`).
    pub dev_reload: bool,
    /// Load the demo catalog at start. Defaults to `dev_preview`.
    pub seed_demo: bool,
    /// Telegram user ids with every right in the shop (refund any order, …).
    pub admin_ids: Vec<i64>,
    /// Refund every purchase right after delivery (a public demo costs buyers nothing).
    pub demo_refund: bool,
    /// Products on one catalog page.
    pub catalog_page_size: u32,
    /// The highest price (and tip) a creator may set, in Stars.
    pub max_price_stars: u32,
    /// The largest file a creator may upload, in bytes; enforced while the upload streams.
    pub max_upload_bytes: u64,
    /// The longest video a lesson may have (`MAX_VIDEO_SECONDS`); a longer one fails its
    /// preparation with a message in the studio.
    pub max_video_seconds: u32,
    /// This process's name among replicas sharing the database (`REPLICA_ID`); `None` means
    /// host name and pid.
    pub replica_id: Option<String>,
    /// How often reconciliation reads the Star ledger (`RECONCILE_INTERVAL_SECS`).
    pub reconcile_interval: Duration,
    /// Where product files live: `DATA_DIR/files` or an S3-compatible bucket.
    pub storage: StorageConfig,
    /// Connections, request heads and the graceful stop (`MAX_CONNECTIONS`,
    /// `HEADER_READ_TIMEOUT_SECS`, `SHUTDOWN_GRACE_SECS`).
    pub connection_limits: crate::listen::ConnectionLimits,
    /// How long a request may take before it is answered 408 (`REQUEST_TIMEOUT_SECS`); uploads,
    /// which stream for as long as the file takes, are exempt.
    pub request_timeout: Duration,
    /// Requests worked on at once, besides the webhook and the health and metrics checks, which
    /// never wait for one (`REQUESTS_AT_ONCE`); the rest wait their turn without using the CPU.
    pub requests_at_once: usize,
    /// With it, `/metrics` answers `Authorization: Bearer <token>` from anywhere; without it,
    /// loopback only (`METRICS_TOKEN`).
    pub metrics_token: Option<String>,
    /// Checkouts, tips and studio writes a user (or address) may make a minute.
    pub rate_limits: crate::rate_limit::RateLimitConfig,
}

/// `STORAGE=local` (default): files under `DATA_DIR/files`. `STORAGE=s3`: an S3-compatible
/// bucket, required when several replicas serve the shop (their disks are not shared).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageConfig {
    Local,
    S3(S3Config),
}

/// `S3_BUCKET` (required), `S3_ENDPOINT` (unset: AWS; `http://` allowed for a local server),
/// `S3_REGION` (default `us-east-1`), `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY` (unset: the
/// usual `AWS_*` variables or the instance's role), `S3_VIRTUAL_HOSTED_STYLE` (default off:
/// path-style `endpoint/bucket/key`, which every S3-compatible server understands).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    pub endpoint: Option<Url>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub virtual_hosted_style: bool,
}

/// A credential that never appears in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

/// Telegram's own ceiling for one Stars invoice is far above this; the shop's default is a
/// sane price for digital goods.
pub const DEFAULT_MAX_PRICE_STARS: u32 = 10_000;
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Three hours: a long lecture; the ladder of a longer video takes hours of a small server's CPU.
pub const DEFAULT_MAX_VIDEO_SECONDS: u32 = 3 * 60 * 60;
/// As many as the database pool's connections (`db::POOL_CONNECTIONS`): past that, a request
/// more only waits for a connection in the queue a buyer's pre-checkout waits in too. The load
/// test measured it: pre-checkout p99 34 ms at 8, 1.1 s at 32 (README, "The load test").
pub const DEFAULT_REQUESTS_AT_ONCE: usize = crate::db::POOL_CONNECTIONS as usize;

/// A variable that is set but unusable. Start-up stops with this message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}={value:?} is invalid: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub reason: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());

        let bind = match (get("BIND"), get("PORT")) {
            (Some(bind), _) => bind
                .parse()
                .map_err(|_| invalid("BIND", &bind, "expected host:port, e.g. 127.0.0.1:3000"))?,
            // PORT is the platform convention (containers, PaaS): listen on every interface.
            (None, Some(port)) => SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                port.parse()
                    .map_err(|_| invalid("PORT", &port, "expected a port number 1-65535"))?,
            ),
            (None, None) => DEFAULT_BIND,
        };

        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = match get("DATABASE_URL") {
            Some(url) if url.starts_with("sqlite:") || crate::db::is_postgres_url(&url) => url,
            Some(url) => {
                return Err(invalid(
                    "DATABASE_URL",
                    &url,
                    "expected a sqlite: or postgres:// URL",
                ))
            }
            None => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("starfront.db").display()
            ),
        };
        let site_root = PathBuf::from(
            get("LEPTOS_SITE_ROOT")
                .or_else(|| get("SITE_ROOT"))
                .unwrap_or_else(|| "target/site".into()),
        );

        let dev_preview = get_bool(&get, "DEV_PREVIEW")?.unwrap_or(false);
        if dev_preview && !cfg!(feature = "dev-preview") {
            return Err(invalid(
                "DEV_PREVIEW",
                &get("DEV_PREVIEW").unwrap_or_default(),
                "this build has no dev preview (build with --features dev-preview)",
            ));
        }
        let bot_token = get("BOT_TOKEN")
            .map(|token| check_bot_token(&token).map(|()| token))
            .transpose()?
            .or_else(|| dev_preview.then(|| DEV_BOT_TOKEN.to_owned()));
        let telegram_api_url = get("TELEGRAM_API_URL")
            .map(|url| parse_http_url("TELEGRAM_API_URL", &url))
            .transpose()?;
        let init_data_max_age = match get("INIT_DATA_MAX_AGE_SECS") {
            None => Some(Duration::from_secs(86_400)),
            Some(v) => match v.parse::<u64>() {
                Ok(0) => None,
                Ok(secs) => Some(Duration::from_secs(secs)),
                Err(_) => {
                    return Err(invalid(
                        "INIT_DATA_MAX_AGE_SECS",
                        &v,
                        "expected whole seconds (0 turns the check off)",
                    ))
                }
            },
        };
        let init_data_sensitive_max_age = match get("INIT_DATA_SENSITIVE_MAX_AGE_SECS") {
            None => Some(Duration::from_secs(3600)),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(0) => None,
                Ok(secs) => Some(Duration::from_secs(secs)),
                Err(_) => {
                    return Err(invalid(
                        "INIT_DATA_SENSITIVE_MAX_AGE_SECS",
                        &v,
                        "expected whole seconds (0: as INIT_DATA_MAX_AGE_SECS)",
                    ))
                }
            },
        };
        let third_party_bot_id = get("THIRD_PARTY_BOT_ID")
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| invalid("THIRD_PARTY_BOT_ID", &v, "expected a bot's numeric id"))
            })
            .transpose()?;
        let telegram_test_env = get_bool(&get, "TELEGRAM_TEST_ENV")?.unwrap_or(false);
        let webhook_secret = get("WEBHOOK_SECRET")
            .map(|secret| check_webhook_secret(&secret).map(|()| secret))
            .transpose()?;
        let public_url = get("PUBLIC_URL")
            .map(|url| {
                let parsed = parse_http_url("PUBLIC_URL", &url)?;
                // Telegram delivers webhooks and opens Mini Apps over HTTPS only. A loopback
                // address is no URL Telegram could reach anyway: plain HTTP there serves a Bot
                // API emulator on the same machine (replicas behind a local balancer in tests).
                if parsed.scheme() != "https" && !is_loopback(&parsed) {
                    return Err(invalid(
                        "PUBLIC_URL",
                        &url,
                        "Telegram requires an https:// URL",
                    ));
                }
                Ok(parsed)
            })
            .transpose()?;
        // Telegram: a bot's username has 5-32 of these characters, a Mini App's short name 3-30.
        let bot_username = telegram_name(&get, "BOT_USERNAME", 5..=32, "starfront_bot")?;
        let mini_app_short_name = telegram_name(&get, "MINI_APP_SHORT_NAME", 3..=30, "shop")?;
        let dev_reload = get_bool(&get, "DEV_RELOAD")?.unwrap_or(false);
        if dev_reload && !dev_preview {
            return Err(invalid(
                "DEV_RELOAD",
                &get("DEV_RELOAD").unwrap_or_default(),
                "reloading pages on restart is part of the dev preview: set DEV_PREVIEW too",
            ));
        }
        let seed_demo = get_bool(&get, "SEED_DEMO")?.unwrap_or(dev_preview);
        if seed_demo && !cfg!(feature = "demo") {
            return Err(invalid(
                "SEED_DEMO",
                &get("SEED_DEMO").unwrap_or_default(),
                "this build has no demo catalog (build with --features demo)",
            ));
        }
        let admin_ids = match get("ADMIN_IDS") {
            None if dev_preview => vec![DEV_ADMIN_ID],
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(|id| {
                    id.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
                        invalid(
                            "ADMIN_IDS",
                            &list,
                            "expected Telegram user ids separated by commas",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let demo_refund = get_bool(&get, "DEMO_REFUND")?.unwrap_or(false);
        let max_price_stars = match get("MAX_PRICE_STARS") {
            None => DEFAULT_MAX_PRICE_STARS,
            // The products table allows at most 100,000.
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "MAX_PRICE_STARS",
                        &v,
                        "expected whole Stars from 1 to 100000",
                    )
                })?,
        };
        let max_upload_bytes = match get("MAX_UPLOAD_BYTES") {
            None => DEFAULT_MAX_UPLOAD_BYTES,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid("MAX_UPLOAD_BYTES", &v, "expected a positive byte count"))?,
        };
        let max_video_seconds = match get("MAX_VIDEO_SECONDS") {
            None => DEFAULT_MAX_VIDEO_SECONDS,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    invalid(
                        "MAX_VIDEO_SECONDS",
                        &v,
                        "expected a positive number of seconds",
                    )
                })?,
        };
        let catalog_page_size = match get("CATALOG_PAGE_SIZE") {
            None => 24,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| invalid("CATALOG_PAGE_SIZE", &v, "expected 1 to 100"))?,
        };

        let replica_id = get("REPLICA_ID")
            .map(|id| {
                let id = id.trim().to_owned();
                if crate::replica::is_valid(&id) {
                    Ok(id)
                } else {
                    Err(invalid(
                        "REPLICA_ID",
                        &id,
                        "use 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
                    ))
                }
            })
            .transpose()?;
        let reconcile_interval = match get("RECONCILE_INTERVAL_SECS") {
            None => Duration::from_secs(60),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=86_400).contains(n))
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    invalid(
                        "RECONCILE_INTERVAL_SECS",
                        &v,
                        "expected whole seconds from 1 to 86400",
                    )
                })?,
        };
        let storage = storage_config(&get)?;
        let defaults = crate::listen::ConnectionLimits::default();
        let connection_limits = crate::listen::ConnectionLimits {
            max_connections: bounded(&get, "MAX_CONNECTIONS", 1, 1_000_000)?
                .map_or(defaults.max_connections, |n| n as usize),
            header_read_timeout: secs(&get, "HEADER_READ_TIMEOUT_SECS", 1, 3600)?
                .unwrap_or(defaults.header_read_timeout),
            max_header_bytes: defaults.max_header_bytes,
            shutdown_grace: secs(&get, "SHUTDOWN_GRACE_SECS", 1, 3600)?
                .unwrap_or(defaults.shutdown_grace),
        };
        let request_timeout =
            secs(&get, "REQUEST_TIMEOUT_SECS", 1, 3600)?.unwrap_or(Duration::from_secs(30));
        let requests_at_once = bounded(&get, "REQUESTS_AT_ONCE", 1, 100_000)?
            .map_or(DEFAULT_REQUESTS_AT_ONCE, |n| n as usize);

        let metrics_token = get("METRICS_TOKEN").map(|t| t.trim().to_owned());
        let rate_defaults = crate::rate_limit::RateLimitConfig::default();
        let rate_limits = crate::rate_limit::RateLimitConfig {
            checkout_per_min: bounded(&get, "RATE_LIMIT_CHECKOUT_PER_MIN", 1, 100_000)?
                .map_or(rate_defaults.checkout_per_min, |n| n as u32),
            studio_per_min: bounded(&get, "RATE_LIMIT_STUDIO_PER_MIN", 1, 100_000)?
                .map_or(rate_defaults.studio_per_min, |n| n as u32),
            verify_per_min: bounded(&get, "RATE_LIMIT_VERIFY_PER_MIN", 1, 100_000)?
                .map_or(rate_defaults.verify_per_min, |n| n as u32),
        };

        let config = Config {
            bind,
            database_url,
            data_dir,
            site_root,
            bot_token,
            telegram_api_url,
            init_data_max_age,
            init_data_sensitive_max_age,
            third_party_bot_id,
            telegram_test_env,
            webhook_secret,
            public_url,
            bot_username,
            mini_app_short_name,
            dev_preview,
            dev_reload,
            seed_demo,
            admin_ids,
            demo_refund,
            catalog_page_size,
            max_price_stars,
            max_upload_bytes,
            max_video_seconds,
            replica_id,
            reconcile_interval,
            storage,
            connection_limits,
            request_timeout,
            requests_at_once,
            metrics_token,
            rate_limits,
        };
        config.check_dev_preview()?;
        Ok(config)
    }

    /// The dev preview signs anyone in as any user (the demo admin included) and plays Telegram
    /// itself, so it may only run on this machine, never with a real bot or a public address.
    /// Checked again by `serve` once the listening address is known.
    pub fn check_dev_preview(&self) -> Result<(), ConfigError> {
        if !self.dev_preview {
            return Ok(());
        }
        let why = "the dev preview lets anyone sign in as any user";
        if !self.bind.ip().is_loopback() {
            return Err(invalid(
                "DEV_PREVIEW",
                "1",
                &format!(
                    "{why}, so it listens on loopback only, but the address is {} \
                     (set BIND=127.0.0.1:<port> and leave PORT unset, or unset DEV_PREVIEW)",
                    self.bind
                ),
            ));
        }
        if self
            .bot_token
            .as_deref()
            .is_some_and(|t| t != DEV_BOT_TOKEN)
        {
            return Err(invalid(
                "DEV_PREVIEW",
                "1",
                &format!("{why}, so it never runs with a real BOT_TOKEN (unset one of them)"),
            ));
        }
        if let Some(url) = &self.public_url {
            return Err(invalid(
                "DEV_PREVIEW",
                "1",
                &format!(
                    "{why}, so it never runs with a PUBLIC_URL ({url}) that would register a \
                     webhook and publish the shop (unset one of them)"
                ),
            ));
        }
        Ok(())
    }

    /// The directory for stored product files (covers, samples, content).
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }
}

fn storage_config(get: &impl Fn(&str) -> Option<String>) -> Result<StorageConfig, ConfigError> {
    match get("STORAGE")
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("local") => return Ok(StorageConfig::Local),
        Some("s3") => {}
        Some(_) => {
            let value = get("STORAGE").unwrap_or_default();
            return Err(invalid("STORAGE", &value, "expected local or s3"));
        }
    }
    let bucket = get("S3_BUCKET")
        .ok_or_else(|| invalid("S3_BUCKET", "", "STORAGE=s3 needs the bucket's name"))?;
    // S3's rules: 3-63 of a-z 0-9 . - (compatible servers are stricter or equal).
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !bucket_ok {
        return Err(invalid(
            "S3_BUCKET",
            &bucket,
            "expected 3-63 characters of a-z, 0-9, . and -",
        ));
    }
    let endpoint = get("S3_ENDPOINT")
        .map(|url| parse_http_url("S3_ENDPOINT", &url))
        .transpose()?;
    let access_key_id = get("S3_ACCESS_KEY_ID");
    let secret_access_key = get("S3_SECRET_ACCESS_KEY").map(Secret::new);
    if access_key_id.is_some() != secret_access_key.is_some() {
        let (var, missing) = if access_key_id.is_some() {
            ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
        } else {
            ("S3_SECRET_ACCESS_KEY", "S3_ACCESS_KEY_ID")
        };
        return Err(invalid(
            var,
            "<hidden>",
            &format!("set {missing} too, or neither (then the AWS_* variables are used)"),
        ));
    }
    Ok(StorageConfig::S3(S3Config {
        bucket,
        endpoint,
        region: get("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        access_key_id,
        secret_access_key,
        virtual_hosted_style: get_bool(get, "S3_VIRTUAL_HOSTED_STYLE")?.unwrap_or(false),
    }))
}

/// A whole number from `min` to `max`, when `var` is set.
fn bounded(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ConfigError> {
    get(var)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    invalid(
                        var,
                        &v,
                        &format!("expected a whole number from {min} to {max}"),
                    )
                })
        })
        .transpose()
}

/// Whole seconds from `min` to `max`, when `var` is set.
fn secs(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    min: u64,
    max: u64,
) -> Result<Option<Duration>, ConfigError> {
    Ok(bounded(get, var, min, max)?.map(Duration::from_secs))
}

fn invalid(var: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError {
        var,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn get_bool(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<Option<bool>, ConfigError> {
    get(var)
        .map(|v| match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(invalid(
                var,
                &v,
                "expected 1/0, true/false, yes/no or on/off",
            )),
        })
        .transpose()
}

fn parse_http_url(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| invalid(var, value, &e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(var, value, "expected an http:// or https:// URL"));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A username or short name, when `var` is set: ASCII letters, digits and underscores, `lengths`
/// long; a leading '@' is dropped.
fn telegram_name(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    lengths: std::ops::RangeInclusive<usize>,
    example: &str,
) -> Result<Option<String>, ConfigError> {
    get(var)
        .map(|value| {
            let name = value.trim().trim_start_matches('@');
            let valid = lengths.contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if valid {
                Ok(name.to_owned())
            } else {
                Err(invalid(
                    var,
                    name,
                    &format!("expected a name like {example}"),
                ))
            }
        })
        .transpose()
}

/// BotFather tokens look like `123456789:AA…` (bot id, colon, 35 URL-safe characters).
fn check_bot_token(token: &str) -> Result<(), ConfigError> {
    let ok = token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && secret.len() >= 30
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "BOT_TOKEN",
            "<hidden>",
            "expected the token BotFather gave, like 123456789:AAE…",
        ))
    }
}

/// Telegram allows 1-256 characters of A-Z, a-z, 0-9, `_` and `-` in a webhook secret.
fn check_webhook_secret(secret: &str) -> Result<(), ConfigError> {
    let ok = (1..=256).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "WEBHOOK_SECRET",
            "<hidden>",
            "use 1-256 characters of A-Z, a-z, 0-9, _ and -",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|key| map.get(key).cloned())
    }

    #[test]
    fn defaults_run_a_local_shop() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.database_url, "sqlite://data/starfront.db?mode=rwc");
        assert_eq!(c.telegram_api_url, None);
        assert_eq!(c.init_data_max_age, Some(Duration::from_secs(86_400)));
        assert!(!c.dev_preview);
        assert!(!c.seed_demo);
        assert!(c.bot_token.is_none() && c.public_url.is_none());
    }

    #[test]
    fn port_listens_everywhere_and_bind_wins() {
        assert_eq!(
            config(&[("PORT", "8080")]).unwrap().bind,
            "0.0.0.0:8080".parse().unwrap()
        );
        let both = config(&[("PORT", "8080"), ("BIND", "127.0.0.1:9000")]).unwrap();
        assert_eq!(both.bind, "127.0.0.1:9000".parse().unwrap());
    }

    #[test]
    fn data_dir_moves_the_default_database() {
        let c = config(&[("DATA_DIR", "/srv/shop")]).unwrap();
        assert_eq!(c.database_url, "sqlite:///srv/shop/starfront.db?mode=rwc");
        assert_eq!(c.files_dir(), PathBuf::from("/srv/shop/files"));
    }

    #[test]
    fn postgres_urls_select_postgres() {
        for url in [
            "postgres://shop:secret@db.internal:5432/starfront",
            "postgresql://shop@localhost/starfront?sslmode=require",
        ] {
            let c = config(&[("DATABASE_URL", url)]).unwrap();
            assert_eq!(c.database_url, url);
            assert!(crate::db::is_postgres_url(&c.database_url));
        }
        assert!(!crate::db::is_postgres_url("sqlite://data/starfront.db"));
    }

    #[test]
    fn page_reloads_are_a_dev_preview_setting() {
        assert!(config(&[("DEV_RELOAD", "1")]).is_err());
        assert!(
            config(&[("DEV_PREVIEW", "1"), ("DEV_RELOAD", "1")])
                .unwrap()
                .dev_reload
        );
        assert!(!config(&[("DEV_PREVIEW", "1")]).unwrap().dev_reload);
    }

    #[test]
    fn dev_preview_seeds_unless_told_otherwise() {
        assert!(config(&[("DEV_PREVIEW", "1")]).unwrap().seed_demo);
        assert!(
            !config(&[("DEV_PREVIEW", "true"), ("SEED_DEMO", "0")])
                .unwrap()
                .seed_demo
        );
    }

    #[test]
    fn dev_preview_brings_a_bot_token_and_zero_turns_the_age_check_off() {
        let c = config(&[("DEV_PREVIEW", "1"), ("INIT_DATA_MAX_AGE_SECS", "0")]).unwrap();
        assert_eq!(c.bot_token.as_deref(), Some(DEV_BOT_TOKEN));
        assert!(check_bot_token(DEV_BOT_TOKEN).is_ok());
        assert_eq!(c.init_data_max_age, None);
        assert!(config(&[]).unwrap().bot_token.is_none());
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            ("BIND", "localhost"),
            ("PORT", "70000"),
            ("DATABASE_URL", "mysql://x"),
            ("BOT_TOKEN", "not-a-token"),
            ("TELEGRAM_API_URL", "ftp://example.org"),
            ("WEBHOOK_SECRET", "has spaces"),
            ("PUBLIC_URL", "http://shop.example.org"),
            ("DEV_PREVIEW", "maybe"),
            ("INIT_DATA_MAX_AGE_SECS", "-5"),
            ("THIRD_PARTY_BOT_ID", "bot"),
            ("INIT_DATA_SENSITIVE_MAX_AGE_SECS", "1h"),
            ("ADMIN_IDS", "12,abc"),
            ("DEMO_REFUND", "sometimes"),
            ("MAX_PRICE_STARS", "0"),
            ("MAX_PRICE_STARS", "200000"),
            ("MAX_UPLOAD_BYTES", "2GB"),
            ("REPLICA_ID", "web 1"),
            ("RECONCILE_INTERVAL_SECS", "0"),
            ("STORAGE", "ftp"),
            ("MAX_CONNECTIONS", "0"),
            ("HEADER_READ_TIMEOUT_SECS", "soon"),
            ("REQUEST_TIMEOUT_SECS", "0"),
            ("SHUTDOWN_GRACE_SECS", "99999"),
            ("RATE_LIMIT_CHECKOUT_PER_MIN", "0"),
        ];
        for (var, value) in cases {
            let err = config(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var);
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn the_dev_preview_refuses_public_addresses_real_bots_and_public_urls() {
        let refused = [
            vec![("DEV_PREVIEW", "1"), ("PORT", "3102")],
            vec![
                ("DEV_PREVIEW", "1"),
                ("PORT", "3102"),
                ("PUBLIC_URL", "https://x.example"),
            ],
            vec![("DEV_PREVIEW", "1"), ("BIND", "0.0.0.0:3000")],
            vec![("DEV_PREVIEW", "1"), ("BIND", "192.168.1.5:3000")],
            vec![
                ("DEV_PREVIEW", "1"),
                (
                    "BOT_TOKEN",
                    "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8",
                ),
            ],
            vec![("DEV_PREVIEW", "1"), ("PUBLIC_URL", "https://x.example")],
        ];
        for vars in refused {
            let err = config(&vars).expect_err(&format!("{vars:?}"));
            assert_eq!(err.var, "DEV_PREVIEW", "{vars:?}");
            assert!(err.to_string().contains("sign in as any user"), "{err}");
        }
        let err = config(&[("DEV_PREVIEW", "1"), ("PORT", "3102")]).unwrap_err();
        assert!(err.to_string().contains("0.0.0.0:3102"), "{err}");

        for vars in [
            vec![("DEV_PREVIEW", "1")],
            vec![("DEV_PREVIEW", "1"), ("BIND", "[::1]:3000")],
            vec![("DEV_PREVIEW", "1"), ("BOT_TOKEN", DEV_BOT_TOKEN)],
            // Without the dev preview, a public address is the point.
            vec![("PORT", "3102"), ("PUBLIC_URL", "https://x.example")],
        ] {
            assert!(config(&vars).is_ok(), "{vars:?}");
        }
    }

    #[test]
    fn admin_ids_are_a_comma_separated_list() {
        assert_eq!(
            config(&[("ADMIN_IDS", "42, 7,")]).unwrap().admin_ids,
            [42, 7]
        );
        assert!(config(&[]).unwrap().admin_ids.is_empty());
    }

    #[test]
    fn the_demo_admin_exists_only_in_dev_preview_without_admin_ids() {
        assert_eq!(
            config(&[("DEV_PREVIEW", "1")]).unwrap().admin_ids,
            [DEV_ADMIN_ID]
        );
        assert_eq!(
            config(&[("DEV_PREVIEW", "1"), ("ADMIN_IDS", "42")])
                .unwrap()
                .admin_ids,
            [42]
        );
        assert!(config(&[("DEV_PREVIEW", "0")])
            .unwrap()
            .admin_ids
            .is_empty());
    }

    #[test]
    fn studio_limits_have_defaults_and_can_be_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.max_price_stars, 10_000);
        assert_eq!(c.max_upload_bytes, 2 * 1024 * 1024 * 1024);
        let c = config(&[("MAX_PRICE_STARS", "500"), ("MAX_UPLOAD_BYTES", "1024")]).unwrap();
        assert_eq!((c.max_price_stars, c.max_upload_bytes), (500, 1024));
    }

    #[test]
    fn replicas_name_themselves_and_reconcile_on_their_interval() {
        let c = config(&[]).unwrap();
        assert_eq!(c.replica_id, None);
        assert_eq!(c.reconcile_interval, Duration::from_secs(60));
        let c = config(&[("REPLICA_ID", "web-2"), ("RECONCILE_INTERVAL_SECS", "5")]).unwrap();
        assert_eq!(c.replica_id.as_deref(), Some("web-2"));
        assert_eq!(c.reconcile_interval, Duration::from_secs(5));
    }

    #[test]
    fn plain_http_public_urls_only_on_loopback() {
        for url in [
            "http://127.0.0.1:8080/",
            "http://localhost:3000",
            "http://[::1]:1/",
        ] {
            assert!(config(&[("PUBLIC_URL", url)]).is_ok(), "{url}");
        }
        assert!(config(&[("PUBLIC_URL", "http://10.0.0.1/")]).is_err());
    }

    #[test]
    fn storage_is_local_unless_s3_is_configured() {
        assert_eq!(config(&[]).unwrap().storage, StorageConfig::Local);
        let c = config(&[
            ("STORAGE", "s3"),
            ("S3_BUCKET", "shop-files"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3_ACCESS_KEY_ID", "id"),
            ("S3_SECRET_ACCESS_KEY", "very-secret"),
        ])
        .unwrap();
        let StorageConfig::S3(s3) = c.storage else {
            panic!("expected S3")
        };
        assert_eq!(s3.bucket, "shop-files");
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(s3.endpoint.unwrap().as_str(), "http://127.0.0.1:9000/");
        assert!(!format!("{:?}", s3.secret_access_key).contains("very-secret"));

        let err = |vars: &[(&str, &str)]| config(vars).unwrap_err();
        assert_eq!(err(&[("STORAGE", "s3")]).var, "S3_BUCKET");
        assert_eq!(
            err(&[("STORAGE", "s3"), ("S3_BUCKET", "Bad_Bucket")]).var,
            "S3_BUCKET"
        );
        assert_eq!(
            err(&[
                ("STORAGE", "s3"),
                ("S3_BUCKET", "ok-bucket"),
                ("S3_ENDPOINT", "minio:9000")
            ])
            .var,
            "S3_ENDPOINT"
        );
        let half = err(&[
            ("STORAGE", "s3"),
            ("S3_BUCKET", "ok-bucket"),
            ("S3_SECRET_ACCESS_KEY", "very-secret"),
        ]);
        assert_eq!(half.var, "S3_SECRET_ACCESS_KEY");
        assert!(!half.to_string().contains("very-secret"), "{half}");
    }

    #[test]
    fn secrets_are_not_echoed_in_errors() {
        let err = config(&[("BOT_TOKEN", "12345:short-secret")]).unwrap_err();
        assert!(!err.to_string().contains("short-secret"), "{err}");
    }

    #[test]
    fn well_formed_telegram_settings_are_accepted() {
        let c = config(&[
            (
                "BOT_TOKEN",
                "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8",
            ),
            ("WEBHOOK_SECRET", "s3cret_token-1"),
            ("PUBLIC_URL", "https://shop.example.org"),
        ])
        .unwrap();
        assert_eq!(c.public_url.unwrap().host_str(), Some("shop.example.org"));
        assert!(c.bot_token.is_some() && c.webhook_secret.is_some());
    }

    #[test]
    fn link_names_are_telegram_names() {
        let c = config(&[
            ("BOT_USERNAME", "@starfront_bot"),
            ("MINI_APP_SHORT_NAME", "shop"),
        ])
        .unwrap();
        assert_eq!(c.bot_username.as_deref(), Some("starfront_bot"));
        assert_eq!(c.mini_app_short_name.as_deref(), Some("shop"));
        let c = config(&[]).unwrap();
        assert!(c.bot_username.is_none() && c.mini_app_short_name.is_none());
        for (var, value) in [
            ("BOT_USERNAME", "bot"),
            ("BOT_USERNAME", "star front"),
            ("MINI_APP_SHORT_NAME", "a/b"),
            ("MINI_APP_SHORT_NAME", "ab"),
        ] {
            assert_eq!(config(&[(var, value)]).unwrap_err().var, var, "{value}");
        }
    }
}
