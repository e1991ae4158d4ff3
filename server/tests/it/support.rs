//! `/paysupport` through the emulator: the request reaches the creators of what the buyer paid
//! for and the admins (bot messages in their language), the studio's support inbox shows each
//! caller only what they may see, replies reach the buyer's chat, and a refund from the inbox
//! goes through the ledger (`refundStarPayment`, access revoked).

use crate::common::{wait_for, TestApp};

use reqwest::Method;
use serde_json::{json, Value};
use server::payments::{self, OrderStatus};

const RUST_BOOK: &str = "pocket-guide-to-rust"; // by creator 1001, 250 Stars
const MIRA: i64 = 1001; // creator of the Rust book
const OTHER_CREATOR: i64 = 1003;
const ADMINS: [i64; 2] = [9001, 9002];
const BUYER: i64 = 2101;

async fn app() -> TestApp {
    let app = TestApp::start(&[("ADMIN_IDS", "9001,9002")]).await;
    for (id, name, lang) in [
        (MIRA, "Mira", "ru"),
        (OTHER_CREATOR, "Theo", "en"),
        (ADMINS[0], "Sam", "en"),
        (ADMINS[1], "Kim", "en"),
        (BUYER, "Ann", "en"),
        (2102, "Bob", "en"),
    ] {
        app.control(
            "users",
            json!({ "id": id, "first_name": name, "language_code": lang }),
        )
        .await;
        // Everyone has met the bot (and so the shop knows their language).
        say(&app, id, "/help").await;
    }
    for id in [MIRA, OTHER_CREATOR, ADMINS[0], ADMINS[1], BUYER, 2102] {
        wait_messages(&app, id, 1).await;
    }
    app
}

async fn say(app: &TestApp, user: i64, text: &str) {
    app.control(&format!("users/{user}/messages"), json!({ "text": text }))
        .await;
}

async fn wait_messages(app: &TestApp, chat: i64, count: usize) -> Vec<Value> {
    let mut messages = Vec::new();
    wait_for(&format!("{count} messages in chat {chat}"), async || {
        messages = app.chat(chat).await;
        messages.len() >= count
    })
    .await;
    messages
}

/// Waits for a message to `chat` whose text `wanted` accepts (other messages, such as a
/// purchase's delivery, may arrive in between); returns it.
async fn wait_text(app: &TestApp, chat: i64, wanted: impl Fn(&str) -> bool) -> Value {
    let mut found = None;
    wait_for(&format!("the message in chat {chat}"), async || {
        found = app
            .chat(chat)
            .await
            .into_iter()
            .rev()
            .find(|m| wanted(text(m)));
        found.is_some()
    })
    .await;
    found.unwrap()
}

fn text(message: &Value) -> &str {
    message["message"]["text"].as_str().unwrap_or_default()
}

/// The buyer pays for the Rust book; returns the order's public id once the shop granted it.
async fn buy(app: &TestApp, buyer: i64) -> String {
    app.buy(buyer, RUST_BOOK).await
}

async fn inbox(app: &TestApp, caller: i64) -> reqwest::Response {
    app.as_user(caller, Method::GET, "/api/studio/support")
        .send()
        .await
        .unwrap()
}

async fn inbox_of(app: &TestApp, caller: i64) -> Vec<Value> {
    let res = inbox(app, caller).await;
    assert_eq!(res.status(), 200, "inbox of {caller}");
    res.json::<Vec<Value>>().await.unwrap()
}

async fn post(app: &TestApp, caller: i64, path: &str, body: Value) -> reqwest::Response {
    app.as_user(caller, Method::POST, path)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The id of the newest support request of `buyer`.
async fn request_of(app: &TestApp, buyer: i64) -> i64 {
    server::on_db!(&app.db, |pool| sqlx::query_scalar(
        "SELECT MAX(id) FROM support_requests WHERE user_id = $1"
    )
    .bind(buyer)
    .fetch_one(pool)
    .await)
    .unwrap()
}

#[tokio::test]
async fn a_request_reaches_the_creator_and_the_admins_in_their_language() {
    let app = app().await;
    buy(&app, BUYER).await;
    let other_creator = app.chat(OTHER_CREATOR).await.len();
    say(&app, BUYER, "/paysupport the PDF does not open").await;
    let id = request_of_when_ready(&app, BUYER).await;

    // The buyer's ack names the request and promises no deadline nobody keeps.
    let ack = wait_text(&app, BUYER, |t| {
        t.starts_with("Thanks, we have your request")
    })
    .await;
    let ack = text(&ack);
    assert!(ack.contains(&format!("no. {id}")), "{ack}");
    assert!(!ack.contains("24 hours"), "{ack}");

    // The creator of the book reads it in Russian, with the charge and a button to the inbox.
    let note = wait_text(&app, MIRA, |t| t.starts_with("Запрос в поддержку")).await;
    let body = text(&note);
    assert!(
        body.starts_with(&format!("Запрос в поддержку № {id}")),
        "{body}"
    );
    assert!(body.contains("the PDF does not open"), "{body}");
    assert!(
        body.contains("The Pocket Guide to Rust: 250 ⭐, оплачен"),
        "{body}"
    );
    assert_eq!(
        note["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"],
        format!("{}/studio/support", app.base)
    );
    // Both admins, in English.
    for admin in ADMINS {
        let note = wait_text(&app, admin, |t| t.starts_with("Support request")).await;
        let body = text(&note);
        assert!(
            body.starts_with(&format!("Support request no. {id} from Ann")),
            "{body}"
        );
        assert!(body.contains("The Pocket Guide to Rust: 250 ⭐, paid"));
    }
    // Not the creator of something else.
    assert_eq!(app.chat(OTHER_CREATOR).await.len(), other_creator);

    // A request with no charges behind it goes to the admins alone.
    let mira_count = app.chat(MIRA).await.len();
    say(&app, 2102, "/paysupport where is my money").await;
    let note = wait_text(&app, ADMINS[0], |t| t.contains("where is my money")).await;
    let body = text(&note);
    assert!(body.starts_with("Support request no."), "{body}");
    assert!(body.contains("none in the last 30 days"), "{body}");
    wait_text(&app, 2102, |t| {
        t.starts_with("Thanks, we have your request")
    })
    .await;
    assert_eq!(app.chat(MIRA).await.len(), mira_count);
}

/// The request's id once the shop recorded it.
async fn request_of_when_ready(app: &TestApp, buyer: i64) -> i64 {
    let mut id = None;
    wait_for("the support request", async || {
        id = server::on_db!(&app.db, |pool| sqlx::query_scalar(
            "SELECT MAX(id) FROM support_requests WHERE user_id = $1"
        )
        .bind(buyer)
        .fetch_one(pool)
        .await)
        .unwrap();
        id.is_some()
    })
    .await;
    id.unwrap()
}

#[tokio::test]
async fn the_inbox_shows_each_their_own_answers_and_refunds_through_the_ledger() {
    let app = app().await;
    let order = buy(&app, BUYER).await;
    say(&app, BUYER, "/paysupport the PDF does not open").await;
    say(&app, 2102, "/paysupport where is my money").await;
    wait_for("both requests", async || {
        server::on_db!(&app.db, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM support_requests"
        )
        .fetch_one(pool)
        .await)
        .unwrap()
            == 2
    })
    .await;
    let id = request_of(&app, BUYER).await;
    let other = request_of(&app, 2102).await;

    // The creator sees the request about their book, with its charge as the ledger has it.
    let mira = inbox_of(&app, MIRA).await;
    assert_eq!(mira.len(), 1, "{mira:#?}");
    assert_eq!(mira[0]["id"], id);
    assert_eq!(mira[0]["status"], "open");
    assert_eq!(mira[0]["message"], "the PDF does not open");
    let charge = &mira[0]["charges"][0];
    assert_eq!(charge["order_id"], order.as_str());
    assert_eq!(charge["state"], "granted");
    assert_eq!(charge["amount_stars"], 250);
    assert_eq!(charge["refundable"], true);
    let charge_id = charge["charge_id"].as_str().unwrap().to_owned();
    // Another creator sees nothing; an admin both; buyers and strangers are refused.
    assert!(inbox_of(&app, OTHER_CREATOR).await.is_empty());
    let all: Vec<i64> = inbox_of(&app, ADMINS[1])
        .await
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(all, vec![other, id]);
    for outsider in [BUYER, 2999] {
        assert_eq!(inbox(&app, outsider).await.status(), 403);
    }
    // Nobody acts on a request they cannot see.
    let res = post(
        &app,
        OTHER_CREATOR,
        &format!("/api/studio/support/{id}/reply"),
        json!({ "text": "hi" }),
    )
    .await;
    assert_eq!(res.status(), 404);
    let res = post(
        &app,
        MIRA,
        &format!("/api/studio/support/{other}/reply"),
        json!({ "text": "hi" }),
    )
    .await;
    assert_eq!(res.status(), 404);
    let res = post(
        &app,
        BUYER,
        &format!("/api/studio/support/{id}/refund"),
        json!({ "charge_id": charge_id }),
    )
    .await;
    assert_eq!(res.status(), 403);

    // The creator answers: the buyer reads it in their chat, the request is answered.
    let res = post(
        &app,
        MIRA,
        &format!("/api/studio/support/{id}/reply"),
        json!({ "text": "   " }),
    )
    .await;
    assert_eq!(res.status(), 400);
    let res = post(
        &app,
        MIRA,
        &format!("/api/studio/support/{id}/reply"),
        json!({ "text": "Sorry! Try the file again, I replaced it." }),
    )
    .await;
    assert_eq!(res.status(), 200);
    let answer = wait_text(&app, BUYER, |t| t.starts_with("Answer to your request")).await;
    assert_eq!(
        text(&answer),
        format!("Answer to your request no. {id}:\n\nSorry! Try the file again, I replaced it.")
    );
    let mira = inbox_of(&app, MIRA).await;
    assert_eq!(mira[0]["status"], "answered");
    assert_eq!(
        mira[0]["replies"][0]["text"],
        "Sorry! Try the file again, I replaced it."
    );
    assert_eq!(mira[0]["replies"][0]["author_id"], MIRA);

    // A refund from the inbox: Telegram returns the Stars, the ledger and the order say so,
    // the book leaves the buyer's library.
    let stars = app.get(&format!("users/{BUYER}")).await["stars"]
        .as_i64()
        .unwrap();
    let res = post(
        &app,
        MIRA,
        &format!("/api/studio/support/{id}/refund"),
        json!({ "charge_id": charge_id }),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let after = app.get(&format!("users/{BUYER}")).await["stars"]
        .as_i64()
        .unwrap();
    assert_eq!(after, stars + 250);
    let refunds = app
        .get("transactions")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["receiver"]["user"]["id"] == BUYER)
        .count();
    assert_eq!(refunds, 1);
    assert_eq!(
        payments::order_status(&app.db, BUYER, &order)
            .await
            .unwrap(),
        OrderStatus::Refunded
    );
    let owns: bool = server::on_db!(&app.db, |pool| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM entitlements e JOIN products p ON p.id = e.product_id
                        WHERE e.user_id = $1 AND p.slug = $2 AND e.revoked_at IS NULL)",
    )
    .bind(BUYER)
    .bind(RUST_BOOK)
    .fetch_one(pool)
    .await)
    .unwrap();
    assert!(!owns);
    let charge = &inbox_of(&app, MIRA).await[0]["charges"][0];
    assert_eq!(charge["state"], "refunded");
    assert_eq!(charge["refundable"], false);
    // Once is all: a second refund is refused and returns nothing more.
    let res = post(
        &app,
        MIRA,
        &format!("/api/studio/support/{id}/refund"),
        json!({ "charge_id": charge_id }),
    )
    .await;
    assert_eq!(res.status(), 409);

    // Closed, it leaves the inbox; it takes no more answers.
    let res = post(
        &app,
        MIRA,
        &format!("/api/studio/support/{id}/close"),
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(inbox_of(&app, MIRA).await.is_empty());
    let res = post(
        &app,
        ADMINS[0],
        &format!("/api/studio/support/{id}/reply"),
        json!({ "text": "one more" }),
    )
    .await;
    assert_eq!(res.status(), 409);
}
