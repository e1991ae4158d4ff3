//! The load test: many shoppers at once, each going through the whole shop in a loop for a
//! fixed time, against the release server and the Bot API emulator (`telegram-emulator`, in this
//! process) that plays Telegram: it delivers the webhook (Telegram's default of 40 connections),
//! shows the payment sheet and keeps the Star ledger.
//!
//! One round of a shopper: the catalog (a page of it), a search, a product page, checkout (the
//! `start_checkout` server function with signed `initData`), paying in the emulator (its
//! `pre_checkout_query` goes to the shop's webhook and only the shop's `ok` lets the charge
//! through), waiting until the shop has applied the payment (`checkout_status`), then the
//! library and the file's download. Every step is timed; any failure counts as an error.

use crate::procs;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use telegram_emulator::{EmulatedUser, Emulator, EmulatorConfig, PaymentOutcome};

/// Telegram's default `max_connections` for a webhook.
const WEBHOOK_CONNECTIONS: usize = 40;
/// Shoppers' ids (users the seed created, none of them owning anything).
const FIRST_SHOPPER: i64 = 2_100_000;
/// The seed leaves pending orders of the first shopper on products 1 and 2 (the bench's other
/// measurements pay them): shoppers here buy from product 3 on.
const FIRST_BUYABLE: i64 = 3;
/// How long a paid order may take to show as paid before it counts as an error.
const PAID_WITHIN: Duration = Duration::from_secs(10);
/// Words the shoppers search for (product titles are "Benchmark product N: a guide to …").
const SEARCHES: [&str; 4] = ["guide", "everything", "product", "benchmark guide"];

pub struct Plan<'a> {
    pub base: &'a str,
    pub shoppers: usize,
    pub duration: Duration,
    /// How many products a shopper may buy, from `bench-000003` on (the last one, with the
    /// 256 MiB file, left out).
    pub products: i64,
    pub bot_token: &'a str,
    pub start_checkout_path: String,
    pub checkout_status_path: String,
}

/// The steps of a round, in order.
pub const STEPS: [&str; 8] = [
    "catalog page",
    "search",
    "product page",
    "checkout (order + invoice link)",
    "pay: pre-checkout answered, charge made",
    "payment applied (until `checkout_status` says paid)",
    "library",
    "download (64 KiB)",
];
const PAY: usize = 4;

/// The `p` quantile (0 to 1) of sorted latencies; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    crate::webhook::percentile(sorted, p)
}

#[derive(Default)]
pub struct Report {
    /// HTTP requests to the shop.
    pub requests: u64,
    pub errors: u64,
    pub first_errors: Vec<String>,
    /// Rounds that ended with the file downloaded.
    pub purchases: u64,
    /// Latencies per step (index into [`STEPS`]), sorted.
    pub steps: Vec<Vec<Duration>>,
    pub elapsed: Duration,
    /// The load average when the run ended (`/proc/loadavg`, 1 minute).
    pub load_average: Option<f64>,
}

impl Report {
    pub fn pay(&self) -> &[Duration] {
        &self.steps[PAY]
    }
}

/// Starts the emulator, which must be up before the server registers its webhook.
pub async fn emulator(bot_token: &str) -> std::io::Result<(Emulator, String)> {
    let emulator = Emulator::new(EmulatorConfig {
        webhook_connections: WEBHOOK_CONNECTIONS,
        ..EmulatorConfig::new(bot_token)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = emulator.router();
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            eprintln!("bench: the emulator stopped: {err}");
        }
    });
    Ok((emulator, url))
}

/// Waits until the server has registered its webhook with the emulator.
pub async fn wait_for_webhook(emulator_url: &str) -> bool {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(res) = http
            .get(format!("{emulator_url}/control/webhook"))
            .send()
            .await
        {
            if let Ok(status) = res.json::<Value>().await {
                if status["info"]["url"]
                    .as_str()
                    .is_some_and(|u| !u.is_empty())
                {
                    return true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

struct Shopper {
    id: i64,
    auth: String,
    rng: u64,
    /// The next product to buy: shoppers start at different places and never buy twice.
    next_product: i64,
}

impl Shopper {
    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

#[derive(Default)]
struct Tally {
    requests: u64,
    errors: u64,
    first_errors: Vec<String>,
    purchases: u64,
    steps: Vec<Vec<Duration>>,
}

impl Tally {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.first_errors.len() < 5 {
            self.first_errors.push(what);
        }
    }

    fn time(&mut self, step: usize, took: Duration) {
        self.steps[step].push(took);
    }
}

pub async fn run(plan: &Plan<'_>, emulator: &Emulator) -> Report {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let mut shoppers = Vec::with_capacity(plan.shoppers);
    // Every shopper buys products in order from its own starting place; with more rounds than
    // products it would come back to one it owns, so the span is split evenly.
    let stride = (plan.products / plan.shoppers.max(1) as i64).max(1);
    for i in 0..plan.shoppers {
        let id = FIRST_SHOPPER + i as i64;
        let user = EmulatedUser::new(id, format!("Shopper{i}"));
        let _ = emulator.set_user(user).await;
        let _ = emulator.set_balance(id, 1_000_000_000).await;
        let init_data = server::telegram::init_data::sign(
            plan.bot_token,
            &[
                (
                    "user",
                    &json!({ "id": id, "first_name": format!("Shopper{i}"), "language_code": "en" })
                        .to_string(),
                ),
                ("auth_date", &clock::unix_now().to_string()),
            ],
        );
        shoppers.push(Shopper {
            id,
            auth: format!("tma {init_data}"),
            rng: 0x9E37_79B9_7F4A_7C15 ^ (id as u64).wrapping_mul(0x2545_F491_4F6C_DD1D),
            next_product: (i as i64 * stride) % plan.products,
        });
    }
    let ctx = Arc::new(Ctx {
        http,
        base: plan.base.to_owned(),
        start_checkout: format!("{}{}", plan.base, plan.start_checkout_path),
        checkout_status: format!("{}{}", plan.base, plan.checkout_status_path),
        products: plan.products,
        emulator: emulator.clone(),
    });
    let started = Instant::now();
    let until = started + plan.duration;
    let tasks: Vec<_> = shoppers
        .into_iter()
        .map(|shopper| {
            let ctx = ctx.clone();
            tokio::spawn(async move { shop(&ctx, shopper, until).await })
        })
        .collect();
    let mut report = Report {
        steps: vec![Vec::new(); STEPS.len()],
        ..Default::default()
    };
    for task in tasks {
        match task.await {
            Ok(tally) => {
                report.requests += tally.requests;
                report.errors += tally.errors;
                report.purchases += tally.purchases;
                for error in tally.first_errors {
                    if report.first_errors.len() < 5 {
                        report.first_errors.push(error);
                    }
                }
                for (all, mine) in report.steps.iter_mut().zip(tally.steps) {
                    all.extend(mine);
                }
            }
            Err(err) => {
                report.errors += 1;
                report
                    .first_errors
                    .push(format!("a shopper panicked: {err}"));
            }
        }
    }
    report.elapsed = started.elapsed();
    for step in &mut report.steps {
        step.sort_unstable();
    }
    report.load_average = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().and_then(|v| v.parse().ok()));
    report
}

struct Ctx {
    http: reqwest::Client,
    base: String,
    start_checkout: String,
    checkout_status: String,
    products: i64,
    emulator: Emulator,
}

/// One GET or POST to the shop; the body when it answered 2xx.
async fn request(
    tally: &mut Tally,
    builder: reqwest::RequestBuilder,
    what: &str,
) -> Option<axum::body::Bytes> {
    tally.requests += 1;
    match builder.send().await {
        Ok(res) if res.status().is_success() => match res.bytes().await {
            Ok(body) => Some(body),
            Err(err) => {
                tally.error(format!("{what}: body: {err}"));
                None
            }
        },
        Ok(res) => {
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            tally.error(format!(
                "{what}: {status} {}",
                body.chars().take(200).collect::<String>()
            ));
            None
        }
        Err(err) => {
            tally.error(format!("{what}: {err}"));
            None
        }
    }
}

async fn shop(ctx: &Ctx, mut me: Shopper, until: Instant) -> Tally {
    let mut tally = Tally {
        steps: vec![Vec::new(); STEPS.len()],
        ..Default::default()
    };
    while Instant::now() < until {
        if round(ctx, &mut me, &mut tally).await {
            tally.purchases += 1;
        }
    }
    tally
}

/// One round; false when a step failed (already counted as an error).
async fn round(ctx: &Ctx, me: &mut Shopper, tally: &mut Tally) -> bool {
    let http = &ctx.http;
    let page = 1 + me.random() % 5;
    let t = Instant::now();
    if request(
        tally,
        http.get(format!("{}/?page={page}", ctx.base)),
        "catalog",
    )
    .await
    .is_none()
    {
        return false;
    }
    tally.time(0, t.elapsed());

    let words = SEARCHES[(me.random() % SEARCHES.len() as u64) as usize];
    let t = Instant::now();
    if request(
        tally,
        http.get(format!("{}/?q={}", ctx.base, words.replace(' ', "+"))),
        "search",
    )
    .await
    .is_none()
    {
        return false;
    }
    tally.time(1, t.elapsed());

    let product = FIRST_BUYABLE + me.next_product % ctx.products;
    me.next_product += 1;
    let slug = format!("bench-{product:06}");
    let t = Instant::now();
    if request(
        tally,
        http.get(format!("{}/p/{slug}", ctx.base)),
        "product page",
    )
    .await
    .is_none()
    {
        return false;
    }
    tally.time(2, t.elapsed());

    let t = Instant::now();
    let Some(body) = request(
        tally,
        http.post(&ctx.start_checkout)
            .header("Authorization", &me.auth)
            .header("Accept", "application/json")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("slug={slug}")),
        "start_checkout",
    )
    .await
    else {
        return false;
    };
    let checkout: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (Some(order_id), Some(link)) = (
        checkout["order_id"].as_str(),
        checkout["invoice_link"].as_str(),
    ) else {
        tally.error(format!("start_checkout answered {checkout}"));
        return false;
    };
    tally.time(3, t.elapsed());

    let t = Instant::now();
    match ctx.emulator.pay_invoice(link, me.id).await {
        Ok(PaymentOutcome::Paid { .. }) => tally.time(4, t.elapsed()),
        other => {
            tally.error(format!("paying {slug}: {other:?}"));
            return false;
        }
    }

    let t = Instant::now();
    loop {
        let Some(body) = request(
            tally,
            http.post(&ctx.checkout_status)
                .header("Authorization", &me.auth)
                .header("Accept", "application/json")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(format!("order_id={order_id}")),
            "checkout_status",
        )
        .await
        else {
            return false;
        };
        if body.as_ref() == b"\"paid\"" {
            break;
        }
        if t.elapsed() > PAID_WITHIN {
            tally.error(format!(
                "order {order_id} not paid after {PAID_WITHIN:?}: {}",
                String::from_utf8_lossy(&body)
            ));
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tally.time(5, t.elapsed());

    let t = Instant::now();
    let Some(body) = request(
        tally,
        http.get(format!("{}/api/library", ctx.base))
            .header("Authorization", &me.auth),
        "library",
    )
    .await
    else {
        return false;
    };
    tally.time(6, t.elapsed());
    let library: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let url = library
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| item["slug"] == slug.as_str())
        .and_then(|item| item["files"][0]["url"].as_str());
    let Some(url) = url else {
        tally.error(format!("{slug} is not in the library after paying"));
        return false;
    };
    let t = Instant::now();
    let url = if url.starts_with('/') {
        format!("{}{url}", ctx.base)
    } else {
        url.to_owned()
    };
    let Some(file) = request(tally, http.get(url), "download").await else {
        return false;
    };
    if file.len() != 64 * 1024 {
        tally.error(format!("download of {slug}: {} bytes", file.len()));
        return false;
    }
    tally.time(7, t.elapsed());
    true
}

/// A fresh data dir for the load test, seeded as the rest of the bench's, and the server
/// started on it against the emulator.
pub async fn start_server(
    server_bin: &Path,
    work: &Path,
    site: Option<&Path>,
    emulator_url: &str,
    bot_token: &str,
    webhook_secret: &str,
) -> Result<(procs::Running, String, i64), crate::BenchError> {
    if work.exists() {
        std::fs::remove_dir_all(work)?;
    }
    let data = work.join("data");
    std::fs::create_dir_all(&data)?;
    let sizes = crate::seed::Sizes {
        products: 1_000,
        history_orders: 0,
        payments: 0,
        pre_checkouts: 0,
    };
    let db_url = format!("sqlite://{}?mode=rwc", data.join("starfront.db").display());
    let server::db::Db::Sqlite(db) = server::db::connect(&db_url).await? else {
        unreachable!("a sqlite: URL opens SQLite")
    };
    crate::seed::seed(&db, &data.join("files"), sizes).await?;
    db.close().await;
    let port = procs::free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let mut command = procs::server_command(server_bin, port, &data);
    command
        .env("BOT_TOKEN", bot_token)
        .env("TELEGRAM_API_URL", format!("{emulator_url}/"))
        .env("PUBLIC_URL", format!("{base}/"))
        .env("WEBHOOK_SECRET", webhook_secret)
        // Shoppers here buy far faster than people do: the per-user checkout limit (20 a minute)
        // would answer them 429; the limit itself is not what this measures.
        .env("RATE_LIMIT_CHECKOUT_PER_MIN", "100000")
        .current_dir(work);
    if let Some(site) = site {
        command.env("LEPTOS_SITE_ROOT", site);
    }
    let server = procs::spawn(
        "starfront",
        command,
        &work.join("server.log"),
        &format!("{base}/healthz"),
    )?;
    // The content file of the last product is the 256 MiB one: shoppers leave it alone.
    Ok((server, base, sizes.products - FIRST_BUYABLE))
}
