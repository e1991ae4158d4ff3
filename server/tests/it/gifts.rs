//! Gifts through the emulator: a buyer pays for a product for a friend and gets a link; the
//! friend claims it once and it lands in their library (not the payer's), delivered by the bot;
//! a second claimer is told it was claimed; a refund before the claim cancels the gift, after it
//! revokes the friend's access; a buyer may give what they own, a friend who owns it already
//! cannot claim it, and a membership is not given.

use crate::common::{wait_for, TestApp};

use leptos::server_fn::ServerFn;
use reqwest::Method;
use serde_json::{json, Value};

const RUST_BOOK: &str = "pocket-guide-to-rust"; // Mira's, 250 Stars
const SOURDOUGH: &str = "sourdough-at-home"; // Theo's
const MIRA: i64 = 1001;
const THEO: i64 = 1003;

/// `user` is known to Telegram under `name` and has opened the Mini App.
async fn meet(app: &TestApp, user: i64, name: &str) {
    app.control("users", json!({ "id": user, "first_name": name }))
        .await;
    let res = app
        .as_user(user, Method::GET, "/api/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// `payer` pays for `slug` as a gift, as the product page's gift button does; returns the
/// order's public id and the gift's code from the payer's list of gifts.
async fn give(app: &TestApp, payer: i64, slug: &str) -> (String, String) {
    let before = sent(app, payer).await.len();
    let (status, checkout) = app
        .server_fn(
            Some(payer),
            app::api::StartCheckout::PATH,
            &[("slug", slug), ("gift", "true")],
        )
        .await;
    assert_eq!(status, 200, "{checkout}");
    let paid = app
        .control(
            "invoices/pay",
            json!({ "link": checkout["invoice_link"], "user_id": payer }),
        )
        .await;
    assert_eq!(paid["status"], "paid", "{paid}");
    let order = checkout["order_id"].as_str().unwrap().to_owned();
    wait_for("the gift", async || sent(app, payer).await.len() > before).await;
    let code = sent(app, payer).await[0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    (order, code)
}

/// The payer's gifts, newest first.
async fn sent(app: &TestApp, payer: i64) -> Vec<Value> {
    let (status, gifts) = app
        .server_fn(Some(payer), app::api::MyGifts::PATH, &[])
        .await;
    assert_eq!(status, 200, "{gifts}");
    gifts.as_array().unwrap().clone()
}

async fn view(app: &TestApp, user: i64, code: &str) -> (u16, Value) {
    app.server_fn(Some(user), app::api::GetGift::PATH, &[("code", code)])
        .await
}

async fn claim(app: &TestApp, user: i64, code: &str) -> (u16, Value) {
    app.server_fn(Some(user), app::api::ClaimGift::PATH, &[("code", code)])
        .await
}

/// The products `user` owns now, by slug.
async fn owned(app: &TestApp, user: i64) -> Vec<String> {
    server::on_db!(&app.db, |pool| sqlx::query_scalar(
        "SELECT p.slug FROM entitlements e JOIN products p ON p.id = e.product_id
         WHERE e.user_id = $1 AND e.revoked_at IS NULL ORDER BY p.slug"
    )
    .bind(user)
    .fetch_all(pool)
    .await)
    .unwrap()
}

#[tokio::test]
async fn a_friend_claims_a_gift_once_and_it_lands_in_their_library() {
    let app = TestApp::with_creators(&[]).await;
    let (alex, dasha, pavel) = (5101, 5102, 5103);
    meet(&app, alex, "Alex").await;
    meet(&app, dasha, "Дарья").await;
    meet(&app, pavel, "Pavel").await;
    let stars_before = app.get(&format!("users/{alex}")).await["stars"]
        .as_i64()
        .unwrap();
    let (_, code) = give(&app, alex, RUST_BOOK).await;
    let stars_after = app.get(&format!("users/{alex}")).await["stars"]
        .as_i64()
        .unwrap();
    assert_eq!(stars_before - stars_after, 250, "the gift costs the price");
    // Paid, and nobody's yet: not the payer's.
    assert_eq!(owned(&app, alex).await, Vec::<String>::new());
    let gifts = sent(&app, alex).await;
    assert_eq!(gifts.len(), 1);
    assert_eq!(gifts[0]["title"], "The Pocket Guide to Rust");
    assert_eq!(gifts[0]["claimed_by"], Value::Null);
    assert_eq!(gifts[0]["cancelled"], false);
    assert!(
        gifts[0]["link"]
            .as_str()
            .is_some_and(|l| l.ends_with(&format!("?startapp=g_{code}"))),
        "{gifts:?}"
    );

    // The payer's own link is theirs to give, not to claim.
    let (status, seen) = view(&app, alex, &code).await;
    assert_eq!((status, &seen["state"]), (200, &json!("from_you")));
    let (status, refused) = claim(&app, alex, &code).await;
    assert_eq!(status, 409);
    assert!(refused.to_string().contains("your own gift"), "{refused}");

    // Дарья opens it and claims it.
    let (status, seen) = view(&app, dasha, &code).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["state"], "open");
    // The shop knows people by what their init data says (`User<id>` in these tests).
    assert_eq!(seen["from"], format!("User{alex}"));
    assert_eq!(seen["slug"], RUST_BOOK);
    let (status, claimed) = claim(&app, dasha, &code).await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["state"], "claimed_by_you");
    assert_eq!(owned(&app, dasha).await, [RUST_BOOK]);
    assert_eq!(owned(&app, alex).await, Vec::<String>::new());
    // Claiming again changes nothing.
    let (status, again) = claim(&app, dasha, &code).await;
    assert_eq!((status, &again["state"]), (200, &json!("claimed_by_you")));
    // In her library, and the bot sends her the file (stamped for her), not to Alex.
    let res = app
        .as_user(dasha, Method::GET, "/api/library")
        .send()
        .await
        .unwrap();
    let library: Value = res.json().await.unwrap();
    assert_eq!(library[0]["slug"], RUST_BOOK, "{library}");
    wait_for("the book in Дарья's chat, as a gift", async || {
        app.chat(dasha).await.iter().any(|m| {
            m["file"]["file_name"] == "pocket-guide-to-rust.pdf"
                && m["message"]["caption"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("A gift for you: «The Pocket Guide to Rust»"))
        })
    })
    .await;
    assert!(!app
        .chat(alex)
        .await
        .iter()
        .any(|m| m["file"]["file_name"] == "pocket-guide-to-rust.pdf"));
    // She may review it; Alex, who paid for her, may not.
    let (_, mine) = app
        .server_fn(
            Some(dasha),
            app::api::GetMyReview::PATH,
            &[("slug", RUST_BOOK)],
        )
        .await;
    assert_eq!(mine["eligible"], true, "{mine}");
    let (_, his) = app
        .server_fn(
            Some(alex),
            app::api::GetMyReview::PATH,
            &[("slug", RUST_BOOK)],
        )
        .await;
    assert_eq!(his["eligible"], false, "{his}");

    // A gift link works once.
    let (status, seen) = view(&app, pavel, &code).await;
    assert_eq!((status, &seen["state"]), (200, &json!("claimed")));
    let (status, refused) = claim(&app, pavel, &code).await;
    assert_eq!(status, 409);
    assert!(
        refused.to_string().contains("already been claimed"),
        "{refused}"
    );
    assert_eq!(owned(&app, pavel).await, Vec::<String>::new());
    // The payer sees who claimed it.
    assert_eq!(
        sent(&app, alex).await[0]["claimed_by"],
        format!("User{dasha}")
    );
    // A code that names no gift.
    let (status, refused) = claim(&app, pavel, "AAAAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(status, 409);
    assert!(refused.to_string().contains("no such gift"), "{refused}");
}

#[tokio::test]
async fn a_refund_cancels_an_unclaimed_gift_and_revokes_a_claimed_one() {
    let app = TestApp::with_creators(&[]).await;
    let (alex, dasha) = (5201, 5202);
    meet(&app, alex, "Alex").await;
    meet(&app, dasha, "Дарья").await;

    // Refunded before the claim: cancelled, and nobody can claim it.
    let (order, code) = give(&app, alex, RUST_BOOK).await;
    app.refund_as(MIRA, &order).await;
    let (status, seen) = view(&app, dasha, &code).await;
    assert_eq!((status, &seen["state"]), (200, &json!("cancelled")));
    let (status, refused) = claim(&app, dasha, &code).await;
    assert_eq!(status, 409);
    assert!(refused.to_string().contains("cancelled"), "{refused}");
    assert_eq!(owned(&app, dasha).await, Vec::<String>::new());
    assert_eq!(sent(&app, alex).await[0]["cancelled"], true);

    // Refunded after the claim: the friend's access goes with the payer's Stars.
    let (order, code) = give(&app, alex, SOURDOUGH).await;
    let (status, claimed) = claim(&app, dasha, &code).await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(owned(&app, dasha).await, [SOURDOUGH]);
    let before = app.get(&format!("users/{alex}")).await["stars"]
        .as_i64()
        .unwrap();
    app.refund_as(THEO, &order).await;
    assert_eq!(owned(&app, dasha).await, Vec::<String>::new());
    let after = app.get(&format!("users/{alex}")).await["stars"]
        .as_i64()
        .unwrap();
    assert!(after > before, "the Stars went back to the payer");
    let gifts = sent(&app, alex).await;
    assert_eq!(
        gifts[0]["claimed_by"],
        format!("User{dasha}"),
        "a claimed gift stays claimed"
    );
}

#[tokio::test]
async fn a_buyer_gives_what_they_own_and_a_friend_who_owns_it_cannot_claim_it() {
    let app = TestApp::with_creators(&[]).await;
    let (alex, dasha, pavel) = (5301, 5302, 5303);
    meet(&app, alex, "Alex").await;
    meet(&app, dasha, "Дарья").await;
    meet(&app, pavel, "Pavel").await;
    let own = app.buy(alex, RUST_BOOK).await;
    // Owning it, Alex may not buy it again, but may give it.
    let err = server::payments::create_order(&app.db, &app.bot, alex, RUST_BOOK, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, server::payments::PaymentError::AlreadyOwned),
        "{err}"
    );
    let (_, code) = give(&app, alex, RUST_BOOK).await;
    // Дарья has it already: she is told, and the gift stays for somebody else.
    app.buy(dasha, RUST_BOOK).await;
    let (status, refused) = claim(&app, dasha, &code).await;
    assert_eq!(status, 409);
    assert!(refused.to_string().contains("already own"), "{refused}");
    let (status, claimed) = claim(&app, pavel, &code).await;
    assert_eq!((status, &claimed["state"]), (200, &json!("claimed_by_you")));
    assert_eq!(owned(&app, pavel).await, [RUST_BOOK]);
    // Alex's own copy is his own order's, untouched by the gift's.
    assert_eq!(owned(&app, alex).await, [RUST_BOOK]);
    app.refund_as(MIRA, &own).await;
    assert_eq!(owned(&app, alex).await, Vec::<String>::new());
    assert_eq!(owned(&app, pavel).await, [RUST_BOOK]);

    // A membership renews from its buyer's Stars: it is not given.
    server::on_db!(&app.db, |pool| sqlx::query(
        "UPDATE products SET billing = 'monthly' WHERE slug = $1"
    )
    .bind(SOURDOUGH)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let (status, refused) = app
        .server_fn(
            Some(alex),
            app::api::StartCheckout::PATH,
            &[("slug", SOURDOUGH), ("gift", "true")],
        )
        .await;
    assert_eq!(status, 409);
    assert!(refused.to_string().contains("cannot be given"), "{refused}");
}
