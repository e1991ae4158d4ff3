//! Bundles through the emulator: one payment grants every part at once; a refund takes back
//! exactly what the bundle's order granted and nothing another order grants; a buyer who owns
//! parts pays the price less what they paid for them (never below 1 Star), and one who owns them
//! all is not sold the bundle; the bot delivers the parts' files; the studio's rules for what a
//! bundle may hold.

use crate::common::{wait_for, TestApp};

use leptos::server_fn::ServerFn;
use reqwest::Method;
use serde_json::{json, Value};
use server::payments::{self, PaymentError};

const RUST_BOOK: &str = "pocket-guide-to-rust"; // Mira's, 250 Stars
const COURSE: &str = "telegram-mini-apps-from-scratch"; // Mira's, 900 Stars
const SOURDOUGH: &str = "sourdough-at-home"; // Theo's
const MIRA: i64 = 1001;

/// Mira's new product (a draft e-book unless `publish`); returns (id, slug).
async fn new_product(app: &TestApp, title: &str, price: u32) -> (i64, String) {
    let (status, product) = app
        .call(
            MIRA,
            Method::POST,
            "/api/studio/products",
            Some(
                json!({ "title": title, "kind": "ebook", "description": "", "price_stars": price,
                     "billing": "once" }),
            ),
        )
        .await;
    assert_eq!(status, 200, "{product}");
    (
        product["id"].as_i64().unwrap(),
        product["slug"].as_str().unwrap().to_owned(),
    )
}

async fn set_parts(app: &TestApp, bundle: i64, parts: &[i64]) -> (u16, Value) {
    app.call(
        MIRA,
        Method::PUT,
        &format!("/api/studio/products/{bundle}/bundle"),
        Some(json!({ "product_ids": parts })),
    )
    .await
}

/// A published bundle of Mira's `parts` at `price`; returns its slug.
async fn bundle(app: &TestApp, title: &str, price: u32, parts: &[&str]) -> String {
    let (id, slug) = new_product(app, title, price).await;
    let mut ids = Vec::new();
    for part in parts {
        ids.push(app.product_id(part).await);
    }
    let (status, body) = set_parts(app, id, &ids).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bundle"], json!(ids));
    let (status, body) = app
        .call(
            MIRA,
            Method::POST,
            &format!("/api/studio/products/{id}/publish"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    slug
}

/// The products `user` owns now, by slug, with the order each grant comes from.
async fn owned(app: &TestApp, user: i64) -> Vec<(String, i64)> {
    server::on_db!(&app.db, |pool| sqlx::query_as(
        "SELECT p.slug, e.order_id FROM entitlements e JOIN products p ON p.id = e.product_id
         WHERE e.user_id = $1 AND e.revoked_at IS NULL ORDER BY p.slug"
    )
    .bind(user)
    .fetch_all(pool)
    .await)
    .unwrap()
}

async fn order_row(app: &TestApp, public_id: &str) -> (i64, i64) {
    server::on_db!(&app.db, |pool| sqlx::query_as(
        "SELECT id, amount_stars FROM orders WHERE public_id = $1"
    )
    .bind(public_id)
    .fetch_one(pool)
    .await)
    .unwrap()
}

async fn quote(app: &TestApp, user: i64, slug: &str) -> Value {
    let (status, quote) = app
        .server_fn(Some(user), app::api::QuotePrice::PATH, &[("slug", slug)])
        .await;
    assert_eq!(status, 200, "{quote}");
    quote
}

#[tokio::test]
async fn a_bundle_grants_every_part_and_its_refund_takes_back_only_what_it_granted() {
    let app = TestApp::with_creators(&[]).await;
    let slug = bundle(&app, "Rust and Mini Apps", 1000, &[RUST_BOOK, COURSE]).await;

    // The page and the card show what is inside.
    let (status, page) = app
        .server_fn(None, app::api::GetProduct::PATH, &[("slug", &slug)])
        .await;
    assert_eq!(status, 200);
    let html = page["bundle_html"].as_str().unwrap();
    let rust_at = html.find(r#"href="/p/pocket-guide-to-rust""#).expect(html);
    let course_at = html
        .find(r#"href="/p/telegram-mini-apps-from-scratch""#)
        .expect(html);
    assert!(rust_at < course_at, "in the creator's order: {html}");
    assert!(html.contains("In this bundle (2)"), "{html}");
    assert!(html.contains("Bought one by one: ⭐ 1,150"), "{html}");
    let parts: Vec<String> = server::catalog::published_product(&app.db, &slug)
        .await
        .unwrap()
        .unwrap()
        .bundle
        .into_iter()
        .map(|p| p.slug)
        .collect();
    assert_eq!(parts, [RUST_BOOK, COURSE]);
    assert_eq!(page["card"]["bundle_parts"], 2);

    // Alex owns the book already: the bundle costs him 1000 - 250.
    let alex = 4101;
    let book = app.buy(alex, RUST_BOOK).await;
    let quoted = quote(&app, alex, &slug).await;
    assert_eq!(
        (
            &quoted["amount_stars"],
            &quoted["credit_stars"],
            &quoted["owned_parts"]
        ),
        (&json!(750), &json!(250), &json!(1)),
        "{quoted}"
    );
    let stars_before = app.get(&format!("users/{alex}")).await["stars"]
        .as_i64()
        .unwrap();
    let pack = app.buy(alex, &slug).await;
    let (pack_id, amount) = order_row(&app, &pack).await;
    assert_eq!(amount, 750);
    let stars_after = app.get(&format!("users/{alex}")).await["stars"]
        .as_i64()
        .unwrap();
    assert_eq!(
        stars_before - stars_after,
        750,
        "the invoice asked the quoted price"
    );
    let (book_id, _) = order_row(&app, &book).await;
    assert_eq!(
        owned(&app, alex).await,
        [
            (RUST_BOOK.to_owned(), book_id),
            (slug.clone(), pack_id),
            (COURSE.to_owned(), pack_id),
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>(),
        "the book stays the book's order's"
    );
    // The library shows the bundle with what it holds, and each part.
    let res = app
        .as_user(alex, Method::GET, "/api/library")
        .send()
        .await
        .unwrap();
    let library: Value = res.json().await.unwrap();
    let item = library
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["slug"] == slug)
        .expect("the bundle in the library")
        .clone();
    assert_eq!(
        item["includes"],
        json!([
            "The Pocket Guide to Rust",
            "Telegram Mini Apps from Scratch"
        ])
    );

    // Refunding the bundle takes the course and the bundle, not the book its own order grants.
    app.refund_as(MIRA, &pack).await;
    assert_eq!(owned(&app, alex).await, [(RUST_BOOK.to_owned(), book_id)]);
    app.refund_as(MIRA, &book).await;
    assert_eq!(owned(&app, alex).await, []);

    // Dasha buys the bundle first, then the book alone is already hers.
    let dasha = 4102;
    let pack = app.buy(dasha, &slug).await;
    let (pack_id, amount) = order_row(&app, &pack).await;
    assert_eq!(amount, 1000);
    let owned_now = owned(&app, dasha).await;
    assert_eq!(owned_now.len(), 3);
    assert!(owned_now.iter().all(|(_, order)| *order == pack_id));
    let err = payments::create_order(&app.db, &app.bot, dasha, RUST_BOOK, None)
        .await
        .unwrap_err();
    assert!(matches!(err, PaymentError::AlreadyOwned), "{err}");
    // The bot delivered the parts' files with the bundle.
    wait_for("the book's file in Dasha's chat", async || {
        app.chat(dasha)
            .await
            .iter()
            .any(|m| m["file"]["file_name"] == "pocket-guide-to-rust.pdf")
    })
    .await;
    app.refund_as(MIRA, &pack).await;
    assert_eq!(owned(&app, dasha).await, []);
}

#[tokio::test]
async fn owning_parts_lowers_the_price_to_at_least_one_star_and_owning_all_refuses_the_bundle() {
    let app = TestApp::with_creators(&[]).await;
    let (extra, _) = new_product(&app, "Rust Exercises", 50).await;
    let (small, small_slug) = new_product(&app, "Rust Starter Pack", 200).await;
    let rust = app.product_id(RUST_BOOK).await;
    let (status, body) = set_parts(&app, small, &[rust, extra]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .call(
            MIRA,
            Method::POST,
            &format!("/api/studio/products/{small}/publish"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let alex = 4201;
    app.buy(alex, RUST_BOOK).await;
    // 200 less the 250 paid for the book: never below 1 Star.
    assert_eq!(quote(&app, alex, &small_slug).await["amount_stars"], 1);
    let pack = app.buy(alex, &small_slug).await;
    assert_eq!(order_row(&app, &pack).await.1, 1);

    // Owning every part, there is nothing to sell.
    let both = bundle(&app, "Everything by Mira", 1000, &[RUST_BOOK, COURSE]).await;
    let dasha = 4202;
    app.buy(dasha, RUST_BOOK).await;
    app.buy(dasha, COURSE).await;
    let err = payments::create_order(&app.db, &app.bot, dasha, &both, None)
        .await
        .unwrap_err();
    assert!(matches!(err, PaymentError::AlreadyOwned), "{err}");
}

#[tokio::test]
async fn the_studio_keeps_bundles_to_a_creators_own_one_time_products() {
    let app = TestApp::with_creators(&[]).await;
    let (id, _) = new_product(&app, "A Bundle", 300).await;
    let rust = app.product_id(RUST_BOOK).await;
    let course = app.product_id(COURSE).await;
    let theirs = app.product_id(SOURDOUGH).await;

    assert_eq!(
        set_parts(&app, id, &[rust]).await.0,
        400,
        "one part is no bundle"
    );
    assert_eq!(
        set_parts(&app, id, &[rust, rust]).await.0,
        400,
        "twice the same"
    );
    assert_eq!(
        set_parts(&app, id, &[rust, theirs]).await.0,
        400,
        "another creator's"
    );
    assert_eq!(set_parts(&app, id, &[rust, id]).await.0, 400, "itself");
    // A membership is not a part.
    server::on_db!(&app.db, |pool| sqlx::query(
        "UPDATE products SET billing = 'monthly' WHERE id = $1"
    )
    .bind(course)
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    assert_eq!(set_parts(&app, id, &[rust, course]).await.0, 400);
    server::on_db!(&app.db, |pool| sqlx::query(
        "UPDATE products SET billing = 'once' WHERE id = $1"
    )
    .bind(course)
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    let (status, body) = set_parts(&app, id, &[course, rust]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["bundle"],
        json!([course, rust]),
        "in the creator's order"
    );
    // A part cannot be a bundle, nor a bundle a part.
    let (other, _) = new_product(&app, "Another Bundle", 300).await;
    assert_eq!(set_parts(&app, other, &[id, rust]).await.0, 400);
    let (extra, _) = new_product(&app, "Extra", 10).await;
    assert_eq!(set_parts(&app, rust, &[course, extra]).await.0, 409);

    // One key per order: a product issuing keys is no part, and a part issues none.
    let (keyed, _) = new_product(&app, "Keyed Tool", 20).await;
    let (status, body) = app
        .call(
            MIRA,
            Method::PUT,
            &format!("/api/studio/licenses/{keyed}"),
            Some(json!({ "mode": "generated" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(set_parts(&app, other, &[keyed, extra]).await.0, 400);
    let (status, _) = app
        .call(
            MIRA,
            Method::PUT,
            &format!("/api/studio/licenses/{rust}"),
            Some(json!({ "mode": "generated" })),
        )
        .await;
    assert_eq!(status, 400, "a part of a bundle issues no keys");

    // Once sold, its contents stay what its buyers paid for.
    let (status, body) = app
        .call(
            MIRA,
            Method::POST,
            &format!("/api/studio/products/{id}/publish"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let slug = body["slug"].as_str().unwrap().to_owned();
    app.buy(4301, &slug).await;
    assert_eq!(set_parts(&app, id, &[rust, extra]).await.0, 409);
    assert_eq!(set_parts(&app, id, &[]).await.0, 409);
}
