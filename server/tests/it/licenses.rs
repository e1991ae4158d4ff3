//! License keys through the emulator: a generated key per purchase in the creator's pattern, or
//! one drawn from the creator's pool; the key in the library and in the bot's message; the
//! public check (valid, uses, the order's state) for this product only, rate-limited; a refund
//! disables the key; the studio lists keys with their states, warns when a pool runs low, and an
//! empty pool never fails a purchase: the order waits and gets its key when keys are added.

use crate::common::{wait_for, TestApp};

use reqwest::Method;
use serde_json::{json, Value};

const RUST_BOOK: &str = "pocket-guide-to-rust"; // by creator 1001
const WATERCOLOUR: &str = "watercolour-basics"; // by creator 1003
const MIRA: i64 = 1001;
const THEO: i64 = 1003;

/// The studio's entry for product `slug`, as `user` sees it.
async fn keys_of(app: &TestApp, user: i64, slug: &str) -> Value {
    let (status, list) = app
        .call(user, Method::GET, "/api/studio/licenses", None)
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_slug"] == slug)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn configure(
    app: &TestApp,
    user: i64,
    slug: &str,
    mode: &str,
    format: Option<&str>,
) -> (u16, Value) {
    let id = app.product_id(slug).await;
    app.call(
        user,
        Method::PUT,
        &format!("/api/studio/licenses/{id}"),
        Some(json!({ "mode": mode, "format": format })),
    )
    .await
}

async fn add_keys(app: &TestApp, slug: &str, keys: &str) -> (u16, Value) {
    let id = app.product_id(slug).await;
    app.call(
        MIRA,
        Method::POST,
        &format!("/api/studio/licenses/{id}/pool"),
        Some(json!({ "keys": keys })),
    )
    .await
}

async fn verify(app: &TestApp, slug: &str, key: &str) -> (u16, Value) {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("product", slug), ("key", key)])
        .finish();
    let res = app
        .http
        .get(format!("{}/api/licenses/verify?{query}", app.base))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// `buyer`'s library entry for `slug` (null when they own it no more).
async fn library_item(app: &TestApp, buyer: i64, slug: &str) -> Value {
    let res = app
        .as_user(buyer, Method::GET, "/api/library")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let items: Value = res.json().await.unwrap();
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["slug"] == slug)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn key_of(app: &TestApp, buyer: i64, slug: &str) -> String {
    library_item(app, buyer, slug).await["license_key"]
        .as_str()
        .unwrap_or_else(|| panic!("{buyer} has no key for {slug}"))
        .to_owned()
}

/// Waits until the bot told `buyer` something containing `text`.
async fn told(app: &TestApp, buyer: i64, text: &str) {
    wait_for(&format!("{buyer} to be told {text}"), async || {
        app.chat(buyer)
            .await
            .iter()
            .any(|m| m.to_string().contains(text))
    })
    .await;
}

async fn keys_in_db(app: &TestApp, order: &str) -> i64 {
    server::on_db!(&app.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM license_keys k JOIN orders o ON o.id = k.order_id
         WHERE o.public_id = $1"
    )
    .bind(order)
    .fetch_one(pool)
    .await)
    .unwrap()
}

fn in_pattern(key: &str, pattern: &str) -> bool {
    key.len() == pattern.len()
        && key.chars().zip(pattern.chars()).all(|(k, p)| match p {
            'X' => server::licenses::ALPHABET.contains(&(k as u8)),
            p => k == p,
        })
}

#[tokio::test]
async fn generated_keys_are_issued_once_per_purchase_verified_and_disabled_by_a_refund() {
    let app = TestApp::with_creators(&[]).await;
    let (alex, dasha) = (4101, 4102);
    // Only the product's creator picks its keys, and only a sound pattern.
    let (status, _) = configure(&app, THEO, RUST_BOOK, "generated", None).await;
    assert_eq!(status, 403);
    for bad in ["XXXX", "sf-xxxx-xxxx-xxxx", "XXXX XXXX XXXX"] {
        let (status, body) = configure(&app, MIRA, RUST_BOOK, "generated", Some(bad)).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.to_string().contains("at least 8 X"), "{body}");
    }
    // Without keys, a purchase gets none.
    app.buy(4100, RUST_BOOK).await;
    assert_eq!(
        library_item(&app, 4100, RUST_BOOK).await["license_key"],
        Value::Null
    );
    let pattern = "SF-XXXX-XXXX-XXXX";
    let (status, list) = configure(&app, MIRA, RUST_BOOK, "generated", Some(pattern)).await;
    assert_eq!(status, 200, "{list}");

    let order = app.buy(alex, RUST_BOOK).await;
    let key = key_of(&app, alex, RUST_BOOK).await;
    assert!(in_pattern(&key, pattern), "{key}");
    assert_eq!(keys_in_db(&app, &order).await, 1, "one key per order");
    told(&app, alex, &key).await;
    let product = keys_of(&app, MIRA, RUST_BOOK).await;
    assert_eq!(product["mode"], "generated");
    assert_eq!(
        (product["issued"].as_i64(), product["disabled"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(product["keys"][0]["state"], "issued");
    assert_eq!(product["keys"][0]["order"], order.as_str());
    assert_eq!(
        keys_of(&app, THEO, RUST_BOOK).await,
        Value::Null,
        "not Theo's"
    );

    // The public check: valid, counted, and the order's state.
    let (status, answer) = verify(&app, RUST_BOOK, &key).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({ "valid": true, "uses": 1, "order_state": "paid" })
    );
    let (_, answer) = verify(&app, RUST_BOOK, &format!("  {key} ")).await;
    assert_eq!(answer["uses"], 2);
    // Not for another product, nor an unknown or empty key: not valid, and no error.
    for (slug, probe) in [
        (WATERCOLOUR, key.as_str()),
        (RUST_BOOK, "SF-AAAA-AAAA-AAAA"),
        (RUST_BOOK, ""),
        ("no-such-product", key.as_str()),
    ] {
        let (status, answer) = verify(&app, slug, probe).await;
        assert_eq!(status, 200, "{slug} {probe}");
        assert_eq!(
            answer,
            json!({ "valid": false, "uses": 0, "order_state": null }),
            "{slug} {probe}"
        );
    }

    // Another buyer gets another key.
    app.buy(dasha, RUST_BOOK).await;
    let other = key_of(&app, dasha, RUST_BOOK).await;
    assert_ne!(other, key);

    // A refund disables the key: it verifies no more, and the studio says so.
    app.refund_as(MIRA, &order).await;
    let (_, answer) = verify(&app, RUST_BOOK, &key).await;
    assert_eq!(
        answer,
        json!({ "valid": false, "uses": 3, "order_state": "refunded" })
    );
    assert_eq!(library_item(&app, alex, RUST_BOOK).await, Value::Null);
    let product = keys_of(&app, MIRA, RUST_BOOK).await;
    assert_eq!(
        (product["issued"].as_i64(), product["disabled"].as_i64()),
        (Some(1), Some(1))
    );
    let states: Vec<(String, String)> = product["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["code"].as_str().unwrap().to_owned(),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        states.contains(&(key.clone(), "disabled".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&(other.clone(), "issued".into())),
        "{states:?}"
    );
    assert_eq!(verify(&app, RUST_BOOK, &other).await.1["valid"], true);

    // Buying again after the refund: a new order, a new key; the old one stays disabled.
    let again = app.buy(alex, RUST_BOOK).await;
    assert_eq!(keys_in_db(&app, &again).await, 1);
    let renewed = key_of(&app, alex, RUST_BOOK).await;
    assert_ne!(renewed, key);
    assert_eq!(verify(&app, RUST_BOOK, &key).await.1["valid"], false);
    assert_eq!(verify(&app, RUST_BOOK, &renewed).await.1["valid"], true);
}

#[tokio::test]
async fn pool_keys_are_drawn_in_order_warned_when_low_and_an_empty_pool_makes_orders_wait() {
    let app = TestApp::with_creators(&[]).await;
    let (status, _) = configure(&app, MIRA, RUST_BOOK, "pool", None).await;
    assert_eq!(status, 200);
    let (status, body) = add_keys(&app, RUST_BOOK, " \n\n").await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = add_keys(&app, RUST_BOOK, "POOL-1\nPOOL-2\n\nPOOL-1\n  POOL-3  \r\n").await;
    assert_eq!(status, 200);
    let product = keys_of(&app, MIRA, RUST_BOOK).await;
    assert_eq!(product["available"], 3, "blank lines and repeats skipped");
    assert_eq!(product["low"], true, "fewer than 5 left");
    assert!(product["keys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["state"] == "available"));
    // A key still in the pool is nobody's: it does not verify.
    assert_eq!(verify(&app, RUST_BOOK, "POOL-1").await.1["valid"], false);

    app.buy(4201, RUST_BOOK).await;
    assert_eq!(key_of(&app, 4201, RUST_BOOK).await, "POOL-1");
    told(&app, 4201, "POOL-1").await;
    let (_, _) = add_keys(&app, RUST_BOOK, "POOL-1\nPOOL-2").await;
    assert_eq!(
        keys_of(&app, MIRA, RUST_BOOK).await["available"],
        2,
        "known keys skipped"
    );
    app.buy(4202, RUST_BOOK).await;
    app.buy(4203, RUST_BOOK).await;
    assert_eq!(key_of(&app, 4202, RUST_BOOK).await, "POOL-2");
    assert_eq!(key_of(&app, 4203, RUST_BOOK).await, "POOL-3");
    assert_eq!(
        verify(&app, RUST_BOOK, "POOL-3").await.1,
        json!({ "valid": true, "uses": 1, "order_state": "paid" })
    );

    // The pool is empty: the purchase still goes through, and the buyer waits for a key.
    let waiting = app.buy(4204, RUST_BOOK).await;
    let item = library_item(&app, 4204, RUST_BOOK).await;
    assert_eq!(item["license_key"], Value::Null);
    assert_eq!(item["license_pending"], true);
    told(&app, 4204, "license key is on its way").await;
    let refunded_waiting = app.buy(4205, RUST_BOOK).await;
    let product = keys_of(&app, MIRA, RUST_BOOK).await;
    assert_eq!(
        (product["available"].as_i64(), product["waiting"].as_i64()),
        (Some(0), Some(2))
    );
    // A refunded order waits no more.
    app.refund_as(MIRA, &refunded_waiting).await;
    assert_eq!(keys_of(&app, MIRA, RUST_BOOK).await["waiting"], 1);

    // Keys added: the waiting buyer gets the first, the rest stay in the pool.
    let (status, _) = add_keys(&app, RUST_BOOK, "POOL-4\nPOOL-5").await;
    assert_eq!(status, 200);
    assert_eq!(key_of(&app, 4204, RUST_BOOK).await, "POOL-4");
    told(&app, 4204, "is ready: POOL-4").await;
    assert_eq!(
        library_item(&app, 4204, RUST_BOOK).await["license_pending"],
        false
    );
    assert_eq!(keys_in_db(&app, &waiting).await, 1);
    assert_eq!(keys_in_db(&app, &refunded_waiting).await, 0);
    let product = keys_of(&app, MIRA, RUST_BOOK).await;
    assert_eq!(
        (product["available"].as_i64(), product["waiting"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(product["low"], true);
    // Five or more left: no warning.
    add_keys(&app, RUST_BOOK, "POOL-6\nPOOL-7\nPOOL-8\nPOOL-9").await;
    assert_eq!(keys_of(&app, MIRA, RUST_BOOK).await["low"], false);
    // Another creator cannot fill Mira's pool.
    let id = app.product_id(RUST_BOOK).await;
    let (status, _) = app
        .call(
            THEO,
            Method::POST,
            &format!("/api/studio/licenses/{id}/pool"),
            Some(json!({ "keys": "THEO-1" })),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_product_switched_to_generated_keys_serves_its_waiting_orders() {
    let app = TestApp::with_creators(&[]).await;
    configure(&app, MIRA, RUST_BOOK, "pool", None).await;
    app.buy(4301, RUST_BOOK).await;
    assert_eq!(
        library_item(&app, 4301, RUST_BOOK).await["license_pending"],
        true
    );
    let (status, _) = configure(&app, MIRA, RUST_BOOK, "generated", None).await;
    assert_eq!(status, 200);
    let key = key_of(&app, 4301, RUST_BOOK).await;
    assert!(in_pattern(&key, server::licenses::DEFAULT_FORMAT), "{key}");
}

#[tokio::test]
async fn the_public_check_is_rate_limited() {
    let app = TestApp::with_creators(&[("RATE_LIMIT_VERIFY_PER_MIN", "3")]).await;
    for _ in 0..3 {
        assert_eq!(verify(&app, RUST_BOOK, "ANY").await.0, 200);
    }
    let res = app
        .http
        .get(format!(
            "{}/api/licenses/verify?product={RUST_BOOK}&key=ANY",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // Other requests are not held back by it.
    let res = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_membership_keeps_its_one_key_through_renewals_and_it_lapses_with_the_period() {
    use server::payments::memberships::PERIOD_SECS;
    let app = TestApp::with_creators(&[]).await;
    let buyer = 4401;
    server::on_db!(&app.db, |pool| sqlx::query(
        "UPDATE products SET billing = 'monthly' WHERE slug = $1"
    )
    .bind(WATERCOLOUR)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let (status, _) = configure(&app, THEO, WATERCOLOUR, "generated", None).await;
    assert_eq!(status, 200);
    let order = app.buy(buyer, WATERCOLOUR).await;
    let key = key_of(&app, buyer, WATERCOLOUR).await;
    assert_eq!(
        verify(&app, WATERCOLOUR, &key).await.1["order_state"],
        "paid"
    );

    // Telegram renews: the same key, still valid.
    app.control("clock/advance", json!({ "seconds": PERIOD_SECS }))
        .await;
    wait_for("the renewal", async || {
        verify(&app, WATERCOLOUR, &key).await.1["valid"] == true
    })
    .await;
    assert_eq!(keys_in_db(&app, &order).await, 1, "no key per renewal");
    assert_eq!(key_of(&app, buyer, WATERCOLOUR).await, key);

    // Renewal turned off and the period over: the key lapses with it.
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        axum::http::header::AUTHORIZATION,
        crate::common::auth(buyer).parse().unwrap(),
    );
    app.state
        .shop
        .set_membership_renewal(&headers, WATERCOLOUR, false)
        .await
        .unwrap();
    app.control("clock/advance", json!({ "seconds": PERIOD_SECS + 60 }))
        .await;
    let (_, answer) = verify(&app, WATERCOLOUR, &key).await;
    assert_eq!(answer["valid"], false, "{answer}");
    assert_eq!(answer["order_state"], "lapsed", "{answer}");
}
