//! The Telegram layer through real HTTP: the shop serves on loopback with its in-process Bot API
//! emulator (dev preview), and the tests play Telegram's users through the emulator's control API.

use crate::common::{config, signed_init_data, wait_for, TestApp};

use serde_json::{json, Value};
use server::db::Db;
use server::telegram::updates::Ingested;
use std::time::{Duration, Instant};

struct Shop(TestApp);

/// The shop, and through it the emulator: `shop.db`, `shop.control(…)`, `shop.chat(…)`.
impl std::ops::Deref for Shop {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.0
    }
}

async fn shop(extra: &[(&str, &str)]) -> Shop {
    Shop(TestApp::start(extra).await)
}

impl Shop {
    async fn user(&self, id: i64, first_name: &str, lang: &str) {
        self.control(
            "users",
            json!({ "id": id, "first_name": first_name, "language_code": lang }),
        )
        .await;
    }

    async fn say(&self, user: i64, text: &str) {
        self.control(&format!("users/{user}/messages"), json!({ "text": text }))
            .await;
    }

    /// Waits until the bot has sent `count` messages to `chat`; returns them.
    async fn wait_for_messages(&self, chat: i64, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let messages = self.chat(chat).await;
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} messages in chat {chat}, got {messages:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn text(message: &Value) -> &str {
    message["message"]["text"].as_str().unwrap_or_default()
}

fn button_url(message: &Value) -> &str {
    message["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"]
        .as_str()
        .unwrap_or_default()
}

fn now() -> i64 {
    clock::unix_now()
}

fn init_data(user_id: i64, auth_date: i64) -> String {
    let user = json!({ "id": user_id, "first_name": "Ada", "username": "ada", "language_code": "en", "is_premium": true });
    signed_init_data(&user, auth_date)
}

#[tokio::test]
async fn api_me_authenticates_with_init_data_and_records_the_user() {
    let shop = shop(&[]).await;
    let me = |auth: Option<String>| {
        let mut req = shop.http.get(format!("{}/api/me", shop.base));
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req.send()
    };

    let res = me(Some(format!("tma {}", init_data(4242, now()))))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["id"], 4242);
    assert_eq!(body["first_name"], "Ada");
    assert_eq!(body["is_premium"], true);
    let (username, lang): (String, String) = server::on_db!(&shop.db, |pool| sqlx::query_as(
        "SELECT username, language_code FROM users WHERE id = 4242"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!((username.as_str(), lang.as_str()), ("ada", "en"));

    let forged = init_data(4242, now()).replace("4242", "4243");
    let stale = init_data(4242, now() - 2 * 86_400);
    let cases = [
        (None, "init_data_missing"),
        (Some("Bearer abc".to_string()), "init_data_malformed"),
        (Some(format!("tma {forged}")), "init_data_forged"),
        (Some(format!("tma {stale}")), "init_data_expired"),
        (
            Some("tma user=1&auth_date=1".to_string()),
            "init_data_unsigned",
        ),
    ];
    for (auth, code) in cases {
        let res = me(auth.clone()).await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], code, "{auth:?}: {body}");
        assert!(body["message"].as_str().unwrap().len() > 10);
    }
}

#[tokio::test]
async fn server_functions_use_the_same_check() {
    use leptos::server_fn::ServerFn;
    let shop = shop(&[]).await;
    let url = format!("{}{}", shop.base, app::api::Whoami::PATH);
    let res = shop
        .http
        .post(&url)
        .header("authorization", format!("tma {}", init_data(77, now())))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let viewer: app::api::Viewer = res.json().await.unwrap();
    assert_eq!(viewer.id, 77);

    let res = shop
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn bot_commands_answer_in_the_users_language() {
    let shop = shop(&[]).await;
    shop.user(501, "Ann", "en").await;
    shop.user(502, "Борис", "ru").await;

    // Published in the background at start.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let menu = shop
            .http
            .get(format!("{}/emulator/control/bot", shop.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if menu.contains("paysupport") && menu.contains("Помощь с оплатой") {
            break;
        }
        assert!(Instant::now() < deadline, "no command menu: {menu}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    shop.say(501, "/start").await;
    let m = shop.wait_for_messages(501, 1).await;
    assert!(text(&m[0]).starts_with("Hi Ann!"), "{}", m[0]);
    assert_eq!(button_url(&m[0]), format!("{}/", shop.base));

    shop.say(502, "/start p_sourdough-at-home").await;
    let m = shop.wait_for_messages(502, 1).await;
    assert!(text(&m[0]).starts_with("Привет, Борис!"), "{}", m[0]);
    assert_eq!(
        button_url(&m[0]),
        format!("{}/p/sourdough-at-home", shop.base)
    );

    shop.say(501, "/help").await;
    shop.say(501, "/terms").await;
    shop.say(501, "/library").await;
    shop.say(501, "/nonsense").await;
    let m = shop.wait_for_messages(501, 5).await;
    assert!(text(&m[1]).contains("/paysupport"));
    assert!(text(&m[2]).starts_with("Terms of sale"));
    assert!(text(&m[3]).starts_with("You have no purchases yet"));
    assert!(text(&m[4]).contains("/help"));

    shop.say(502, "/paysupport").await;
    shop.say(502, "/paysupport меня списали дважды").await;
    let m = shop.wait_for_messages(502, 3).await;
    assert!(text(&m[1]).starts_with("Опишите проблему"), "{}", m[1]);
    let (id, message): (i64, String) = server::on_db!(&shop.db, |pool| sqlx::query_as(
        "SELECT id, message FROM support_requests WHERE user_id = 502"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(message, "меня списали дважды");
    assert!(text(&m[2]).contains(&format!("№ {id}")), "{}", m[2]);

    server::on_db!(&shop.db, |pool| sqlx::query(
        "INSERT INTO entitlements (user_id, product_id)
         SELECT 501, id FROM products WHERE slug = 'pocket-guide-to-rust'",
    )
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    shop.say(501, "/library").await;
    let m = shop.wait_for_messages(501, 6).await;
    assert_eq!(text(&m[5]), "Your purchases:\n• The Pocket Guide to Rust");
    assert_eq!(button_url(&m[5]), format!("{}/library", shop.base));
}

/// The first button of a message the bot sent.
fn button(message: &Value) -> &Value {
    &message["reply_markup"]["inline_keyboard"][0][0]
}

#[tokio::test]
async fn buttons_open_the_app_in_private_chats_and_link_to_it_in_groups() {
    let shop = shop(&[]).await;
    shop.user(511, "Ann", "en").await;
    let group = shop
        .control(
            "chats",
            json!({ "type": "group", "title": "Book club", "members": [511] }),
        )
        .await;
    let group = group["id"].as_i64().unwrap();

    // Telegram refuses web_app buttons in groups: the bot links to the Mini App instead, under
    // the username getMe gave (no BOT_USERNAME here).
    shop.control(
        "users/511/messages",
        json!({ "text": "/start@starfront_bot p_sourdough-at-home", "chat_id": group }),
    )
    .await;
    let m = shop.wait_for_messages(group, 1).await;
    assert!(text(&m[0]).starts_with("Hi Ann!"), "{}", m[0]);
    assert_eq!(
        button(&m[0]),
        &json!({
            "text": "Open the product",
            "url": "https://t.me/starfront_bot?startapp=p_sourdough-at-home"
        })
    );

    shop.say(511, "/start p_sourdough-at-home").await;
    let m = shop.wait_for_messages(511, 1).await;
    assert_eq!(
        button(&m[0]),
        &json!({
            "text": "Open the product",
            "web_app": { "url": format!("{}/p/sourdough-at-home", shop.base) }
        })
    );

    // BOT_USERNAME wins over getMe, and a Mini App short name goes into the link; a page no
    // start parameter names (the library) opens the shop.
    let named = self::shop(&[
        ("BOT_USERNAME", "mira_shop_bot"),
        ("MINI_APP_SHORT_NAME", "store"),
    ])
    .await;
    named.user(512, "Bea", "en").await;
    let group = named
        .control(
            "chats",
            json!({ "type": "supergroup", "title": "Readers", "members": [512] }),
        )
        .await;
    let group = group["id"].as_i64().unwrap();
    named
        .control(
            "users/512/messages",
            json!({ "text": "/start", "chat_id": group }),
        )
        .await;
    let m = named.wait_for_messages(group, 1).await;
    assert_eq!(
        button(&m[0])["url"],
        "https://t.me/mira_shop_bot/store?startapp"
    );
}

const WEBHOOK_SECRET: &str = "test-secret_1";

fn command_update(update_id: i64, user_id: i64, text: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": now(),
            "chat": { "id": user_id, "type": "private", "first_name": "Web" },
            "from": { "id": user_id, "is_bot": false, "first_name": "Web", "language_code": "en" },
            "text": text,
            "entities": [{ "type": "bot_command", "offset": 0, "length": text.split(' ').next().unwrap().len() }]
        }
    })
}

#[tokio::test]
async fn the_webhook_checks_its_secret_and_handles_each_update_once() {
    let shop = shop(&[("WEBHOOK_SECRET", WEBHOOK_SECRET)]).await;
    shop.user(601, "Web", "en").await;
    let url = format!("{}/telegram/webhook", shop.base);
    let update = command_update(9001, 601, "/help");
    let post = |secret: Option<&str>, body: String| {
        let mut req = shop.http.post(&url).body(body);
        if let Some(secret) = secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        req.send()
    };

    for secret in [None, Some("wrong"), Some("test-secret_")] {
        let res = post(secret, update.to_string()).await.unwrap();
        assert_eq!(res.status(), 401, "{secret:?}");
    }
    assert!(shop.chat(601).await.is_empty());

    for _ in 0..3 {
        let res = post(Some(WEBHOOK_SECRET), update.to_string())
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // Acknowledged once recorded and handled in the background, once for the three deliveries.
    let handled = async || -> (i64, Option<i64>) {
        server::on_db!(&shop.db, |pool| sqlx::query_as(
            "SELECT attempts, handled_at FROM telegram_updates WHERE update_id = 9001"
        )
        .fetch_one(pool)
        .await)
        .unwrap()
    };
    wait_for("the update handled", async || handled().await.1.is_some()).await;
    assert_eq!(handled().await.0, 1);
    let messages = shop.chat(601).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(text(&messages[0]).contains("/library"));
}

#[tokio::test]
async fn malformed_webhook_bodies_are_acknowledged_and_never_block() {
    let shop = shop(&[("WEBHOOK_SECRET", WEBHOOK_SECRET)]).await;
    shop.user(602, "Web", "en").await;
    let url = format!("{}/telegram/webhook", shop.base);
    let bodies = [
        "not json at all".to_string(),
        "[1,2,3]".to_string(),
        json!({ "message": { "text": "no update id" } }).to_string(),
        json!({ "update_id": "seven" }).to_string(),
        json!({ "update_id": 9100, "message": "garbage" }).to_string(),
        json!({ "update_id": 9101, "message": { "chat": 5 } }).to_string(),
        "\u{0}\u{1}{{{{".to_string(),
    ];
    for body in &bodies {
        let res = shop
            .http
            .post(&url)
            .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{body}");
    }
    let unreadable: Vec<(i64, Option<i64>, Option<String>)> = server::on_db!(&shop.db, |pool| sqlx::query_as(
        "SELECT update_id, handled_at, last_error FROM telegram_updates WHERE update_id >= 9100 ORDER BY update_id",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    assert_eq!(unreadable.len(), 2);
    let settled = async || -> i64 {
        server::on_db!(&shop.db, |pool| sqlx::query_scalar(
            "SELECT count(*) FROM telegram_updates
             WHERE update_id IN (9100, 9101) AND handled_at IS NOT NULL",
        )
        .fetch_one(pool)
        .await)
        .unwrap()
    };
    // Settled, not retried forever.
    wait_for("the unreadable updates settled", async || {
        settled().await == 2
    })
    .await;
    // And the queue moves on.
    let res = shop
        .http
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
        .body(command_update(9102, 602, "/terms").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    wait_for("the reply to /terms", async || {
        shop.chat(602).await.len() == 1
    })
    .await;
}

async fn create_invoice(shop: &Shop) -> String {
    let res = shop
        .bot_api(
            "createInvoiceLink",
            json!({
                "title": "Stray invoice", "description": "Not made by the shop", "payload": "nobody-knows",
                "currency": "XTR", "prices": [{ "label": "Stray", "amount": 10 }]
            }),
        )
        .await;
    assert_eq!(res["ok"], true, "{res}");
    res["result"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn payment_play_over_long_polling_reaches_the_shop() {
    let shop = shop(&[]).await;
    shop.user(701, "Payer", "en").await;
    let link = create_invoice(&shop).await;
    let outcome = shop
        .control("invoices/pay", json!({ "link": link, "user_id": 701 }))
        .await;
    // The shop answered the pre-checkout query (no order of its own, so it declines in time).
    assert_eq!(outcome["status"], "declined", "{outcome}");
    assert!(outcome["error_message"]
        .as_str()
        .unwrap()
        .contains("not known to the shop"));
    let user = shop
        .http
        .get(format!("{}/emulator/control/users/701", shop.base))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(user["stars"], 2500, "nothing was charged");
    // The handler records the update as handled just after its answer reached Telegram, so the
    // record may trail the emulator's outcome by a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let kinds: Vec<String> = server::on_db!(&shop.db, |pool| sqlx::query_scalar(
            "SELECT kind FROM telegram_updates WHERE handled_at IS NOT NULL"
        )
        .fetch_all(pool)
        .await)
        .unwrap();
        if kinds.contains(&"pre_checkout_query".to_string()) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{kinds:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn payment_play_over_the_webhook_survives_dropped_deliveries() {
    let shop = shop(&[("WEBHOOK_SECRET", WEBHOOK_SECRET)]).await;
    shop.user(702, "Hooked", "en").await;
    let set = shop
        .bot_api(
            "setWebhook",
            json!({ "url": format!("{}/telegram/webhook", shop.base), "secret_token": WEBHOOK_SECRET }),
        )
        .await;
    assert_eq!(set["ok"], true, "{set}");
    shop.control("webhook/drop", json!({ "count": 2 })).await;
    let link = create_invoice(&shop).await;
    let outcome = shop
        .control("invoices/pay", json!({ "link": link, "user_id": 702 }))
        .await;
    assert_eq!(outcome["status"], "declined", "{outcome}");
    // The answer came back in the webhook's reply, not as a call of the bot's.
    let webhook = shop.get("webhook").await;
    assert_eq!(webhook["delivery"]["replied_calls"], 1, "{webhook}");
    // Recorded just after the reply went out, once despite the dropped attempts.
    let received = async || -> i64 {
        server::on_db!(&shop.db, |pool| sqlx::query_scalar(
            "SELECT count(*) FROM telegram_updates
             WHERE kind = 'pre_checkout_query' AND handled_at IS NOT NULL",
        )
        .fetch_one(pool)
        .await)
        .unwrap()
    };
    wait_for("the answered pre-checkout recorded", async || {
        received().await == 1
    })
    .await;
}

#[tokio::test]
async fn an_update_whose_handling_fails_stays_pending_and_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 here: every Bot API call fails at once.
    let config = config(&dir, &[("TELEGRAM_API_URL", "http://127.0.0.1:9")]);
    let state = server::prepare(&config).await.unwrap();
    let inbox = state.telegram.as_ref().unwrap().inbox.clone();
    let update = command_update(9200, 801, "/help").to_string();

    assert_eq!(
        inbox.ingest_json(update.as_bytes()).await.unwrap(),
        Ingested::Pending
    );
    assert_eq!(
        inbox.ingest_json(update.as_bytes()).await.unwrap(),
        Ingested::Duplicate
    );
    let row = || async {
        server::on_db!(&state.db, |pool| sqlx::query_as::<
            _,
            (i64, Option<i64>, Option<String>),
        >(
            "SELECT attempts, handled_at, last_error FROM telegram_updates WHERE update_id = 9200",
        )
        .fetch_one(pool)
        .await
        .unwrap())
    };
    let (attempts, handled, error) = row().await;
    assert_eq!((attempts, handled), (1, None));
    assert!(error.unwrap().contains("sendMessage"));

    assert_eq!(inbox.retry_pending().await.unwrap(), 1);
    let (attempts, handled, _) = row().await;
    assert_eq!((attempts, handled), (2, None));
}

/// Records `ids` in the inbox as updates handled `age_secs` ago (by this bot or a previous one).
async fn seen_updates(db: &Db, ids: impl IntoIterator<Item = i64>, age_secs: i64, attempts: i64) {
    let at = now() - age_secs;
    for id in ids {
        server::on_db!(db, |pool| sqlx::query(
            "INSERT INTO telegram_updates (update_id, kind, payload, received_at, handled_at, attempts)
             VALUES ($1, 'message', '{}', $2, CASE WHEN $3 < 10 THEN $2 END, $3)",
        )
        .bind(id)
        .bind(at)
        .bind(attempts)
        .execute(pool)
        .await
        .map(server::db::Done::from))
        .unwrap();
    }
}

#[tokio::test]
async fn a_pre_checkout_under_an_update_id_seen_before_is_still_answered() {
    // A new bot on the same database (or Telegram's sequence restarted): the emulator numbers
    // its updates from 1, ids the inbox saw minutes ago.
    let shop = shop(&[]).await;
    seen_updates(&shop.db, 1..=30, 60, 1).await;
    shop.user(703, "Again", "en").await;
    let link = create_invoice(&shop).await;
    let outcome = shop
        .control("invoices/pay", json!({ "link": link, "user_id": 703 }))
        .await;
    assert_eq!(
        outcome["status"], "declined",
        "answered, not dropped: {outcome}"
    );
}

#[tokio::test]
async fn update_ids_older_than_a_week_count_as_new() {
    let shop = shop(&[("WEBHOOK_SECRET", WEBHOOK_SECRET)]).await;
    shop.user(604, "Week", "en").await;
    seen_updates(&shop.db, [9400], 8 * 86_400, 1).await;
    seen_updates(&shop.db, [9401], 6 * 86_400, 1).await;
    let post = |update: Value| {
        shop.http
            .post(format!("{}/telegram/webhook", shop.base))
            .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
            .body(update.to_string())
            .send()
    };
    assert_eq!(
        post(command_update(9401, 604, "/help"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post(command_update(9400, 604, "/help"))
            .await
            .unwrap()
            .status(),
        200
    );
    // Handled in the background: one reply, to 9400; 9401 was a repeat within the week.
    wait_for("the reply", async || !shop.chat(604).await.is_empty()).await;
    let messages = shop.chat(604).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    wait_for("9400 recorded as handled", async || {
        server::on_db!(&shop.db, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM telegram_updates WHERE update_id = 9400 AND handled_at IS NOT NULL"
        )
        .fetch_one(pool)
        .await)
        .unwrap()
            == 1
    })
    .await;
    let kind: String = server::on_db!(&shop.db, |pool| {
        sqlx::query_scalar(
        "SELECT payload FROM telegram_updates WHERE update_id = 9400 AND handled_at IS NOT NULL"
    )
    .fetch_one(pool)
    .await
    })
    .unwrap();
    assert!(
        kind.contains("/help"),
        "the new update replaced the old record: {kind}"
    );
}

#[tokio::test]
async fn settled_update_ids_are_forgotten_after_a_week() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir, &[("TELEGRAM_API_URL", "http://127.0.0.1:9")]);
    let state = server::prepare(&config).await.unwrap();
    let inbox = state.telegram.as_ref().unwrap().inbox.clone();
    seen_updates(&state.db, [1], 8 * 86_400, 1).await; // handled long ago
    seen_updates(&state.db, [2], 8 * 86_400, 10).await; // given up long ago
    seen_updates(&state.db, [3], 6 * 86_400, 1).await; // handled this week
    server::on_db!(&state.db, |pool| sqlx::query(
        "INSERT INTO telegram_updates (update_id, kind, payload, received_at, attempts)
         VALUES (4, 'message', '{}', $1, 3)"
    )
    .bind(now() - 8 * 86_400)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap(); // still being retried
    assert_eq!(inbox.prune().await.unwrap(), 2);
    let left: Vec<i64> = server::on_db!(&state.db, |pool| sqlx::query_scalar(
        "SELECT update_id FROM telegram_updates ORDER BY update_id"
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    assert_eq!(left, [3, 4]);
}

/// A bot command whose reply meets a rate limit of `retry_after` seconds (waited out by the Bot
/// API client), then a payment: its pre-checkout must be answered within Telegram's 10 seconds.
async fn pay_behind_a_rate_limited_reply(shop: &Shop, user: i64) {
    shop.user(user, "Busy", "en").await;
    let link = create_invoice(shop).await;
    shop.control(
        "rate-limit",
        json!({ "count": 1, "retry_after": 12, "method": "sendMessage" }),
    )
    .await;
    shop.say(user, "/help").await;
    // The reply has met the 429 once the command is recorded and a moment has passed.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let recorded: i64 = server::on_db!(&shop.db, |pool| sqlx::query_scalar(
            "SELECT count(*) FROM telegram_updates WHERE kind = 'message'"
        )
        .fetch_one(pool)
        .await)
        .unwrap();
        if recorded > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the command never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let outcome = shop
        .control("invoices/pay", json!({ "link": link, "user_id": user }))
        .await;
    assert_eq!(outcome["status"], "declined", "answered in time: {outcome}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The reply is not lost: it goes out once the rate limit has passed.
    let deadline = Instant::now() + Duration::from_secs(25);
    while shop.chat(user).await.is_empty() {
        assert!(Instant::now() < deadline, "the reply never went out");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn long_polling_answers_a_pre_checkout_behind_a_rate_limited_reply() {
    let shop = shop(&[]).await;
    pay_behind_a_rate_limited_reply(&shop, 605).await;
}

#[tokio::test]
async fn the_webhook_answers_a_pre_checkout_behind_a_rate_limited_reply() {
    let shop = shop(&[("WEBHOOK_SECRET", WEBHOOK_SECRET)]).await;
    let set = shop
        .bot_api(
            "setWebhook",
            json!({ "url": format!("{}/telegram/webhook", shop.base), "secret_token": WEBHOOK_SECRET }),
        )
        .await;
    assert_eq!(set["ok"], true, "{set}");
    pay_behind_a_rate_limited_reply(&shop, 606).await;
}

/// The count of polled pre-checkouts `/metrics` reports (0 before the first).
async fn polled_pre_checkouts(shop: &Shop) -> u64 {
    let text = shop
        .http
        .get(format!("{}/metrics", shop.base))
        .header("authorization", "Bearer scrape-polling")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| {
            line.strip_prefix("starfront_pre_checkout_seconds_count{intake=\"polling\"} ")
        })
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test]
async fn a_polled_pre_checkout_is_timed_in_metrics() {
    let shop = shop(&[("METRICS_TOKEN", "scrape-polling")]).await;
    shop.user(707, "Payer", "en").await;
    let before = polled_pre_checkouts(&shop).await;
    let link = create_invoice(&shop).await;
    let outcome = shop
        .control("invoices/pay", json!({ "link": link, "user_id": 707 }))
        .await;
    assert_eq!(outcome["status"], "declined", "answered: {outcome}");
    // The histogram is recorded once the intake has the answer; Telegram's side may hear it
    // first.
    let deadline = Instant::now() + Duration::from_secs(10);
    while polled_pre_checkouts(&shop).await <= before {
        assert!(
            Instant::now() < deadline,
            "no polled pre-checkout in /metrics"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A writer holding the database (a long migration, a backup, another replica's transaction):
/// reads go on, writes wait until it is released.
enum HeldWrites {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl HeldWrites {
    async fn release(self) {
        match self {
            HeldWrites::Sqlite(tx) => tx.rollback().await.unwrap(),
            HeldWrites::Postgres(tx) => tx.rollback().await.unwrap(),
        }
    }
}

async fn hold_writes(db: &Db) -> HeldWrites {
    match db {
        Db::Sqlite(pool) => HeldWrites::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await.unwrap()),
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("LOCK TABLE telegram_updates, users IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .unwrap();
            HeldWrites::Postgres(tx)
        }
    }
}

#[tokio::test]
async fn the_webhook_answers_a_pre_checkout_in_its_reply_while_another_writer_holds_the_database() {
    let shop = shop(&[("WEBHOOK_SECRET", WEBHOOK_SECRET)]).await;
    let update = json!({
        "update_id": 9300,
        "pre_checkout_query": {
            "id": "4400",
            "from": { "id": 708, "is_bot": false, "first_name": "Held", "language_code": "en" },
            "currency": "XTR",
            "total_amount": 10,
            "invoice_payload": "o.no-such-order-of-the-shop"
        }
    });
    let held = hold_writes(&shop.db).await;
    let res = shop
        .http
        .post(format!("{}/telegram/webhook", shop.base))
        .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
        .timeout(Duration::from_secs(3))
        .body(update.to_string())
        .send()
        .await
        .expect("answered while writes wait");
    assert_eq!(res.status(), 200);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["method"], "answerPreCheckoutQuery", "{reply}");
    assert_eq!(reply["pre_checkout_query_id"], "4400");
    assert_eq!(reply["ok"], false);
    assert!(
        reply["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("not known to the shop")),
        "{reply}"
    );
    held.release().await;
    wait_for("the answered pre-checkout recorded", async || {
        server::on_db!(&shop.db, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM telegram_updates WHERE update_id = 9300 AND handled_at IS NOT NULL",
        )
        .fetch_one(pool)
        .await)
        .unwrap()
            == 1
    })
    .await;
}

#[tokio::test]
async fn a_pre_checkout_and_the_health_check_never_wait_for_a_turn_taken_by_pages() {
    let shop = shop(&[
        ("WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("REQUESTS_AT_ONCE", "1"),
    ])
    .await;
    let me = |user: i64| {
        shop.http
            .get(format!("{}/api/me", shop.base))
            .header("authorization", format!("tma {}", init_data(user, now())))
            .send()
    };
    // The one turn is taken by a request that records a new user and so waits on the writer.
    let held = hold_writes(&shop.db).await;
    let taken = tokio::spawn(me(711));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A page that only reads waits for the turn...
    let waiting = tokio::spawn(shop.http.get(format!("{}/", shop.base)).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "a second request got a turn that was taken"
    );
    // ...while Telegram's webhook and the health check are answered at once.
    let update = json!({
        "update_id": 9310,
        "pre_checkout_query": {
            "id": "4410",
            "from": { "id": 709, "is_bot": false, "first_name": "Ada", "language_code": "en" },
            "currency": "XTR",
            "total_amount": 10,
            "invoice_payload": "o.no-such-order-of-the-shop"
        }
    });
    let reply: Value = shop
        .http
        .post(format!("{}/telegram/webhook", shop.base))
        .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
        .timeout(Duration::from_secs(2))
        .body(update.to_string())
        .send()
        .await
        .expect("the webhook answered without a turn")
        .json()
        .await
        .unwrap();
    assert_eq!(reply["pre_checkout_query_id"], "4410", "{reply}");
    let health = shop
        .http
        .get(format!("{}/healthz", shop.base))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .expect("the health check answered without a turn");
    assert_eq!(health.status(), 200);
    assert!(!waiting.is_finished());
    held.release().await;
    // Once the writer is gone both pages are served, in turn.
    assert_eq!(taken.await.unwrap().unwrap().status(), 200);
    assert_eq!(waiting.await.unwrap().unwrap().status(), 200);
}
