//! Reviews through the emulator: only buyers who paid and were not refunded review, once each
//! and editable; the product page shows the average, the count, the distribution and the newest
//! reviews; a refund takes a rating off; creators reply once and hide abusive reviews (which
//! then count for nothing, and their authors are told); cards show the average and the catalog
//! sorts by it.

use crate::common::TestApp;

use leptos::server_fn::ServerFn;
use reqwest::Method;
use serde_json::{json, Value};

const RUST_BOOK: &str = "pocket-guide-to-rust"; // by creator 1001
const WATERCOLOUR: &str = "watercolour-basics"; // by creator 1003
const MIRA: i64 = 1001;
const THEO: i64 = 1003;

async fn review(app: &TestApp, user: i64, slug: &str, rating: u8, body: &str) -> (u16, Value) {
    let rating = rating.to_string();
    app.server_fn(
        Some(user),
        app::api::SaveReview::PATH,
        &[("slug", slug), ("rating", &rating), ("body", body)],
    )
    .await
}

async fn mine(app: &TestApp, user: i64, slug: &str) -> Value {
    let (status, mine) = app
        .server_fn(Some(user), app::api::GetMyReview::PATH, &[("slug", slug)])
        .await;
    assert_eq!(status, 200, "{mine}");
    mine
}

/// What the product page shows of its reviews (the page gets them as HTML, see
/// `page_html`).
async fn page_reviews(app: &TestApp, slug: &str) -> Value {
    let page = server::catalog::published_product(&app.db, slug)
        .await
        .unwrap()
        .expect("a published product");
    serde_json::to_value(&page.reviews).unwrap()
}

/// The reviews section as the product page receives it, in `language`.
async fn page_html(app: &TestApp, slug: &str, language: &str) -> String {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("slug", slug)
        .finish();
    let res = app
        .http
        .post(format!("{}{}", app.base, app::api::GetProduct::PATH))
        .header("accept", "application/json")
        .header("accept-language", language)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    assert!(page.get("reviews").is_none(), "sent as HTML only: {page}");
    page["reviews_html"].as_str().unwrap().to_owned()
}

/// (count, average × 100) the product page shows; (0, 0) when no review counts.
async fn rating(app: &TestApp, slug: &str) -> (u64, u64) {
    let reviews = page_reviews(app, slug).await;
    match &reviews["rating"] {
        Value::Null => (0, 0),
        rating => (
            rating["count"].as_u64().unwrap(),
            rating["average_x100"].as_u64().unwrap(),
        ),
    }
}

#[tokio::test]
async fn only_buyers_who_kept_their_purchase_review_once_each_and_may_edit() {
    let app = TestApp::with_creators(&[]).await;
    let (stranger, alex, dasha) = (3301, 3302, 3303);
    app.control("users", json!({ "id": stranger, "first_name": "Sam" }))
        .await;
    let _ = app
        .as_user(stranger, Method::GET, "/api/me")
        .send()
        .await
        .unwrap();
    assert_eq!(mine(&app, stranger, RUST_BOOK).await["eligible"], false);
    let (status, refused) = review(&app, stranger, RUST_BOOK, 5, "Never read it").await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused.to_string().contains("Only buyers review"),
        "{refused}"
    );
    assert_eq!(rating(&app, RUST_BOOK).await, (0, 0));

    app.buy(alex, RUST_BOOK).await;
    assert_eq!(mine(&app, alex, RUST_BOOK).await["eligible"], true);
    let (status, bad) = review(&app, alex, RUST_BOOK, 6, "").await;
    assert_eq!(status, 409, "{bad}");
    let (status, long) = review(&app, alex, RUST_BOOK, 4, &"x".repeat(2001)).await;
    assert_eq!(status, 409, "{long}");
    let (status, saved) = review(
        &app,
        alex,
        RUST_BOOK,
        4,
        "A **good** book<script>alert(1)</script>",
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["rating"], 4);
    assert_eq!(rating(&app, RUST_BOOK).await, (1, 400));
    let reviews = page_reviews(&app, RUST_BOOK).await;
    let html = reviews["newest"][0]["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>good</strong>"), "{html}");
    assert!(!html.contains("script"), "sanitised: {html}");
    assert_eq!(reviews["newest"][0]["author"], "User3302");
    assert_eq!(reviews["distribution"], json!([0, 0, 0, 1, 0]));
    let html = page_html(&app, RUST_BOOK, "en").await;
    assert!(html.contains("4.0 out of 5 · reviews: 1"), "{html}");
    assert!(html.contains("<strong>good</strong>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains(r#"href="/p/pocket-guide-to-rust/review""#),
        "{html}"
    );
    let html = page_html(&app, RUST_BOOK, "ru").await;
    assert!(html.contains("4.0 из 5 · отзывов: 1"), "{html}");

    // One review per buyer: writing again edits it.
    let (status, _) = review(&app, alex, RUST_BOOK, 2, "Changed my mind").await;
    assert_eq!(status, 200);
    assert_eq!(rating(&app, RUST_BOOK).await, (1, 200));
    assert_eq!(mine(&app, alex, RUST_BOOK).await["body"], "Changed my mind");

    let order = app.buy(dasha, RUST_BOOK).await;
    let (status, _) = review(&app, dasha, RUST_BOOK, 5, "").await;
    assert_eq!(status, 200);
    assert_eq!(rating(&app, RUST_BOOK).await, (2, 350));
    let reviews = page_reviews(&app, RUST_BOOK).await;
    assert_eq!(reviews["distribution"], json!([0, 1, 0, 0, 1]));
    let newest: Vec<u64> = reviews["newest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rating"].as_u64().unwrap())
        .collect();
    assert_eq!(newest, [5, 2], "newest first");

    // A refund takes the rating off, and the refunded buyer may no longer review.
    app.refund_as(MIRA, &order).await;
    assert_eq!(rating(&app, RUST_BOOK).await, (1, 200));
    assert_eq!(mine(&app, dasha, RUST_BOOK).await["eligible"], false);
    let (status, _) = review(&app, dasha, RUST_BOOK, 1, "").await;
    assert_eq!(status, 409);
    // Buying again brings the review back.
    app.buy(dasha, RUST_BOOK).await;
    assert_eq!(rating(&app, RUST_BOOK).await, (2, 350));
}

#[tokio::test]
async fn creators_reply_once_and_hide_abusive_reviews_which_then_count_for_nothing() {
    let app = TestApp::with_creators(&[]).await;
    let alex = 3402;
    app.buy(alex, RUST_BOOK).await;
    let (status, _) = review(&app, alex, RUST_BOOK, 1, "Rubbish, the author is a fraud").await;
    assert_eq!(status, 200);

    let (status, list) = app
        .call(MIRA, Method::GET, "/api/studio/reviews", None)
        .await;
    assert_eq!(status, 200, "{list}");
    let id = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["rating"], 1);
    let (status, theirs) = app
        .call(THEO, Method::GET, "/api/studio/reviews", None)
        .await;
    assert_eq!(
        (status, theirs),
        (200, json!([])),
        "another creator sees none"
    );

    // Another creator can neither reply nor hide.
    let reply_path = format!("/api/studio/reviews/{id}/reply");
    let hide_path = format!("/api/studio/reviews/{id}/hidden");
    let (status, _) = app
        .call(
            THEO,
            Method::POST,
            &reply_path,
            Some(json!({ "text": "hi" })),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            THEO,
            Method::POST,
            &hide_path,
            Some(json!({ "hidden": true })),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(rating(&app, RUST_BOOK).await, (1, 100));

    let (status, empty) = app
        .call(
            MIRA,
            Method::POST,
            &reply_path,
            Some(json!({ "text": "  " })),
        )
        .await;
    assert_eq!(status, 400, "{empty}");
    let (status, list) = app
        .call(
            MIRA,
            Method::POST,
            &reply_path,
            Some(json!({ "text": "Sorry to hear, *write to me*" })),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert!(list[0]["reply_html"]
        .as_str()
        .unwrap()
        .contains("<em>write to me</em>"));
    let (status, again) = app
        .call(
            MIRA,
            Method::POST,
            &reply_path,
            Some(json!({ "text": "And more" })),
        )
        .await;
    assert_eq!(status, 409, "one reply: {again}");
    let page = page_reviews(&app, RUST_BOOK).await;
    assert!(page["newest"][0]["reply_html"]
        .as_str()
        .unwrap()
        .contains("write to me"));
    let html = page_html(&app, RUST_BOOK, "en").await;
    assert!(html.contains("The creator's reply"), "{html}");
    assert!(html.contains("<em>write to me</em>"), "{html}");

    // Hidden: not shown, counts for nothing, and its author is told.
    let (status, list) = app
        .call(
            MIRA,
            Method::POST,
            &hide_path,
            Some(json!({ "hidden": true })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["hidden"], true);
    assert_eq!(rating(&app, RUST_BOOK).await, (0, 0));
    assert_eq!(page_reviews(&app, RUST_BOOK).await["newest"], json!([]));
    assert_eq!(mine(&app, alex, RUST_BOOK).await["hidden"], true);
    // Editing does not bring it back.
    let (status, edited) = review(&app, alex, RUST_BOOK, 2, "Still rubbish").await;
    assert_eq!(status, 200);
    assert_eq!(edited["hidden"], true);
    assert_eq!(rating(&app, RUST_BOOK).await, (0, 0));

    let (status, _) = app
        .call(
            MIRA,
            Method::POST,
            &hide_path,
            Some(json!({ "hidden": false })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rating(&app, RUST_BOOK).await, (1, 200));
    assert_eq!(mine(&app, alex, RUST_BOOK).await["hidden"], false);
}

#[tokio::test]
async fn cards_show_the_average_and_the_catalog_sorts_by_it() {
    let app = TestApp::with_creators(&[]).await;
    let catalog = async |sort: &str| {
        let (status, page) = app
            .server_fn(None, app::api::ListProducts::PATH, &[("sort", sort)])
            .await;
        assert_eq!(status, 200, "{page}");
        page["items"].as_array().unwrap().clone()
    };
    let newest_before: Vec<Value> = catalog("newest")
        .await
        .iter()
        .map(|c| c["slug"].clone())
        .collect();

    for (buyer, slug, stars) in [
        (3501, RUST_BOOK, 3),
        (3502, RUST_BOOK, 4),
        (3503, WATERCOLOUR, 5),
    ] {
        app.buy(buyer, slug).await;
        let (status, body) = review(&app, buyer, slug, stars, "").await;
        assert_eq!(status, 200, "{body}");
    }

    let rated = catalog("rating").await;
    let slugs: Vec<&str> = rated.iter().map(|c| c["slug"].as_str().unwrap()).collect();
    assert_eq!(&slugs[..2], [WATERCOLOUR, RUST_BOOK], "{slugs:?}");
    assert_eq!(
        rated[0]["rating"],
        json!({ "count": 1, "average_x100": 500 })
    );
    assert_eq!(
        rated[1]["rating"],
        json!({ "count": 2, "average_x100": 350 })
    );
    assert!(
        rated[2..].iter().all(|c| c["rating"].is_null()),
        "unrated last"
    );

    // The newest-first order is untouched; its cards carry the averages too.
    let newest = catalog("newest").await;
    let newest_slugs: Vec<Value> = newest.iter().map(|c| c["slug"].clone()).collect();
    assert_eq!(newest_slugs, newest_before);
    let rust = newest.iter().find(|c| c["slug"] == RUST_BOOK).unwrap();
    assert_eq!(rust["rating"]["count"], 2);
}
