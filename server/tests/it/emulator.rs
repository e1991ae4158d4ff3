//! The Telegram emulator driven over real HTTP by the shop's own Bot API client (tgbot), with
//! raw JSON checks against the Bot API's documented shapes.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{http::HeaderMap, routing::post, Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use telegram_emulator::{
    ChatType, EmulatedUser, Emulator, EmulatorConfig, InlineRequest, NewChat, PaymentOutcome,
};
use tgbot::{
    api::{Client, ExecuteError},
    types::{
        AnswerInlineQuery, AnswerPreCheckoutQuery, CreateInvoiceLink, DeleteWebhook, GetBot,
        GetStarTransactions, GetUpdates, InlineKeyboardButton, InlineQueryResultArticle, InputFile,
        InputFileReader, InputMessageContentText, LabeledPrice, MessageData, RefundStarPayment,
        SendDocument, SendMessage, SetWebhook, TransactionPartner, Update, UpdateType, WebAppInfo,
    },
};
use tokio::{net::TcpListener, sync::mpsc, task::JoinHandle};

const TOKEN: &str = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const BOT_ID: i64 = 123456;
const BUYER: i64 = 777000111;

fn config() -> EmulatorConfig {
    EmulatorConfig {
        bot_token: TOKEN.into(),
        bot_username: "starfront_test_bot".into(),
        bot_first_name: "Starfront".into(),
        initial_stars: 2500,
        pre_checkout_timeout: Duration::from_secs(5),
        webhook_connections: 1,
        webhook_max_attempts: 50,
        clock: Default::default(),
    }
}

async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A running emulator with one buyer, and the base URL the bot client uses.
async fn start(config: EmulatorConfig) -> (Emulator, String) {
    let emulator = Emulator::new(config);
    let mut buyer = EmulatedUser::new(BUYER, "Ada");
    buyer.username = Some("ada_l".into());
    buyer.language_code = Some("en".into());
    emulator.set_user(buyer).await.unwrap();
    let base = serve(emulator.router()).await;
    (emulator, base)
}

fn client(base: &str) -> Client {
    Client::new(TOKEN).unwrap().with_host(base)
}

/// A raw Bot API call: (HTTP status, body).
async fn raw(base: &str, method: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/bot{TOKEN}/{method}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn error_of<T: std::fmt::Debug>(result: Result<T, ExecuteError>) -> (Option<i64>, String) {
    match result.expect_err("the call must fail") {
        ExecuteError::Response(err) => (err.error_code(), err.description().to_owned()),
        other => panic!("expected a Bot API error, got {other:?}"),
    }
}

async fn invoice_link(client: &Client, amount: i64) -> String {
    client
        .execute(CreateInvoiceLink::new(
            "Nebula poster",
            "A3 print of the Nebula",
            "order:42",
            "XTR",
            [LabeledPrice::new(amount, "Poster")],
        ))
        .await
        .unwrap()
}

/// A bot that long-polls with tgbot, answers pre-checkout queries with `decline` (None = ok),
/// and forwards every update it sees.
fn spawn_polling_bot(
    client: Client,
    decline: Option<&'static str>,
) -> (JoinHandle<()>, mpsc::UnboundedReceiver<Update>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = tokio::spawn(async move {
        let mut offset = 0;
        loop {
            let updates = client
                .execute(
                    GetUpdates::default()
                        .with_offset(offset)
                        .with_timeout(Duration::from_secs(2)),
                )
                .await
                .expect("getUpdates must succeed and deserialize");
            for update in updates {
                offset = update.id + 1;
                if let UpdateType::PreCheckoutQuery(query) = &update.update_type {
                    let answer = match decline {
                        None => AnswerPreCheckoutQuery::ok(query.id.clone()),
                        Some(reason) => AnswerPreCheckoutQuery::error(query.id.clone(), reason),
                    };
                    assert!(client.execute(answer).await.unwrap());
                }
                if tx.send(update).is_err() {
                    return;
                }
            }
        }
    });
    (handle, rx)
}

async fn next_update(rx: &mut mpsc::UnboundedReceiver<Update>) -> Update {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an update within 10 s")
        .expect("the bot is running")
}

#[tokio::test]
async fn get_me_has_the_bot_api_shape() {
    let (_emulator, base) = start(config()).await;
    let (status, body) = raw(&base, "getMe", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["ok"], true);
    let me = &body["result"];
    assert_eq!(me["id"], BOT_ID);
    assert_eq!(me["is_bot"], true);
    assert_eq!(me["first_name"], "Starfront");
    assert_eq!(me["username"], "starfront_test_bot");
    assert_eq!(me["can_join_groups"], true);
    assert_eq!(me["can_read_all_group_messages"], false);
    // The shop's bot has inline mode on (README: BotFather's /setinline).
    assert_eq!(me["supports_inline_queries"], true);

    let bot = client(&base).execute(GetBot).await.unwrap();
    assert_eq!(bot.id, BOT_ID);
    assert_eq!(bot.username, "starfront_test_bot");

    // Method names are case-insensitive and GET works, as on Telegram.
    let body: Value = reqwest::get(format!("{base}/bot{TOKEN}/GETME"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["result"]["id"], BOT_ID);
}

#[tokio::test]
async fn wrong_token_is_unauthorized_and_unknown_method_not_found() {
    let (_emulator, base) = start(config()).await;
    let response = reqwest::get(format!("{base}/bot123456:wrong/getMe"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );
    let wrong = Client::new("123456:wrong").unwrap().with_host(&base);
    assert_eq!(
        error_of(wrong.execute(GetBot).await),
        (Some(401), "Unauthorized".to_owned())
    );

    let (status, body) = raw(&base, "sendPigeon", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 404, "description": "Not Found"})
    );
}

#[tokio::test]
async fn create_invoice_link_validates_stars_invoices() {
    let (emulator, base) = start(config()).await;
    let valid = json!({
        "title": "Nebula poster",
        "description": "A3 print",
        "payload": "order:42",
        "currency": "XTR",
        "prices": [{"label": "Poster", "amount": 150}],
    });
    let invalid = [
        ("currency", json!("USD")),
        (
            "prices",
            json!([{"label": "a", "amount": 100}, {"label": "b", "amount": 50}]),
        ),
        ("prices", json!([{"label": "a", "amount": -5}])),
        ("provider_token", json!("284685063:TEST:abc")),
        ("payload", json!("")),
        ("payload", json!("p".repeat(129))),
        ("title", json!("t".repeat(33))),
        ("description", json!("d".repeat(256))),
        ("subscription_period", json!(604800)),
    ];
    for (field, value) in invalid {
        let mut body = valid.clone();
        body[field] = value;
        let (status, reply) = raw(&base, "createInvoiceLink", body).await;
        assert_eq!(status, 400, "{field}: {reply}");
        assert_eq!(reply["ok"], false);
        assert_eq!(reply["error_code"], 400);
        let description = reply["description"].as_str().unwrap();
        assert!(description.starts_with("Bad Request: "), "{description}");
    }
    let (_, reply) = raw(
        &base,
        "createInvoiceLink",
        json!({"title": "t".repeat(33), "description": "d", "payload": "p", "currency": "XTR",
               "prices": [{"label": "a", "amount": 1}]}),
    )
    .await;
    assert_eq!(reply["description"], "Bad Request: TITLE_INVALID");

    // A form post carries prices as a JSON string, as Telegram accepts.
    let form: Value = reqwest::Client::new()
        .post(format!("{base}/bot{TOKEN}/createInvoiceLink"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "title=Poster&description=A3&payload=order%3A7&currency=XTR\
             &subscription_period=2592000&prices=%5B%7B%22label%22%3A%22P%22%2C%22amount%22%3A99%7D%5D",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(form["ok"], true, "{form}");
    let link = form["result"].as_str().unwrap();
    assert!(link.starts_with("https://t.me/$"));
    let invoice = emulator.invoice(link).await.unwrap();
    assert_eq!(invoice.amount, 99);
    assert_eq!(invoice.payload, "order:7");
    assert_eq!(invoice.subscription_period, Some(2_592_000));

    let link_a = invoice_link(&client(&base), 150).await;
    let link_b = invoice_link(&client(&base), 150).await;
    assert_ne!(link_a, link_b, "slugs must be unique");
    assert!(link_a.len() > "https://t.me/$".len() + 16);
}

#[tokio::test]
async fn long_polling_payment_play() {
    let (emulator, base) = start(config()).await;
    let bot = client(&base);
    let link = invoice_link(&bot, 150).await;
    let (handle, mut updates) = spawn_polling_bot(bot.clone(), None);

    let outcome = emulator.pay_invoice(&link, BUYER).await.unwrap();
    let PaymentOutcome::Paid {
        telegram_payment_charge_id: charge_id,
    } = outcome
    else {
        panic!("expected a payment, got {outcome:?}");
    };
    assert!(charge_id.starts_with("stx"));

    let first = next_update(&mut updates).await;
    let UpdateType::PreCheckoutQuery(query) = &first.update_type else {
        panic!("expected a pre_checkout_query, got {first:?}");
    };
    assert_eq!(query.total_amount, 150);
    assert_eq!(query.currency, "XTR");
    assert_eq!(query.invoice_payload, "order:42");
    assert_eq!(i64::from(query.from.id), BUYER);

    let second = next_update(&mut updates).await;
    assert_eq!(second.id, first.id + 1);
    let UpdateType::Message(message) = &second.update_type else {
        panic!("expected a message, got {second:?}");
    };
    let MessageData::SuccessfulPayment(payment) = &message.data else {
        panic!("expected successful_payment, got {message:?}");
    };
    assert_eq!(payment.telegram_payment_charge_id, charge_id);
    assert_eq!(payment.total_amount, 150);
    assert_eq!(payment.invoice_payload, "order:42");
    handle.abort();

    assert_eq!(emulator.balance(BUYER).await.unwrap(), 2350);
    let transactions = bot.execute(GetStarTransactions::default()).await.unwrap();
    assert_eq!(transactions.transactions.len(), 1);
    let transaction = &transactions.transactions[0];
    assert_eq!(transaction.id, charge_id);
    assert_eq!(transaction.amount, 150);
    match &transaction.source {
        Some(TransactionPartner::User(partner)) => {
            assert_eq!(i64::from(partner.user.id), BUYER);
            assert_eq!(partner.invoice_payload.as_deref(), Some("order:42"));
        }
        other => panic!("expected a user source, got {other:?}"),
    }
    assert!(transaction.receiver.is_none());
}

#[tokio::test]
async fn payment_updates_have_the_bot_api_shape() {
    let (emulator, base) = start(config()).await;
    let link = invoice_link(&client(&base), 150).await;
    let payer = emulator.clone();
    let payment = tokio::spawn(async move { payer.pay_invoice(&link, BUYER).await });

    let (_, body) = raw(&base, "getUpdates", json!({"timeout": 5})).await;
    let update = &body["result"][0];
    let query = &update["pre_checkout_query"];
    assert!(update["update_id"].is_i64());
    assert!(query["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(query["currency"], "XTR");
    assert_eq!(query["total_amount"], 150);
    assert_eq!(query["invoice_payload"], "order:42");
    assert_eq!(
        query["from"],
        json!({"id": BUYER, "is_bot": false, "first_name": "Ada", "username": "ada_l",
               "language_code": "en"})
    );

    let (status, answered) = raw(
        &base,
        "answerPreCheckoutQuery",
        json!({"pre_checkout_query_id": query["id"], "ok": true}),
    )
    .await;
    assert_eq!(
        (status, answered),
        (200, json!({"ok": true, "result": true}))
    );
    let outcome = payment.await.unwrap().unwrap();

    let next_offset = update["update_id"].as_i64().unwrap() + 1;
    let (_, body) = raw(
        &base,
        "getUpdates",
        json!({"offset": next_offset, "timeout": 5}),
    )
    .await;
    let updates = body["result"].as_array().unwrap();
    assert_eq!(
        updates.len(),
        1,
        "the answered query was confirmed by offset"
    );
    let message = &updates[0]["message"];
    assert!(message["message_id"].is_i64());
    assert!(message["date"].is_i64());
    assert_eq!(message["from"]["id"], BUYER);
    assert_eq!(
        message["chat"],
        json!({"id": BUYER, "first_name": "Ada", "username": "ada_l", "type": "private"})
    );
    let paid = &message["successful_payment"];
    assert_eq!(paid["currency"], "XTR");
    assert_eq!(paid["total_amount"], 150);
    assert_eq!(paid["invoice_payload"], "order:42");
    assert_eq!(paid["provider_payment_charge_id"], "");
    assert_eq!(
        outcome,
        PaymentOutcome::Paid {
            telegram_payment_charge_id: paid["telegram_payment_charge_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    );
    assert!(paid.get("subscription_expiration_date").is_none());

    // Answering the same query again is refused like an unknown one.
    let (status, again) = raw(
        &base,
        "answerPreCheckoutQuery",
        json!({"pre_checkout_query_id": query["id"], "ok": true}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        again,
        json!({
            "ok": false,
            "error_code": 400,
            "description": "Bad Request: query is too old and response timeout expired or query ID is invalid"
        })
    );
    for update in updates {
        serde_json::from_value::<Update>(update.clone()).expect("tgbot reads the update");
    }
}

#[tokio::test]
async fn subscription_payment_carries_recurring_fields() {
    let (emulator, base) = start(config()).await;
    let bot = client(&base);
    let link = bot
        .execute(
            CreateInvoiceLink::new(
                "Club",
                "Monthly club",
                "sub:1",
                "XTR",
                [LabeledPrice::new(300, "Month")],
            )
            .with_subscription_period(2_592_000),
        )
        .await
        .unwrap();
    let (handle, mut updates) = spawn_polling_bot(bot, None);
    let outcome = emulator.pay_invoice(&link, BUYER).await.unwrap();
    assert!(matches!(outcome, PaymentOutcome::Paid { .. }));
    next_update(&mut updates).await;
    let update = next_update(&mut updates).await;
    handle.abort();
    let UpdateType::Message(message) = update.update_type else {
        panic!("expected a message");
    };
    let MessageData::SuccessfulPayment(payment) = message.data else {
        panic!("expected successful_payment");
    };
    assert_eq!(payment.is_recurring, Some(true));
    assert_eq!(payment.is_first_recurring, Some(true));
    let expires = payment.subscription_expiration_date.unwrap();
    assert!(expires - message.date >= 2_592_000 - 2);
}

#[derive(Clone, Default)]
struct Receiver {
    updates: Arc<Mutex<Vec<Value>>>,
    rejected: Arc<Mutex<u32>>,
}

#[tokio::test]
async fn webhook_payment_play_survives_dropped_deliveries() {
    let (emulator, base) = start(config()).await;
    let bot = client(&base);
    let receiver = Receiver::default();
    let seen = receiver.clone();
    let answering_bot = bot.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, Json(update): Json<Value>| {
            let seen = seen.clone();
            let bot = answering_bot.clone();
            async move {
                let secret = headers
                    .get("x-telegram-bot-api-secret-token")
                    .and_then(|v| v.to_str().ok());
                if secret != Some("s3cr3t_Token-1") {
                    *seen.rejected.lock().unwrap() += 1;
                    return axum::http::StatusCode::UNAUTHORIZED;
                }
                let parsed: Update = serde_json::from_value(update.clone()).unwrap();
                seen.updates.lock().unwrap().push(update);
                if let UpdateType::PreCheckoutQuery(query) = parsed.update_type {
                    // Answer off the request path, as a real bot would.
                    tokio::spawn(async move {
                        bot.execute(AnswerPreCheckoutQuery::ok(query.id))
                            .await
                            .unwrap();
                    });
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let hook_base = serve(app).await;
    assert!(bot
        .execute(SetWebhook::new(format!("{hook_base}/hook")).with_secret_token("s3cr3t_Token-1"))
        .await
        .unwrap());
    let (_, info) = raw(&base, "getWebhookInfo", json!({})).await;
    assert_eq!(info["result"]["url"], format!("{hook_base}/hook"));
    assert_eq!(info["result"]["has_custom_certificate"], false);

    emulator.drop_next_webhook_deliveries(2).await;
    emulator
        .send_user_message(BUYER, "/start poster")
        .await
        .unwrap();
    let link = invoice_link(&bot, 150).await;
    let outcome = emulator.pay_invoice(&link, BUYER).await.unwrap();
    assert!(
        matches!(outcome, PaymentOutcome::Paid { .. }),
        "{outcome:?}"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.updates.lock().unwrap().len() < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a duplicate delivery, if any, the chance to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let updates = receiver.updates.lock().unwrap().clone();
    assert_eq!(updates.len(), 3, "{updates:#?}");
    let ids: Vec<i64> = updates
        .iter()
        .map(|u| u["update_id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    assert_eq!(updates[0]["message"]["text"], "/start poster");
    assert_eq!(
        updates[0]["message"]["entities"],
        json!([{"offset": 0, "length": 6, "type": "bot_command"}])
    );
    assert!(updates[1].get("pre_checkout_query").is_some());
    assert!(updates[2]["message"].get("successful_payment").is_some());
    assert_eq!(*receiver.rejected.lock().unwrap(), 0);

    let stats = emulator.delivery_stats().await;
    assert_eq!(stats.delivered, 3);
    assert_eq!(stats.failed, 2);
    assert_eq!(stats.pending_drops, 0);
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 2350);
}

#[tokio::test]
async fn webhook_retries_until_the_bot_accepts() {
    let (emulator, base) = start(config()).await;
    let attempts = Arc::new(Mutex::new(0u32));
    let counter = attempts.clone();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let counter = counter.clone();
            async move {
                let mut n = counter.lock().unwrap();
                *n += 1;
                if *n < 3 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let hook_base = serve(app).await;
    client(&base)
        .execute(SetWebhook::new(format!("{hook_base}/hook")))
        .await
        .unwrap();
    emulator.send_user_message(BUYER, "hello").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while emulator.delivery_stats().await.delivered < 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = emulator.delivery_stats().await;
    assert_eq!((stats.delivered, stats.failed), (1, 2));
    assert_eq!(*attempts.lock().unwrap(), 3);
    let (_, info) = raw(&base, "getWebhookInfo", json!({})).await;
    assert_eq!(info["result"]["pending_update_count"], 0);
    assert!(info["result"]["last_error_message"]
        .as_str()
        .unwrap()
        .contains("500"));
}

/// With several webhook connections the emulator, like Telegram, keeps that many deliveries in
/// flight at once, each update delivered once.
#[tokio::test]
async fn webhook_deliveries_overlap_up_to_the_connection_count() {
    let (emulator, base) = start(EmulatorConfig {
        webhook_connections: 4,
        ..config()
    })
    .await;
    // (in flight now, most in flight at once, update ids seen)
    let seen = Arc::new(Mutex::new((0usize, 0usize, Vec::<i64>::new())));
    let hook_seen = seen.clone();
    let app = Router::new().route(
        "/hook",
        post(move |Json(update): Json<Value>| {
            let seen = hook_seen.clone();
            async move {
                {
                    let mut s = seen.lock().unwrap();
                    s.0 += 1;
                    s.1 = s.1.max(s.0);
                    s.2.push(update["update_id"].as_i64().unwrap());
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                seen.lock().unwrap().0 -= 1;
                axum::http::StatusCode::OK
            }
        }),
    );
    let hook_base = serve(app).await;
    client(&base)
        .execute(SetWebhook::new(format!("{hook_base}/hook")))
        .await
        .unwrap();
    for i in 0..8 {
        emulator
            .send_user_message(BUYER, &format!("message {i}"))
            .await
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while emulator.delivery_stats().await.delivered < 8 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(emulator.delivery_stats().await.delivered, 8);
    let (_, most, mut ids) = seen.lock().unwrap().clone();
    assert_eq!(most, 4, "four deliveries in flight at once, never more");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8, "each update delivered once");
}

#[tokio::test]
async fn declined_pre_checkout_charges_nothing() {
    let (emulator, base) = start(config()).await;
    let bot = client(&base);
    let link = invoice_link(&bot, 150).await;
    let (handle, mut updates) = spawn_polling_bot(bot.clone(), Some("Sold out, sorry"));
    let outcome = emulator.pay_invoice(&link, BUYER).await.unwrap();
    assert_eq!(
        outcome,
        PaymentOutcome::Declined {
            error_message: "Sold out, sorry".into()
        }
    );
    next_update(&mut updates).await;
    // No successful_payment follows.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), updates.recv())
            .await
            .is_err()
    );
    handle.abort();
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 2500);
    assert!(emulator.transactions().await.is_empty());
}

#[tokio::test]
async fn timed_out_pre_checkout_charges_nothing() {
    let mut config = config();
    config.pre_checkout_timeout = Duration::from_millis(300);
    let (emulator, base) = start(config).await;
    let link = invoice_link(&client(&base), 150).await;
    let started = Instant::now();
    let outcome = emulator.pay_invoice(&link, BUYER).await.unwrap();
    assert_eq!(outcome, PaymentOutcome::TimedOut);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 2500);
    assert!(emulator.transactions().await.is_empty());

    // The late answer is refused and still charges nothing.
    let (_, body) = raw(&base, "getUpdates", json!({})).await;
    let query_id = body["result"][0]["pre_checkout_query"]["id"].clone();
    let (status, late) = raw(
        &base,
        "answerPreCheckoutQuery",
        json!({"pre_checkout_query_id": query_id, "ok": true}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        late["description"],
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    );
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 2500);
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn insufficient_stars_sends_nothing() {
    let (emulator, base) = start(config()).await;
    let link = invoice_link(&client(&base), 150).await;
    emulator.set_balance(BUYER, 149).await.unwrap();
    let outcome = emulator.pay_invoice(&link, BUYER).await.unwrap();
    assert_eq!(
        outcome,
        PaymentOutcome::InsufficientStars {
            balance: 149,
            amount: 150
        }
    );
    let (_, body) = raw(&base, "getUpdates", json!({})).await;
    assert_eq!(body, json!({"ok": true, "result": []}));
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 149);
}

#[tokio::test]
async fn a_failed_payment_sends_nothing_and_the_invoice_stays_payable() {
    let (emulator, base) = start(config()).await;
    let bot = client(&base);
    let link = invoice_link(&bot, 150).await;
    assert_eq!(
        emulator.fail_invoice(&link, BUYER).await.unwrap(),
        PaymentOutcome::Failed
    );
    let (_, body) = raw(&base, "getUpdates", json!({})).await;
    assert_eq!(body, json!({"ok": true, "result": []}));
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 2500);
    assert!(emulator.transactions().await.is_empty());

    // As in Telegram, the user may try again, and then the payment goes through.
    let (handle, _updates) = spawn_polling_bot(bot, None);
    let outcome = emulator.pay_invoice(&link, BUYER).await.unwrap();
    handle.abort();
    assert!(
        matches!(outcome, PaymentOutcome::Paid { .. }),
        "{outcome:?}"
    );
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 2350);
}

#[tokio::test]
async fn a_top_up_adds_stars_to_the_user_only() {
    let (emulator, _base) = start(config()).await;
    emulator.set_balance(BUYER, 20).await.unwrap();
    assert_eq!(emulator.add_stars(BUYER, 1000).await.unwrap().stars, 1020);
    assert!(emulator.add_stars(BUYER, 0).await.is_err());
    assert!(emulator.add_stars(BUYER, i64::MAX).await.is_err());
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 1020);
    // Bought Stars are not the bot's income.
    assert!(emulator.transactions().await.is_empty());
}

#[tokio::test]
async fn refund_credits_back_exactly_once() {
    let (emulator, base) = start(config()).await;
    let bot = client(&base);
    let link = invoice_link(&bot, 400).await;
    let (handle, mut updates) = spawn_polling_bot(bot.clone(), None);
    let PaymentOutcome::Paid {
        telegram_payment_charge_id: charge_id,
    } = emulator.pay_invoice(&link, BUYER).await.unwrap()
    else {
        panic!("payment failed");
    };
    next_update(&mut updates).await;
    next_update(&mut updates).await;
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 2100);

    assert!(bot
        .execute(RefundStarPayment::new(BUYER, charge_id.clone()))
        .await
        .unwrap());
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 2500);
    let refund = next_update(&mut updates).await;
    let UpdateType::Message(message) = refund.update_type else {
        panic!("expected a message");
    };
    let MessageData::RefundedPayment(refunded) = message.data else {
        panic!("expected refunded_payment");
    };
    assert_eq!(refunded.telegram_payment_charge_id, charge_id);
    assert_eq!(refunded.total_amount, 400);
    assert_eq!(refunded.invoice_payload, "order:42");
    handle.abort();

    assert_eq!(
        error_of(
            bot.execute(RefundStarPayment::new(BUYER, charge_id.clone()))
                .await
        ),
        (Some(400), "Bad Request: CHARGE_ALREADY_REFUNDED".to_owned())
    );
    assert_eq!(
        error_of(
            bot.execute(RefundStarPayment::new(BUYER, "stxNoSuchCharge"))
                .await
        ),
        (Some(400), "Bad Request: CHARGE_ID_INVALID".to_owned())
    );
    assert_eq!(emulator.balance(BUYER).await.unwrap(), 2500);

    let (_, body) = raw(&base, "getStarTransactions", json!({"offset": 1})).await;
    let transactions = body["result"]["transactions"].as_array().unwrap();
    assert_eq!(transactions.len(), 1);
    let refund = &transactions[0];
    assert_eq!(refund["amount"], 400);
    assert_eq!(refund["receiver"]["type"], "user");
    assert_eq!(refund["receiver"]["user"]["id"], BUYER);
    assert!(refund.get("source").is_none());
}

#[tokio::test]
async fn get_updates_conflicts_with_an_active_webhook() {
    let (_emulator, base) = start(config()).await;
    let bot = client(&base);
    // Nothing listens there, which must not matter for the conflict.
    bot.execute(SetWebhook::new("http://127.0.0.1:9/hook"))
        .await
        .unwrap();
    let (status, body) = raw(&base, "getUpdates", json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(
        body,
        json!({
            "ok": false,
            "error_code": 409,
            "description": "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        })
    );
    assert_eq!(
        error_of(bot.execute(GetUpdates::default()).await).0,
        Some(409)
    );
    assert!(bot.execute(DeleteWebhook::default()).await.unwrap());
    assert!(bot.execute(GetUpdates::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn rate_limit_answers_429_and_tgbot_retries_through_it() {
    let (_emulator, base) = start(config()).await;
    let http = reqwest::Client::new();
    let set = |count: u32| {
        http.post(format!("{base}/control/rate-limit"))
            .json(&json!({"count": count, "retry_after": 1}))
            .send()
    };
    assert!(set(1).await.unwrap().status().is_success());
    let (status, body) = raw(&base, "getMe", json!({})).await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({
            "ok": false,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        })
    );
    // The limit is used up: the next call goes through.
    assert_eq!(raw(&base, "getMe", json!({})).await.0, 200);

    set(2).await.unwrap();
    let started = Instant::now();
    let bot = client(&base).execute(GetBot).await.unwrap();
    assert_eq!(bot.id, BOT_ID);
    assert!(started.elapsed() >= Duration::from_secs(2));
}

#[tokio::test]
async fn long_poll_waits_for_the_next_update() {
    let (emulator, base) = start(config()).await;
    let writer = emulator.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        writer.send_user_message(BUYER, "hi there").await.unwrap();
    });
    let started = Instant::now();
    let updates = client(&base)
        .execute(GetUpdates::default().with_timeout(Duration::from_secs(5)))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(updates.len(), 1);
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");

    // An empty poll holds for the whole timeout.
    let started = Instant::now();
    let (_, body) = raw(
        &base,
        "getUpdates",
        json!({"offset": updates[0].id + 1, "timeout": 1}),
    )
    .await;
    assert_eq!(body["result"], json!([]));
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn allowed_updates_filter_what_polling_returns() {
    let (emulator, base) = start(config()).await;
    emulator.send_user_message(BUYER, "ignored").await.unwrap();
    emulator
        .inject_update(json!({"callback_query": {
            "id": "42", "from": {"id": BUYER, "is_bot": false, "first_name": "Ada"},
            "chat_instance": "1", "data": "buy:1"
        }}))
        .await
        .unwrap();
    let (_, body) = raw(
        &base,
        "getUpdates",
        json!({"allowed_updates": ["callback_query"]}),
    )
    .await;
    let updates = body["result"].as_array().unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["update_id"], 2);
    assert_eq!(updates[0]["callback_query"]["data"], "buy:1");
    serde_json::from_value::<Update>(updates[0].clone()).unwrap();
}

#[tokio::test]
async fn send_message_and_document_are_recorded_per_chat() {
    let (emulator, base) = start(config()).await;
    let bot = client(&base);
    let keyboard = [[InlineKeyboardButton::for_web_app(
        "Open shop",
        WebAppInfo::from("https://shop.example/app"),
    )]];
    let sent = bot
        .execute(SendMessage::new(BUYER, "Welcome! Try /catalog").with_reply_markup(keyboard))
        .await
        .unwrap();
    assert_eq!(i64::from(sent.chat.get_id()), BUYER);

    let (status, body) = raw(
        &base,
        "sendMessage",
        json!({"chat_id": BUYER, "text": "Second", "parse_mode": "HTML"}),
    )
    .await;
    assert_eq!(status, 200);
    let message = &body["result"];
    assert_eq!(message["message_id"], 2);
    assert!(message["date"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(
        message["chat"],
        json!({"id": BUYER, "first_name": "Ada", "username": "ada_l", "type": "private"})
    );
    assert_eq!(
        message["from"],
        json!({"id": BOT_ID, "is_bot": true, "first_name": "Starfront",
               "username": "starfront_test_bot"})
    );
    assert_eq!(message["text"], "Second");

    let bytes = b"%PDF-1.7 receipt for order 42".to_vec();
    let document = bot
        .execute(
            SendDocument::new(
                BUYER,
                InputFile::from(
                    InputFileReader::new(std::io::Cursor::new(bytes.clone()))
                        .with_file_name("receipt-42.pdf"),
                ),
            )
            .with_caption("Your receipt"),
        )
        .await
        .unwrap();
    let MessageData::Document(doc) = &document.data else {
        panic!("expected a document, got {document:?}");
    };
    assert_eq!(doc.data.file_name.as_deref(), Some("receipt-42.pdf"));
    assert_eq!(doc.data.file_size, Some(bytes.len() as i64));
    assert_eq!(
        doc.caption.as_ref().map(|c| c.data.as_str()),
        Some("Your receipt")
    );

    // Resending by file_id reuses the stored file.
    let (_, again) = raw(
        &base,
        "sendDocument",
        json!({"chat_id": BUYER, "document": doc.data.file_id}),
    )
    .await;
    assert_eq!(
        again["result"]["document"]["file_id"],
        doc.data.file_id.as_str()
    );

    let log = emulator.chat_messages(BUYER).await;
    assert_eq!(log.len(), 4);
    assert_eq!(log[0].message["text"], "Welcome! Try /catalog");
    assert_eq!(
        log[0].message["entities"],
        json!([{"offset": 13, "length": 8, "type": "bot_command"}])
    );
    assert_eq!(
        log[0].reply_markup,
        Some(json!({"inline_keyboard": [[{"text": "Open shop",
            "web_app": {"url": "https://shop.example/app"}}]]}))
    );
    assert_eq!(
        log[0].message["reply_markup"],
        log[0].reply_markup.clone().unwrap()
    );
    assert_eq!(log[1].parse_mode.as_deref(), Some("HTML"));
    let file = log[2].file.as_ref().unwrap();
    assert_eq!(
        file.sha256.as_deref(),
        Some(hex::encode(Sha256::digest(&bytes)).as_str())
    );
    assert_eq!(file.mime_type.as_deref(), Some("application/pdf"));

    assert_eq!(
        error_of(bot.execute(SendMessage::new(424242, "hi")).await),
        (Some(400), "Bad Request: chat not found".to_owned())
    );
    let (status, empty) = raw(&base, "sendMessage", json!({"chat_id": BUYER, "text": ""})).await;
    assert_eq!(status, 400);
    assert_eq!(
        empty,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"})
    );
}

#[tokio::test]
async fn control_api_over_http_when_nested() {
    let emulator = Emulator::new(config());
    let base = serve(Router::new().nest("/emulator", emulator.router())).await;
    let control = format!("{base}/emulator/control");
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| http.post(format!("{control}{path}")).json(&body).send();

    let user: Value = post(
        "/users",
        json!({"id": 9001, "first_name": "Grace", "is_premium": true}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(user["stars"], 2500);
    post("/users/9001/stars", json!({"balance": 100}))
        .await
        .unwrap();
    let user: Value = http
        .get(format!("{control}/users/9001"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        user,
        json!({"id": 9001, "first_name": "Grace", "is_premium": true, "stars": 100})
    );
    assert_eq!(
        http.get(format!("{control}/users/1"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let update: Value = post("/users/9001/messages", json!({"text": "/start ref_abc"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(update["update_id"], 1);
    assert_eq!(update["message"]["text"], "/start ref_abc");
    assert_eq!(update["message"]["from"]["is_premium"], true);
    serde_json::from_value::<Update>(update).unwrap();

    let bot = Client::new(TOKEN)
        .unwrap()
        .with_host(format!("{base}/emulator"));
    let link = invoice_link(&bot, 150).await;
    let slug = link.trim_start_matches("https://t.me/$");
    let invoice: Value = http
        .get(format!("{control}/invoices/{slug}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(invoice["amount"], 150);
    assert_eq!(invoice["title"], "Nebula poster");
    assert_eq!(invoice["link"], link.as_str());

    let outcome: Value = post("/invoices/pay", json!({"slug": slug, "user_id": 9001}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        outcome,
        json!({"status": "insufficient_stars", "balance": 100, "amount": 150})
    );
    let outcome: Value = post("/invoices/cancel", json!({"link": link, "user_id": 9001}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outcome, json!({"status": "cancelled"}));

    let injected: Value = post("/updates", json!({"update_id": 999, "my_chat_member": {}}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(injected["update_id"], 2);
    let drops: Value = post("/webhook/drop", json!({"count": 3}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(drops["pending_drops"], 3);
    let transactions: Value = http
        .get(format!("{control}/transactions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(transactions, json!([]));
    let messages: Value = http
        .get(format!("{control}/chats/9001/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(messages, json!([]));
    // Unknown paths under the emulator answer like Telegram.
    let missing = http
        .get(format!("{base}/emulator/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// Bot API, createInvoiceLink: "subscription_period … Subscription price must no exceed 10000
/// Telegram Stars."
#[tokio::test]
async fn a_subscription_invoice_above_10000_stars_is_refused() {
    let (_emulator, base) = start(config()).await;
    let invoice = |amount: i64| {
        json!({
            "title": "Club", "description": "Monthly", "payload": "club", "currency": "XTR",
            "prices": [{ "label": "Month", "amount": amount }], "subscription_period": 2_592_000
        })
    };
    let (status, body) = raw(&base, "createInvoiceLink", invoice(10_001)).await;
    assert_eq!(
        (status, &body["description"]),
        (400, &json!("Bad Request: STARS_INVOICE_INVALID"))
    );
    let (status, body) = raw(&base, "createInvoiceLink", invoice(10_000)).await;
    assert_eq!(status, 200, "{body}");
}

/// Telegram ends a long poll when another getUpdates arrives: "Conflict: terminated by other
/// getUpdates request; make sure that only one bot instance is running".
#[tokio::test]
async fn a_second_get_updates_ends_the_first_with_409() {
    let (_emulator, base) = start(config()).await;
    let first = {
        let base = base.clone();
        tokio::spawn(async move { raw(&base, "getUpdates", json!({ "timeout": 5 })).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let (status, _) = raw(&base, "getUpdates", json!({ "timeout": 1 })).await;
    assert_eq!(status, 200);
    let (status, body) = first.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the first poll ended early"
    );
    assert_eq!(status, 409);
    assert_eq!(
        body["description"],
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    );
}

/// Bot API, Getting updates: updates "will not be kept longer than 24 hours".
#[tokio::test]
async fn updates_nobody_takes_within_24_hours_are_dropped() {
    let (emulator, base) = start(config()).await;
    emulator.send_user_message(BUYER, "early").await.unwrap();
    emulator.advance_clock(86_400 - 60).await.unwrap();
    emulator.send_user_message(BUYER, "later").await.unwrap();
    emulator.advance_clock(120).await.unwrap();
    let (_, body) = raw(&base, "getUpdates", json!({})).await;
    let texts: Vec<&str> = body["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["message"]["text"].as_str())
        .collect();
    assert_eq!(texts, ["later"]);
}

/// Bot API, Update: "If there are no new updates for at least a week, then identifier of the
/// next update will be chosen randomly instead of sequentially."
#[tokio::test]
async fn update_ids_restart_at_random_after_a_week_without_updates() {
    let (emulator, _base) = start(config()).await;
    let first = emulator.send_user_message(BUYER, "one").await.unwrap();
    let second = emulator.send_user_message(BUYER, "two").await.unwrap();
    assert_eq!(
        second["update_id"],
        first["update_id"].as_i64().unwrap() + 1
    );
    emulator.advance_clock(6 * 86_400).await.unwrap();
    let third = emulator.send_user_message(BUYER, "three").await.unwrap();
    assert_eq!(
        third["update_id"],
        second["update_id"].as_i64().unwrap() + 1,
        "within a week"
    );
    emulator.advance_clock(7 * 86_400).await.unwrap();
    let fourth = emulator.send_user_message(BUYER, "four").await.unwrap();
    let id = fourth["update_id"].as_i64().unwrap();
    assert!(
        id > 0 && id != third["update_id"].as_i64().unwrap() + 1,
        "{id}"
    );
    let fifth = emulator.send_user_message(BUYER, "five").await.unwrap();
    assert_eq!(fifth["update_id"], id + 1, "then sequential again");
}

/// Bot API, setWebhook: "In case of an unsuccessful request … we will repeat the request and
/// give up after a reasonable amount of attempts."
#[tokio::test]
async fn webhook_delivery_gives_up_after_repeated_failures() {
    let (emulator, base) = start(EmulatorConfig {
        webhook_max_attempts: 3,
        ..config()
    })
    .await;
    let app = Router::new().route(
        "/hook",
        post(|| async { axum::http::StatusCode::INTERNAL_SERVER_ERROR }),
    );
    let hook_base = serve(app).await;
    client(&base)
        .execute(SetWebhook::new(format!("{hook_base}/hook")))
        .await
        .unwrap();
    emulator.send_user_message(BUYER, "lost").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while emulator.delivery_stats().await.given_up < 1 {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            emulator.delivery_stats().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = emulator.delivery_stats().await;
    assert_eq!((stats.delivered, stats.failed, stats.given_up), (0, 3, 1));
    let (_, info) = raw(&base, "getWebhookInfo", json!({})).await;
    assert_eq!(info["result"]["pending_update_count"], 0);
}

#[tokio::test]
async fn groups_refuse_web_app_buttons_and_take_link_buttons() {
    let (emulator, base) = start(config()).await;
    let bot = client(&base);
    let group = emulator
        .create_chat(NewChat::new(ChatType::Supergroup, "Readers", vec![BUYER]))
        .await
        .unwrap();
    assert!(group.id < -1_000_000_000_000, "{}", group.id);
    let web_app = [[InlineKeyboardButton::for_web_app(
        "Open",
        WebAppInfo::from("https://shop.example/"),
    )]];

    assert_eq!(
        error_of(
            bot.execute(SendMessage::new(group.id, "New book!").with_reply_markup(web_app.clone()))
                .await
        ),
        (Some(400), "Bad Request: BUTTON_TYPE_INVALID".to_owned())
    );
    assert!(emulator.chat_messages(group.id).await.is_empty());
    // The same button in a private chat is what Telegram allows.
    bot.execute(SendMessage::new(BUYER, "New book!").with_reply_markup(web_app))
        .await
        .unwrap();
    let link = [[InlineKeyboardButton::for_url(
        "Open",
        "https://t.me/starfront_test_bot?startapp=p_book",
    )]];
    let sent = bot
        .execute(SendMessage::new(group.id, "New book!").with_reply_markup(link))
        .await
        .unwrap();
    assert_eq!(i64::from(sent.chat.get_id()), group.id);
    let kept = emulator.chat_messages(group.id).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].message["chat"],
        json!({ "id": group.id, "title": "Readers", "type": "supergroup" })
    );

    // Members write in the group; others cannot, and nobody writes in a channel.
    let update = emulator
        .send_message_in(BUYER, Some(group.id), "/start@starfront_test_bot")
        .await
        .unwrap();
    assert_eq!(update["message"]["chat"]["id"], group.id);
    assert_eq!(update["message"]["from"]["id"], BUYER);
    emulator
        .set_user(EmulatedUser::new(BUYER + 1, "Bo"))
        .await
        .unwrap();
    assert!(emulator
        .send_message_in(BUYER + 1, Some(group.id), "hi")
        .await
        .is_err());
    let channel = emulator
        .create_chat(NewChat::new(ChatType::Channel, "News", vec![BUYER]))
        .await
        .unwrap();
    assert_eq!(channel.to_json()["type"], "channel");
    assert!(emulator
        .send_message_in(BUYER, Some(channel.id), "hi")
        .await
        .is_err());
    assert!(emulator
        .create_chat(NewChat::new(ChatType::Group, "Ghosts", vec![4242]))
        .await
        .is_err());
}

#[tokio::test]
async fn inline_queries_reach_the_bot_and_answers_are_checked_and_kept() {
    let (emulator, base) = start(config()).await;
    let bot = client(&base);
    let me = bot.execute(GetBot).await.unwrap();
    assert!(me.supports_inline_queries);

    let query = emulator
        .inline_query(
            BUYER,
            &InlineRequest {
                query: "sourdough".into(),
                chat_type: Some("supergroup".into()),
                ..InlineRequest::default()
            },
        )
        .await
        .unwrap();
    let updates = bot.execute(GetUpdates::default()).await.unwrap();
    let UpdateType::InlineQuery(received) = &updates[0].update_type else {
        panic!("{updates:?}");
    };
    assert_eq!(received.id, query.id);
    assert_eq!(received.query, "sourdough");
    assert_eq!(received.offset, "");
    assert_eq!(
        received.chat_type,
        Some(tgbot::types::InlineQueryChatType::Supergroup)
    );
    assert_eq!(i64::from(received.from.id), BUYER);

    let card = |id: &str| {
        InlineQueryResultArticle::new(
            id,
            InputMessageContentText::new("Sourdough at Home"),
            "Sourdough at Home",
        )
        .with_description("⭐ 120")
        .with_reply_markup([[InlineKeyboardButton::for_url(
            "Open",
            "https://t.me/starfront_test_bot?startapp=p_sourdough",
        )]])
    };
    assert_eq!(
        error_of(
            bot.execute(AnswerInlineQuery::new(
                query.id.clone(),
                [card("1"), card("1")]
            ))
            .await
        ),
        (Some(400), "Bad Request: RESULT_ID_DUPLICATE".to_owned())
    );
    assert!(emulator
        .inline_answer(&query.id)
        .await
        .unwrap()
        .answer
        .is_none());
    assert!(bot
        .execute(
            AnswerInlineQuery::new(query.id.clone(), [card("1"), card("2")]).with_cache_time(0)
        )
        .await
        .unwrap());
    let answer = emulator
        .inline_answer(&query.id)
        .await
        .unwrap()
        .answer
        .unwrap();
    assert_eq!(answer["cache_time"], 0);
    assert_eq!(answer["results"][1]["id"], "2");
    assert_eq!(answer["results"][0]["title"], "Sourdough at Home");
    assert_eq!(
        answer["results"][0]["reply_markup"]["inline_keyboard"][0][0]["url"],
        "https://t.me/starfront_test_bot?startapp=p_sourdough"
    );

    // Answered once; unknown ids and malformed answers are refused with Telegram's words.
    let too_late = (
        Some(400),
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
            .to_owned(),
    );
    assert_eq!(
        error_of(
            bot.execute(AnswerInlineQuery::new(query.id.clone(), [card("3")]))
                .await
        ),
        too_late
    );
    assert_eq!(
        error_of(
            bot.execute(AnswerInlineQuery::new("12345", [card("3")]))
                .await
        ),
        too_late
    );
    let second = emulator
        .inline_query(BUYER, &InlineRequest::default())
        .await
        .unwrap();
    let fifty_one: Vec<_> = (0..51).map(|i| card(&i.to_string())).collect();
    assert_eq!(
        error_of(
            bot.execute(AnswerInlineQuery::new(second.id.clone(), fifty_one))
                .await
        ),
        (Some(400), "Bad Request: RESULTS_TOO_MUCH".to_owned())
    );
    let (status, body) = raw(
        &base,
        "answerInlineQuery",
        json!({ "inline_query_id": second.id, "results": [
            { "type": "article", "id": "a", "title": "No content" }
        ] }),
    )
    .await;
    assert_eq!(
        (status, body["description"].as_str()),
        (400, Some("Bad Request: Message must be non-empty"))
    );

    // Over HTTP, as the dev preview and the shop's tests drive it.
    let http = reqwest::Client::new();
    let made: Value = http
        .post(format!("{base}/control/users/{BUYER}/inline"))
        .json(&json!({ "query": "rust" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(made["query"], "rust");
    assert_eq!(made["answer"], Value::Null);
    let shown = http
        .get(format!(
            "{base}/control/inline/{}",
            made["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    let unknown = http
        .get(format!("{base}/control/inline/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}
