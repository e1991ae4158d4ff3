//! The dev preview's WebApp stand-in: signed in as the chosen demo user, only in dev preview.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use server::config::{DEV_ADMIN_ID, DEV_BOT_TOKEN};
use server::telegram::init_data::Validator;
use tower::ServiceExt;

async fn webapp_js(state: &server::http::AppState, cookie: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get("/dev/webapp.js");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let res = server::http::router(state.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn dev_config(js: &str) -> serde_json::Value {
    let json = js
        .strip_prefix("window.__STARFRONT_DEV__ = ")
        .and_then(|rest| rest.split_once(";\n"))
        .map(|(json, _)| json)
        .expect("the preview's configuration comes first");
    serde_json::from_str(json).unwrap()
}

async fn get_text(state: &server::http::AppState, path: &str) -> (StatusCode, String) {
    let res = server::http::router(state.clone())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// `scripts/dev.sh --watch` restarts the shop after every rebuild: with `DEV_RELOAD` a page knows
/// which run of the shop served it and can ask which one runs now; without it, neither is said.
#[tokio::test]
async fn with_reload_on_a_page_knows_which_run_of_the_shop_served_it() {
    let dir = tempfile::tempdir().unwrap();
    let quiet = server::prepare(&common::config(&dir, &[])).await.unwrap();
    let (_, js) = webapp_js(&quiet, None).await;
    assert_eq!(dev_config(&js)["reload"], serde_json::Value::Null);
    assert_eq!(get_text(&quiet, "/dev/boot").await.0, StatusCode::NOT_FOUND);

    let dir = tempfile::tempdir().unwrap();
    let watched = server::prepare(&common::config(&dir, &[("DEV_RELOAD", "1")]))
        .await
        .unwrap();
    let (_, js) = webapp_js(&watched, None).await;
    let (status, boot) = get_text(&watched, "/dev/boot").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!boot.is_empty());
    assert_eq!(dev_config(&js)["reload"], boot.as_str());
    assert!(js.contains("/dev/boot"), "the stand-in polls it");
}

#[tokio::test]
async fn the_stand_in_signs_in_the_chosen_demo_user() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    let validator = Validator::new(Some(DEV_BOT_TOKEN), None);

    let (status, js) = webapp_js(&state, Some("theme=dark; starfront_dev_user=2002")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.contains("openInvoice"), "the WebApp stand-in follows");
    let dev = dev_config(&js);
    let data = validator
        .validate(dev["initData"].as_str().unwrap(), clock::unix_now())
        .unwrap();
    assert_eq!(data.user.id, 2002);
    assert_eq!(data.user.language_code.as_deref(), Some("ru"));
    // The emulator now knows the user, as Telegram knows whoever opens the app.
    let emulator = state.emulator.as_ref().unwrap();
    assert_eq!(emulator.balance(2002).await.unwrap(), 2500);

    // No cookie: the first demo buyer. "none": nobody, like a browser outside Telegram.
    let (_, js) = webapp_js(&state, None).await;
    assert_eq!(dev_config(&js)["user"]["id"], 2001);
    let (_, js) = webapp_js(&state, Some("starfront_dev_user=none")).await;
    assert_eq!(dev_config(&js)["initData"], "");
}

#[tokio::test]
async fn without_dev_preview_there_is_no_stand_in() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(&dir, &[("DEV_PREVIEW", "0"), ("BOT_TOKEN", DEV_BOT_TOKEN)]);
    let state = server::prepare(&config).await.unwrap();
    let (status, _) = webapp_js(&state, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let page = server::http::router(state.clone())
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("telegram-web-app.js"), "{html}");
    assert!(!html.contains("/dev/webapp.js"));
}

async fn call(
    state: &server::http::AppState,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = match body {
        Some(json) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let res = server::http::router(state.clone())
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

async fn init_data_of(state: &server::http::AppState, user: i64) -> String {
    let (_, js) = webapp_js(state, Some(&format!("starfront_dev_user={user}"))).await;
    dev_config(&js)["initData"].as_str().unwrap().to_owned()
}

/// A cancelled order of Alex's: refunding it needs the right to refund (else 403) and then
/// fails only because it was never paid (409).
async fn refund_status(state: &server::http::AppState, as_user: i64) -> StatusCode {
    server::on_db!(&state.db, |pool| sqlx::query(
        "INSERT INTO users (id, first_name) VALUES (2001, 'Alex') ON CONFLICT DO NOTHING"
    )
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    server::on_db!(&state.db, |pool| sqlx::query(
        "INSERT INTO orders (public_id, user_id, product_id, amount_stars, status, expires_at)
         VALUES ('devpreview-admin-check-0001', 2001, (SELECT min(id) FROM products), 10,
                 'cancelled', 0)
         ON CONFLICT DO NOTHING",
    )
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let auth = format!("tma {}", init_data_of(state, as_user).await);
    let uri = "/api/orders/devpreview-admin-check-0001/refund";
    call(state, "POST", uri, &[("authorization", &auth)], None)
        .await
        .0
}

#[tokio::test]
async fn the_demo_admin_is_signed_in_and_an_admin_only_in_dev_preview() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    let validator = Validator::new(Some(DEV_BOT_TOKEN), None);
    let data = validator
        .validate(&init_data_of(&state, DEV_ADMIN_ID).await, clock::unix_now())
        .unwrap();
    assert_eq!(data.user.id, DEV_ADMIN_ID);
    let (_, js) = webapp_js(&state, None).await;
    let labels: Vec<String> = dev_config(&js)["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["label"].as_str().unwrap().to_owned())
        .collect();
    assert!(labels.iter().any(|l| l.contains("admin")), "{labels:?}");

    // The admin may refund anyone's order (it then fails only as unpaid); a buyer may not.
    assert_eq!(
        refund_status(&state, DEV_ADMIN_ID).await,
        StatusCode::CONFLICT
    );
    assert_eq!(refund_status(&state, 2002).await, StatusCode::FORBIDDEN);

    // ADMIN_IDS names the admins itself: the demo admin is then an ordinary user.
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(&dir, &[("ADMIN_IDS", "42")]);
    let state = server::prepare(&config).await.unwrap();
    assert_eq!(
        refund_status(&state, DEV_ADMIN_ID).await,
        StatusCode::FORBIDDEN
    );

    // Outside dev preview nobody is an admin unless ADMIN_IDS says so.
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(&dir, &[("DEV_PREVIEW", "0"), ("BOT_TOKEN", DEV_BOT_TOKEN)]);
    let state = server::prepare(&config).await.unwrap();
    assert!(state.admin_ids.is_empty());
}

#[tokio::test]
async fn a_deep_link_start_param_is_signed_into_the_init_data() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    let validator = Validator::new(Some(DEV_BOT_TOKEN), None);
    let res = server::http::router(state.clone())
        .oneshot(
            Request::get("/dev/webapp.js")
                .header(
                    header::REFERER,
                    "http://127.0.0.1:3000/?startapp=p_sourdough-at-home",
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let js =
        String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
    let dev = dev_config(&js);
    assert_eq!(dev["startParam"], "p_sourdough-at-home");
    let data = validator
        .validate(dev["initData"].as_str().unwrap(), clock::unix_now())
        .unwrap();
    assert_eq!(data.start_param.as_deref(), Some("p_sourdough-at-home"));

    // Characters Telegram would refuse are not passed on.
    let res = server::http::router(state.clone())
        .oneshot(
            Request::get("/dev/webapp.js")
                .header(
                    header::REFERER,
                    "http://127.0.0.1:3000/?startapp=%3Cscript%3E",
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let js =
        String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
    assert!(dev_config(&js)["startParam"].is_null());
}

/// Creates a Stars invoice through the emulated Bot API, as the shop would.
async fn invoice_link(state: &server::http::AppState, amount: i64) -> String {
    let uri = format!("/emulator/bot{DEV_BOT_TOKEN}/createInvoiceLink");
    let body = serde_json::json!({
        "title": "Test book", "description": "A book", "payload": "order:test",
        "currency": "XTR", "prices": [{ "label": "Book", "amount": amount }],
    });
    let (status, reply) = call(state, "POST", &uri, &[], Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply["result"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_failed_payment_moves_no_stars_and_tells_the_bot_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    init_data_of(&state, 2001).await; // Alex opens the app
    let link = invoice_link(&state, 120).await;

    let body = serde_json::json!({ "link": link, "user_id": 2001 });
    let (status, outcome) = call(
        &state,
        "POST",
        "/emulator/control/invoices/fail",
        &[],
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outcome["status"], "failed");
    let emulator = state.emulator.as_ref().unwrap();
    assert_eq!(emulator.balance(2001).await.unwrap(), 2500);
    assert!(emulator.transactions().await.is_empty());
    // No pre_checkout_query, no successful_payment: the bot's update queue is empty.
    let uri = format!("/emulator/bot{DEV_BOT_TOKEN}/getUpdates");
    let (_, updates) = call(&state, "POST", &uri, &[], Some(serde_json::json!({}))).await;
    assert_eq!(updates["result"], serde_json::json!([]), "{updates}");

    // Unknown invoices and users are refused, as for pay and cancel.
    let body = serde_json::json!({ "slug": "nope", "user_id": 2001 });
    let (status, _) = call(
        &state,
        "POST",
        "/emulator/control/invoices/fail",
        &[],
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let body = serde_json::json!({ "link": link, "user_id": 4242 });
    let (status, _) = call(
        &state,
        "POST",
        "/emulator/control/invoices/fail",
        &[],
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_top_up_credits_the_demo_user() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    init_data_of(&state, 2002).await;
    let emulator = state.emulator.as_ref().unwrap();
    emulator.set_balance(2002, 5).await.unwrap();
    let add = |amount: i64| serde_json::json!({ "amount": amount });
    let uri = "/emulator/control/users/2002/stars/add";
    let (status, user) = call(&state, "POST", uri, &[], Some(add(1000))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["stars"], 1005);
    assert_eq!(emulator.balance(2002).await.unwrap(), 1005);
    for bad in [0, -10] {
        let (status, _) = call(&state, "POST", uri, &[], Some(add(bad))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, _) = call(
        &state,
        "POST",
        "/emulator/control/users/4242/stars/add",
        &[],
        Some(add(1)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(emulator.balance(2002).await.unwrap(), 1005);
}

#[tokio::test]
async fn the_bot_chat_lists_what_the_bot_sent_newest_last() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    init_data_of(&state, 2001).await;
    for text in ["first", "second"] {
        let uri = format!("/emulator/bot{DEV_BOT_TOKEN}/sendMessage");
        let body = serde_json::json!({ "chat_id": 2001, "text": text });
        let (status, reply) = call(&state, "POST", &uri, &[], Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
    }
    let (status, sent) = call(
        &state,
        "GET",
        "/emulator/control/chats/2001/messages",
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let texts: Vec<&str> = sent
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first", "second"]);
    let (_, other) = call(
        &state,
        "GET",
        "/emulator/control/chats/2002/messages",
        &[],
        None,
    )
    .await;
    assert_eq!(other, serde_json::json!([]));
}

#[test]
fn the_standalone_emulator_plays_the_dev_preview_bot() {
    // A shop with DEV_PREVIEW and TELEGRAM_API_URL pointing at `telegram-emulator` must find
    // its own bot there without either side being told the token.
    assert_eq!(telegram_emulator::DEV_BOT_TOKEN, DEV_BOT_TOKEN);
}

/// The fields of init data, percent-decoded.
fn fields(init_data: &str) -> std::collections::BTreeMap<String, String> {
    url::form_urlencoded::parse(init_data.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn init_data_carries_a_signature_chat_type_and_chat_instance_like_telegrams() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    let emulator = state.emulator.as_ref().unwrap();
    let data = init_data_of(&state, 2001).await;
    let f = fields(&data);
    assert_eq!(f["chat_type"], "sender", "{data}");
    let chat = f["chat_instance"].parse::<i64>().expect("a 64-bit chat id");
    assert!(
        f.contains_key("hash") && f.contains_key("signature"),
        "{data}"
    );
    // One chat keeps its chat_instance; another user's chat has its own.
    assert_eq!(
        fields(&init_data_of(&state, 2001).await)["chat_instance"],
        chat.to_string()
    );
    assert_ne!(
        fields(&init_data_of(&state, 2002).await)["chat_instance"],
        chat.to_string()
    );

    let now = clock::unix_now();
    // The bot checks its hash (which covers the signature too)…
    let first_party = Validator::new(Some(DEV_BOT_TOKEN), None);
    assert_eq!(first_party.validate(&data, now).unwrap().user.id, 2001);
    // …and a third party, without the token, checks the signature with the published key.
    let (status, published) = call(&state, "GET", "/emulator/control/webapp", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        published["public_key"],
        hex::encode(emulator.webapp_public_key())
    );
    let bot_id = published["bot_id"].as_i64().unwrap();
    let key: [u8; 32] = hex::decode(published["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let third_party = Validator::new(None, None).with_third_party_key(bot_id, key);
    let checked = third_party.validate(&data, now).unwrap();
    assert_eq!(checked.user.id, 2001);
    assert_eq!(checked.chat_type.as_deref(), Some("sender"));
    for tampered in [
        data.replace("chat_type=sender", "chat_type=group"),
        data.replace(&format!("chat_instance={chat}"), "chat_instance=1"),
    ] {
        assert_eq!(
            third_party.validate(&tampered, now),
            Err(server::telegram::init_data::InitDataError::SignatureInvalid),
            "{tampered}"
        );
    }
    // Another bot's id does not verify.
    let other_bot = Validator::new(None, None).with_third_party_key(bot_id + 1, key);
    assert!(other_bot.validate(&data, now).is_err());

    // The shop takes it: by the hash, and by the signature alone when the hash is not its own.
    let auth = format!("tma {data}");
    let (status, me) = call(&state, "GET", "/api/me", &[("authorization", &auth)], None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], 2001);
    let foreign_hash = format!(
        "tma {}",
        data.replace(
            &format!("hash={}", f["hash"]),
            &format!("hash={}", "0".repeat(64))
        )
    );
    let (status, me) = call(
        &state,
        "GET",
        "/api/me",
        &[("authorization", &foreign_hash)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let forged = format!(
        "tma {}",
        data.replace("chat_type=sender", "chat_type=group")
    );
    let (status, _) = call(
        &state,
        "GET",
        "/api/me",
        &[("authorization", &forged)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_payment_sheet_reports_pending_while_the_bot_has_not_answered() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    init_data_of(&state, 2001).await; // Alex opens the app
    let link = invoice_link(&state, 120).await;
    let emulator = state.emulator.as_ref().unwrap();

    // Nobody answers the pre-checkout query yet: the sheet closes with "pending".
    let body = serde_json::json!({ "link": link, "user_id": 2001, "pending_after_ms": 200 });
    let (status, outcome) = call(
        &state,
        "POST",
        "/emulator/control/invoices/pay",
        &[],
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outcome["status"], "pending", "{outcome}");
    assert_eq!(
        emulator.balance(2001).await.unwrap(),
        2500,
        "nothing charged yet"
    );

    // The payment goes on: the bot answers within Telegram's 10 s and it completes.
    let uri = format!("/emulator/bot{DEV_BOT_TOKEN}/getUpdates");
    let (_, updates) = call(&state, "POST", &uri, &[], Some(serde_json::json!({}))).await;
    let query = updates["result"][0]["pre_checkout_query"]["id"].clone();
    assert!(query.is_string(), "{updates}");
    let uri = format!("/emulator/bot{DEV_BOT_TOKEN}/answerPreCheckoutQuery");
    let answer = serde_json::json!({ "pre_checkout_query_id": query, "ok": true });
    let (status, reply) = call(&state, "POST", &uri, &[], Some(answer)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    common::wait_for("the payment after pending", async || {
        emulator.balance(2001).await.unwrap() == 2380
    })
    .await;
    assert_eq!(emulator.transactions().await.len(), 1);

    // A payment that settles in time is reported as it ends, not as pending.
    let link = invoice_link(&state, 100).await;
    emulator.set_balance(2001, 5).await.unwrap();
    let body = serde_json::json!({ "link": link, "user_id": 2001, "pending_after_ms": 200 });
    let (_, outcome) = call(
        &state,
        "POST",
        "/emulator/control/invoices/pay",
        &[],
        Some(body),
    )
    .await;
    assert_eq!(outcome["status"], "insufficient_stars", "{outcome}");
}
