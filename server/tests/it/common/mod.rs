//! What the test modules share: a dev-preview configuration on a temp dir, the whole shop served
//! on loopback (`TestApp`), signed-in users (`auth`) and Telegram's side (`Emu`).
#![allow(dead_code)] // each test module uses its own part

pub mod process;

use serde_json::{json, Value};
use server::config::{Config, DEV_BOT_TOKEN};
use server::db::Db;
use server::http::AppState;
use server::telegram::bot::Bot;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The whole shop on a loopback port, as `starfront` runs it in dev preview (the in-process
/// emulator, the demo catalog), on its own temp dir and database, with the handles tests reach
/// for: the state behind the router (the shop port, the database, the bot), the emulator over
/// HTTP (`app.control(…)`, `app.chat(…)`, `app.base`, `app.http` through `Deref`).
pub struct TestApp {
    pub config: Config,
    pub state: AppState,
    pub db: Db,
    pub bot: Bot,
    pub emu: Emu,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// With the background workers: updates arrive by long polling, deliveries go out,
    /// reconciliation runs. `extra` variables win over the dev-preview configuration.
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        Self::launch(extra, true).await
    }

    /// The router alone: updates wait at the emulator until the test moves them itself.
    pub async fn without_workers(extra: &[(&str, &str)]) -> Self {
        Self::launch(extra, false).await
    }

    async fn launch(extra: &[(&str, &str)], workers: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = config(&dir, extra);
        config.bind = listener.local_addr().unwrap();
        let state = server::prepare(&config).await.unwrap();
        let router = server::http::router(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        let telegram = state.telegram.clone().expect("the dev preview has a bot");
        if workers {
            server::start_telegram(&config, &state, &telegram);
        }
        let base = format!("http://{}", config.bind);
        wait_healthy(&base).await;
        TestApp {
            db: state.db.clone(),
            bot: telegram.bot,
            emu: Emu::new(base),
            config,
            state,
            _dir: dir,
        }
    }

    /// `buyer` opens the Mini App (the shop meets them) and pays for `slug`; returns the order's
    /// public id once the shop granted it.
    pub async fn buy(&self, buyer: i64, slug: &str) -> String {
        use server::payments::{self, OrderStatus};
        let known = self
            .http
            .get(format!("{}/emulator/control/users/{buyer}", self.base))
            .send()
            .await
            .unwrap();
        if !known.status().is_success() {
            self.control("users", json!({ "id": buyer, "first_name": "Buyer" }))
                .await;
        }
        let met = self
            .as_user(buyer, reqwest::Method::GET, "/api/me")
            .send()
            .await
            .unwrap();
        assert_eq!(met.status(), 200);
        let order = payments::create_order(&self.db, &self.bot, buyer, slug, None)
            .await
            .unwrap();
        let paid = self
            .control(
                "invoices/pay",
                json!({ "link": order.invoice_link, "user_id": buyer }),
            )
            .await;
        assert_eq!(paid["status"], "paid", "{paid}");
        wait_for("the payment", async || {
            payments::order_status(&self.db, buyer, &order.public_id)
                .await
                .unwrap()
                == OrderStatus::Paid
        })
        .await;
        order.public_id
    }

    /// A request to the shop at `path`, signed in as user `id` as the Mini App would be.
    pub fn as_user(&self, id: i64, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", auth(id))
    }

    /// [`TestApp::start`] with the demo creators Mira (1001) and Theo (1003) known to the
    /// emulator, so the studio's calls can be made as them.
    pub async fn with_creators(extra: &[(&str, &str)]) -> Self {
        let app = Self::start(extra).await;
        for (id, name) in [(1001, "Mira"), (1003, "Theo")] {
            app.control("users", json!({ "id": id, "first_name": name }))
                .await;
        }
        app
    }

    /// A JSON API call as `user`: the status and the body (`null` when it is not JSON).
    pub async fn call(
        &self,
        user: i64,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.as_user(user, method, path);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A server function called as the page calls it (a form body, a JSON answer, in English),
    /// as `user` when given.
    pub async fn server_fn(
        &self,
        user: Option<i64>,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        let req = match user {
            Some(user) => self.as_user(user, reqwest::Method::POST, path),
            None => self.http.post(format!("{}{path}", self.base)),
        };
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let res = req
            .header("accept", "application/json")
            .header("accept-language", "en")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The id of the product `slug`.
    pub async fn product_id(&self, slug: &str) -> i64 {
        server::on_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT id FROM products WHERE slug = $1"
        )
        .bind(slug)
        .fetch_one(pool)
        .await)
        .unwrap()
    }

    /// `creator` refunds the order `public_id` from the studio; the refund must go through.
    pub async fn refund_as(&self, creator: i64, public_id: &str) {
        let path = format!("/api/studio/orders/{public_id}/refund");
        let (status, body) = self.call(creator, reqwest::Method::POST, &path, None).await;
        assert_eq!(status, 200, "{body}");
    }
}

impl std::ops::Deref for TestApp {
    type Target = Emu;

    fn deref(&self) -> &Emu {
        &self.emu
    }
}

/// Polls `check` until it holds; fails the test after 20 seconds, naming `what` it waited for.
pub async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Init data for `user` (a Telegram user object) signed at `auth_date` with the dev preview's
/// bot token, as Telegram signs what it hands the Mini App.
pub fn signed_init_data(user: &Value, auth_date: i64) -> String {
    server::telegram::init_data::sign(
        DEV_BOT_TOKEN,
        &[
            ("user", &user.to_string()),
            ("auth_date", &auth_date.to_string()),
        ],
    )
}

/// Init data of user `id` (first name `User<id>`, English), signed now.
pub fn init_data(id: i64) -> String {
    let user = json!({ "id": id, "first_name": format!("User{id}"), "language_code": "en" });
    signed_init_data(&user, clock::unix_now())
}

/// The `Authorization` value the Mini App sends for user `id`.
pub fn auth(id: i64) -> String {
    format!("tma {}", init_data(id))
}

/// Dev preview (in-process emulator, dev bot token) with the demo catalog, on `dir`; `extra`
/// variables win. With `TEST_DATABASE_URL` set, on a fresh PostgreSQL database.
pub fn config(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> Config {
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let mut extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !extra.iter().any(|(k, _)| k == "DATABASE_URL") {
        if let Some(url) = fresh_database() {
            extra.push(("DATABASE_URL".into(), url));
        }
    }
    Config::from_lookup(move |key| {
        if let Some((_, v)) = extra.iter().find(|(k, _)| k == key) {
            return Some(v.clone());
        }
        match key {
            "DATA_DIR" => Some(data_dir.clone()),
            "DEV_PREVIEW" => Some("1".into()),
            "SEED_DEMO" => Some("1".into()),
            _ => None,
        }
    })
    .unwrap()
}

/// A new, empty database on the PostgreSQL server `TEST_DATABASE_URL` names (a role that may
/// CREATE DATABASE), so every test has its own; `None` without it (the test's SQLite file).
/// The databases are left behind: the throwaway server of scripts/pg.sh goes with them.
pub fn fresh_database() -> Option<String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let admin = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let name = format!(
        "starfront_test_{}_{stamp}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let create = format!("CREATE DATABASE {name}");
    let server = admin.clone();
    // Tests call this from inside their runtime, which cannot block on a future: a thread of
    // its own with a small runtime does.
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                use sqlx::{Connection, Executor};
                let mut conn = sqlx::PgConnection::connect(&server)
                    .await
                    .expect("TEST_DATABASE_URL answers");
                conn.execute(sqlx::AssertSqlSafe(create)).await.unwrap();
                conn.close().await.unwrap();
            })
    })
    .join()
    .unwrap();
    let mut url = url::Url::parse(&admin).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&name);
    Some(url.to_string())
}

/// Serves the whole shop (background workers included) on a free loopback port until the
/// returned sender is dropped. Returns the config with its real address, once `/healthz` answers.
pub async fn serve(mut config: Config) -> (Config, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    config.bind = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, config.clone(), async move {
        let _ = stopped.await;
    }));
    wait_healthy(&format!("http://{}", config.bind)).await;
    (config, stop)
}

pub async fn wait_healthy(base: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the shop did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Plays Telegram's side through the shop's in-process emulator (`/emulator/...`).
pub struct Emu {
    pub base: String,
    pub http: reqwest::Client,
}

impl Emu {
    pub fn new(base: String) -> Self {
        Self {
            base,
            http: reqwest::Client::new(),
        }
    }

    /// `POST /emulator/control/{path}`; the call must succeed.
    pub async fn control(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let res = self
            .http
            .post(format!("{}/emulator/control/{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap()
    }

    /// `GET /emulator/control/{path}`.
    pub async fn get(&self, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}/emulator/control/{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// What the bot sent to `chat`.
    pub async fn chat(&self, chat: i64) -> Vec<serde_json::Value> {
        self.get(&format!("chats/{chat}/messages"))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// A Bot API call as the bot makes it, answered by the emulator.
    pub async fn bot_api(&self, method: &str, body: serde_json::Value) -> serde_json::Value {
        self.http
            .post(format!(
                "{}/emulator/bot{}/{method}",
                self.base,
                server::config::DEV_BOT_TOKEN
            ))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}
