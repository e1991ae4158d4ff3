//! The shop survives SIGKILL at any moment without losing or doubling a Star.
//!
//! The real `starfront` binary runs as a child process on a database that outlives it (a SQLite
//! file, or PostgreSQL with `TEST_DATABASE_URL`), with everything a production shop runs: the
//! webhook (`PUBLIC_URL`), the delivery outbox and reconciliation (every second). The Bot API
//! emulator lives in the test process, so Telegram's side outlives every crash: it keeps
//! retrying the webhook while the shop is down, as Telegram does, and keeps the ledger and the
//! chats the shop wrote to.
//!
//! Many buyers buy at once (the order through the shop's API with signed `initData`, the payment
//! sheet in the emulator), while a killer sends SIGKILL at random moments (seeded; the seed and
//! the kill times are printed, `CRASH_SEED` replays a run) and starts the shop again each time.
//! A buyer whose request died with the shop tries again, as the Mini App's user would.
//!
//! At the end Telegram's ledger and chats must agree with the database: every charge granted
//! exactly once, nothing held or refunded, every paid order's files in the buyer's chat, at most
//! one file sent again per kill (the outbox's at-least-once: a kill between Telegram accepting a
//! file and the shop recording it).

use crate::common;
use crate::common::process::{free_addr, shared_database_url, Process};

use leptos::server_fn::ServerFn;
use server::config::DEV_BOT_TOKEN;
use server::db::Db;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use telegram_emulator::{EmulatedUser, Emulator, EmulatorConfig, PaymentOutcome};

/// Purchases made while the shop is being killed. Not to be lowered to make the test faster:
/// the issue asks for a thousand.
const PURCHASES: usize = 1000;
/// Buyers paying at the same time.
const CONCURRENT_BUYERS: usize = 32;
/// The shop lives this long (uniformly drawn) between being ready and its next SIGKILL.
const LIFE_MIN: Duration = Duration::from_millis(200);
const LIFE_MAX: Duration = Duration::from_millis(2500);
/// Webhook deliveries in flight at once (Telegram: up to the webhook's `max_connections`).
const WEBHOOK_CONNECTIONS: usize = 8;
const WEBHOOK_SECRET: &str = "crash-test-secret";
/// Buyer ids start here (far from the demo creators and the replicas test's buyers).
const FIRST_BUYER: i64 = 7_100_001;
/// How long one purchase may keep failing (the shop down, restarting) before the test fails.
const PURCHASE_PATIENCE: Duration = Duration::from_secs(120);

/// SplitMix64: a seeded, reproducible source of kill times without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        let span = (high - low).as_micros() as u64;
        low + Duration::from_micros(self.next() % span.max(1))
    }
}

fn seed() -> u64 {
    std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    server::on_db!(db, |pool| sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap())
}

/// What the buyers ran into while the shop kept dying.
#[derive(Default)]
struct BuyerStats {
    /// Checkout requests that failed (connection refused or cut, 5xx) and were made again.
    checkout_retries: AtomicU64,
    /// Payment sheets Telegram gave up on (no pre-checkout answer within 10 s): paid again.
    pay_timeouts: AtomicU64,
}

/// One purchase, retried the way a buyer would: the order again when the request died with the
/// shop, the payment again when the sheet timed out. Only a refusal is an error.
async fn purchase(
    http: &reqwest::Client,
    shop: &str,
    emulator: &Emulator,
    buyer: i64,
    slug: &str,
    stats: &BuyerStats,
) -> Result<(), String> {
    let deadline = Instant::now() + PURCHASE_PATIENCE;
    let checkout: app::api::Checkout = loop {
        let res = http
            .post(format!("{shop}{}", app::api::StartCheckout::PATH))
            .header("authorization", common::auth(buyer))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("slug={slug}"))
            .send()
            .await;
        let failure = match res {
            Ok(res) if res.status().is_success() => {
                let body = res.text().await.unwrap_or_default();
                match serde_json::from_str(&body) {
                    Ok(checkout) => break checkout,
                    // The body was cut by the kill.
                    Err(err) => format!("checkout body {body:?}: {err}"),
                }
            }
            Ok(res) if res.status().is_server_error() || res.status().as_u16() == 429 => {
                format!("start_checkout answered {}", res.status())
            }
            Ok(res) => {
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                return Err(format!(
                    "start_checkout {slug} for {buyer}: {status} {body}"
                ));
            }
            Err(err) => format!("start_checkout: {err}"),
        };
        if Instant::now() > deadline {
            return Err(format!("{buyer} buying {slug}: gave up: {failure}"));
        }
        stats.checkout_retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    loop {
        let outcome = emulator
            .pay_invoice(&checkout.invoice_link, buyer)
            .await
            .map_err(|e| format!("pay: {e}"))?;
        match outcome {
            PaymentOutcome::Paid { .. } => return Ok(()),
            // The pre-checkout died with the shop (or waited behind the restart): nothing was
            // charged, and the buyer presses Pay again.
            PaymentOutcome::TimedOut if Instant::now() < deadline => {
                stats.pay_timeouts.fetch_add(1, Ordering::Relaxed);
            }
            other => return Err(format!("{buyer} paying for {slug}: {other:?}")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_at_random_moments_loses_and_doubles_nothing() {
    let seed = seed();
    println!("crash test seed {seed} (CRASH_SEED={seed} replays the kill times)");
    let dir = tempfile::tempdir().unwrap();
    let database_url = shared_database_url(dir.path());

    let emulator = Emulator::new(EmulatorConfig {
        webhook_connections: WEBHOOK_CONNECTIONS,
        ..EmulatorConfig::new(DEV_BOT_TOKEN)
    });
    let emulator_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let emulator_url = format!("http://{}", emulator_listener.local_addr().unwrap());
    let router = emulator.router();
    let serving = tokio::spawn(async move { axum::serve(emulator_listener, router).await });

    // One address for every life of the shop: it is the webhook Telegram keeps calling.
    let addr = free_addr();
    let shop = format!("http://{addr}");
    let mut server = Process::spawn(
        "shop",
        env!("CARGO_BIN_EXE_starfront"),
        &[
            ("BIND", addr.to_string()),
            ("DATA_DIR", dir.path().to_str().unwrap().to_owned()),
            ("DATABASE_URL", database_url.clone()),
            ("BOT_TOKEN", DEV_BOT_TOKEN.into()),
            ("TELEGRAM_API_URL", format!("{emulator_url}/")),
            ("PUBLIC_URL", format!("{shop}/")),
            ("WEBHOOK_SECRET", WEBHOOK_SECRET.into()),
            ("SEED_DEMO", "1".into()),
            ("DEV_PREVIEW", "0".into()),
            ("RECONCILE_INTERVAL_SECS", "1".into()),
            // The same name in every life, as a restarted container keeps its name.
            ("REPLICA_ID", "crash-test".into()),
            ("RUST_LOG", "warn".into()),
        ],
        dir.path(),
    );
    let healthz = format!("{shop}/healthz");
    server.wait_ready(&healthz).await;

    let db = server::db::connect(&database_url).await.unwrap();
    let products: Vec<(String, i64)> = server::on_db!(&db, |pool| {
        sqlx::query_as(
        "SELECT slug, price_stars FROM products WHERE status = 'published' ORDER BY price_stars, id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    });
    assert!(products.len() >= 2, "the demo catalog is seeded");
    let basket: i64 = products.iter().map(|(_, price)| price).sum();

    // Each buyer buys the whole catalog (a product is bought once), so many buyers take part;
    // consecutive purchases go to different buyers, so all of them buy at once.
    let buyers_needed = PURCHASES.div_ceil(products.len());
    let buyers: Vec<i64> = (0..buyers_needed as i64).map(|i| FIRST_BUYER + i).collect();
    for &buyer in &buyers {
        emulator
            .set_user(EmulatedUser::new(buyer, format!("Buyer{buyer}")))
            .await
            .unwrap();
        emulator.set_balance(buyer, basket).await.unwrap();
    }
    let mut work = VecDeque::new();
    'all: for (slug, _) in &products {
        for &buyer in &buyers {
            work.push_back((buyer, slug.clone()));
            if work.len() == PURCHASES {
                break 'all;
            }
        }
    }
    let work = Arc::new(Mutex::new(work));

    // The killer: SIGKILL after a random life, start again, wait until ready, and again, until
    // the buyers are done.
    let buying = Arc::new(AtomicBool::new(true));
    let started = Instant::now();
    let killer = {
        let buying = buying.clone();
        let healthz = healthz.clone();
        tokio::spawn(async move {
            let mut rng = Rng(seed);
            let mut kills: Vec<(Duration, Duration)> = Vec::new();
            while buying.load(Ordering::Relaxed) {
                tokio::time::sleep(rng.between(LIFE_MIN, LIFE_MAX)).await;
                if !buying.load(Ordering::Relaxed) {
                    break;
                }
                let at = started.elapsed();
                server.sigkill();
                server.restart();
                server.wait_ready(&healthz).await;
                kills.push((at, started.elapsed() - at));
            }
            (server, kills)
        })
    };

    let stats = Arc::new(BuyerStats::default());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENT_BUYERS {
        let (work, emulator, http, shop, stats) = (
            work.clone(),
            emulator.clone(),
            http.clone(),
            shop.clone(),
            stats.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut errors = Vec::new();
            loop {
                let next = work.lock().unwrap().pop_front();
                let Some((buyer, slug)) = next else { break };
                if let Err(err) = purchase(&http, &shop, &emulator, buyer, &slug, &stats).await {
                    errors.push(err);
                }
            }
            errors
        }));
    }
    let mut errors = Vec::new();
    for task in tasks {
        errors.extend(task.await.unwrap());
    }
    let paid_in = started.elapsed();
    buying.store(false, Ordering::Relaxed);
    let (server, kills) = killer.await.unwrap();
    assert!(
        errors.is_empty(),
        "{} purchases failed, e.g. {:?}\nshop log:\n{}",
        errors.len(),
        &errors[..errors.len().min(5)],
        server.log()
    );
    println!(
        "{} purchases paid in {:.1} s; {} kills at (s): {}",
        PURCHASES,
        paid_in.as_secs_f64(),
        kills.len(),
        kills
            .iter()
            .map(|(at, _)| format!("{:.2}", at.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ")
    );

    // Every payment Telegram took must become a paid order and a sent delivery: through the
    // webhook's retries, the inbox, reconciliation or the outbox, in whichever life of the shop.
    let charges = emulator.transactions().await;
    assert_eq!(charges.len(), PURCHASES, "one charge per purchase");
    // Generous: an update a killed life had claimed waits out its claim (60 s) unless
    // reconciliation gets there first, and a delivery that failed waits out its back-off.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let paid = count(&db, "SELECT COUNT(*) FROM orders WHERE status = 'paid'").await;
        let pending = count(
            &db,
            "SELECT COUNT(*) FROM deliveries WHERE status <> 'sent'",
        )
        .await;
        let sent = count(&db, "SELECT COUNT(*) FROM deliveries WHERE status = 'sent'").await;
        if paid == PURCHASES as i64 && pending == 0 && sent == PURCHASES as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "settling stopped at {paid} paid, {sent} delivered, {pending} deliveries not sent, \
             of {PURCHASES}\nshop log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let settled_in = started.elapsed();
    // Reconciliation and webhook retries go on for a moment: nothing may change after this.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let n = PURCHASES as i64;
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM orders WHERE status = 'paid'").await,
        n
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT telegram_payment_charge_id) FROM orders WHERE status = 'paid'"
        )
        .await,
        n,
        "each paid order has a charge of its own"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM star_charges WHERE state = 'granted'"
        )
        .await,
        n,
        "every charge granted"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM star_charges WHERE state <> 'granted'"
        )
        .await,
        0,
        "no charge held, owed back or refunded"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM entitlements e JOIN orders o ON o.id = e.order_id
             WHERE e.revoked_at IS NULL AND o.status = 'paid'
               AND o.user_id = e.user_id AND o.product_id = e.product_id"
        )
        .await,
        n,
        "one live entitlement per paid order"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM deliveries").await,
        n,
        "one delivery per paid order"
    );
    let mut ledger: Vec<String> = charges.iter().map(|tx| tx.id.clone()).collect();
    let mut granted: Vec<String> = server::on_db!(&db, |pool| sqlx::query_scalar(
        "SELECT charge_id FROM star_charges"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    ledger.sort();
    granted.sort();
    assert_eq!(ledger, granted, "the shop's ledger is Telegram's");

    // The chats: every purchased file at least once; a file sent again only by a kill.
    let files: Vec<(i64, String)> = server::on_db!(&db, |pool| sqlx::query_as(
        "SELECT o.user_id, f.file_name FROM orders o
         JOIN product_files f ON f.product_id = o.product_id AND f.role = 'content'
         WHERE o.status = 'paid'",
    )
    .fetch_all(pool)
    .await
    .unwrap());
    let mut expected: HashMap<i64, HashMap<String, usize>> = HashMap::new();
    for (user, file) in files {
        *expected.entry(user).or_default().entry(file).or_default() += 1;
    }
    let (mut documents, mut repeats) = (0, 0);
    for buyer in &buyers {
        let mut got: HashMap<String, usize> = HashMap::new();
        for message in emulator.chat_messages(*buyer).await {
            if let Some(name) = message.message["document"]["file_name"].as_str() {
                *got.entry(name.to_owned()).or_default() += 1;
                documents += 1;
            }
        }
        let want = expected.remove(buyer).unwrap_or_default();
        for (file, n) in &want {
            let sent = got.get(file).copied().unwrap_or(0);
            assert!(sent >= *n, "buyer {buyer} never got {file}");
            repeats += sent - n;
        }
        for file in got.keys() {
            assert!(want.contains_key(file), "buyer {buyer} got {file} unpaid");
        }
    }
    assert!(
        repeats <= kills.len(),
        "{repeats} files sent again, more than one per kill ({} kills)",
        kills.len()
    );

    let stuck = count(
        &db,
        "SELECT COUNT(*) FROM telegram_updates WHERE handled_at IS NULL AND attempts >= 10",
    )
    .await;
    assert_eq!(stuck, 0, "no update left for a person");
    let unhandled = count(
        &db,
        "SELECT COUNT(*) FROM telegram_updates WHERE handled_at IS NULL",
    )
    .await;
    let webhook = emulator.delivery_stats().await;
    let log = server.log();
    let restart_ms: Vec<f64> = kills
        .iter()
        .map(|(_, down)| down.as_secs_f64() * 1000.0)
        .collect();
    println!(
        "{PURCHASES} purchases by {} buyers ({CONCURRENT_BUYERS} at a time) paid in {:.1} s \
         through {} SIGKILLs (down {:.0} ms on average, {:.0} ms at most); all granted and \
         delivered {:.1} s after the start",
        buyers.len(),
        paid_in.as_secs_f64(),
        kills.len(),
        restart_ms.iter().sum::<f64>() / restart_ms.len().max(1) as f64,
        restart_ms.iter().copied().fold(0.0, f64::max),
        settled_in.as_secs_f64(),
    );
    println!(
        "{documents} documents for {n} orders: {repeats} sent again; buyers retried {} \
         checkouts and {} payment sheets; webhook: {} delivered, {} failed attempts, {} given \
         up; reconciliation applied {} lost payments; {unhandled} updates still claimed by a \
         killed life (taken over when the claim lapses)",
        stats.checkout_retries.load(Ordering::Relaxed),
        stats.pay_timeouts.load(Ordering::Relaxed),
        webhook.delivered,
        webhook.failed,
        webhook.given_up,
        log.matches("reconciliation applied a lost payment").count(),
    );
    assert!(!kills.is_empty(), "the shop was never killed");
    drop(server);
    serving.abort();
}
