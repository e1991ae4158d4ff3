//! What several test files need: a dev-preview configuration on a temp dir, and the whole shop
//! served on loopback.
#![allow(dead_code)] // each test file uses its own part

use server::config::Config;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

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
