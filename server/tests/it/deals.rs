//! Discount codes and pay-what-you-want against the whole shop and its Bot API emulator: codes
//! made in the studio over HTTP, orders priced with them, invoices paid through the emulator's
//! payment sheet (pre-checkout answered by the shop), and the limits under concurrent use.

use crate::common::{auth, TestApp};

use app::deals::{PriceChoice, Refusal};
use serde_json::{json, Value};
use server::payments::{self, OrderStatus, PaymentError};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MIRA: i64 = 1001; // seeded creator of RUST_BOOK and MINI_APPS
const OLEG: i64 = 1002; // seeded creator of PHOTO
const ANNA: i64 = 1003; // seeded creator of SOURDOUGH
const RUST_BOOK: &str = "pocket-guide-to-rust"; // 250 Stars
const MINI_APPS: &str = "telegram-mini-apps-from-scratch"; // 900 Stars
const SOURDOUGH: &str = "sourdough-at-home"; // 120 Stars
const MAX_PRICE: u32 = 5000;

/// The whole shop as `starfront` runs it (long polling, so payments apply on their own), with
/// the domain's handles on its database and bot.
struct Shop(TestApp);

impl std::ops::Deref for Shop {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.0
    }
}

async fn shop() -> Shop {
    Shop(TestApp::start(&[("MAX_PRICE_STARS", &MAX_PRICE.to_string())]).await)
}

fn code(text: &str) -> PriceChoice {
    PriceChoice {
        code: Some(text.into()),
        amount_stars: None,
        gift: false,
    }
}

fn amount(stars: u32) -> PriceChoice {
    PriceChoice {
        code: None,
        amount_stars: Some(stars),
        gift: false,
    }
}

impl Shop {
    async fn call(&self, method: &str, path: &str, who: i64, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", auth(who));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, method: &str, path: &str, who: i64, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, who, body).await;
        assert_eq!(status, 200, "{method} {path}: {value}");
        value
    }

    /// A Telegram user with 2500 Stars whom the shop knows (as the Mini App's sign-in records).
    async fn buyer(&self, id: i64) {
        self.emu
            .control(
                "users",
                json!({ "id": id, "first_name": format!("User{id}"), "language_code": "en" }),
            )
            .await;
        self.ok("GET", "/api/me", id, None).await;
    }

    async fn product_id(&self, slug: &str) -> i64 {
        server::on_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT id FROM products WHERE slug = $1"
        )
        .bind(slug)
        .fetch_one(pool)
        .await)
        .unwrap()
    }

    /// A code made in the studio by `creator`.
    async fn new_code(&self, creator: i64, body: Value) -> Value {
        self.ok("POST", "/api/studio/discounts", creator, Some(body))
            .await
    }

    async fn order(
        &self,
        buyer: i64,
        slug: &str,
        choice: &PriceChoice,
    ) -> Result<payments::NewOrder, PaymentError> {
        payments::create_priced_order(
            &self.db,
            &self.bot,
            buyer,
            slug,
            choice,
            MAX_PRICE,
            None,
            clock::unix_now(),
        )
        .await
    }

    /// What the emulator invoiced for an order.
    async fn invoiced(&self, order: &payments::NewOrder) -> i64 {
        let slug = order.invoice_link.rsplit('$').next().unwrap();
        self.emu.get(&format!("invoices/{slug}")).await["amount"]
            .as_i64()
            .unwrap()
    }

    /// The buyer pays in the emulator's sheet; the shop answers the pre-checkout query.
    async fn pay(&self, order: &payments::NewOrder, buyer: i64) -> Value {
        self.emu
            .control(
                "invoices/pay",
                json!({ "link": order.invoice_link, "user_id": buyer }),
            )
            .await
    }

    async fn status(&self, buyer: i64, order: &payments::NewOrder) -> OrderStatus {
        payments::order_status(&self.db, buyer, &order.public_id)
            .await
            .unwrap()
    }

    async fn wait_paid(&self, buyer: i64, order: &payments::NewOrder) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.status(buyer, order).await != OrderStatus::Paid {
            assert!(Instant::now() < deadline, "the payment was not applied");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stars(&self, user: i64) -> i64 {
        self.emu.get(&format!("users/{user}")).await["stars"]
            .as_i64()
            .unwrap()
    }

    async fn used(&self, code_id: i64) -> i64 {
        server::on_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT used FROM discount_codes WHERE id = $1"
        )
        .bind(code_id)
        .fetch_one(pool)
        .await)
        .unwrap()
    }
}

fn refused(result: Result<payments::NewOrder, PaymentError>) -> Refusal {
    match result {
        Err(PaymentError::Deal(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn declined(outcome: &Value, words: &str) {
    assert_eq!(outcome["status"], "declined", "{outcome}");
    let message = outcome["error_message"].as_str().unwrap();
    assert!(message.contains(words), "{message}");
}

#[tokio::test]
async fn percent_and_fixed_codes_are_invoiced_discounted_and_paid() {
    let s = shop().await;
    let rust_book = s.product_id(RUST_BOOK).await;
    let spring = s
        .new_code(
            MIRA,
            json!({ "code": " spring20 ", "product_id": rust_book, "percent_off": 20 }),
        )
        .await;
    assert_eq!(spring["code"], "SPRING20");
    let fifty = s
        .new_code(ANNA, json!({ "code": "BREAD-50", "stars_off": 50 }))
        .await;
    s.buyer(3001).await;
    s.buyer(3002).await;

    // The quote the product page shows is what the invoice asks.
    let quote = payments::pricing::quote(
        &s.db,
        RUST_BOOK,
        3001,
        &code("Spring20"),
        MAX_PRICE,
        clock::unix_now(),
    )
    .await
    .unwrap();
    assert_eq!((quote.list_stars, quote.amount_stars), (250, 200));
    assert_eq!(quote.code.as_deref(), Some("SPRING20"));

    // Percent off, typed in another case: 250 → 200.
    let order = s.order(3001, RUST_BOOK, &code("Spring20")).await.unwrap();
    assert_eq!(order.amount.get(), 200);
    assert_eq!(s.invoiced(&order).await, 200);
    assert_eq!(s.pay(&order, 3001).await["status"], "paid");
    s.wait_paid(3001, &order).await;
    assert_eq!(s.stars(3001).await, 2500 - 200);
    let (list, charged, code_id): (i64, i64, i64) = server::on_db!(&s.db, |pool| {
        sqlx::query_as(
        "SELECT list_price_stars, amount_stars, discount_code_id FROM orders WHERE public_id = $1",
    )
    .bind(&order.public_id)
    .fetch_one(pool)
    .await
    })
    .unwrap();
    assert_eq!((list, charged), (250, 200));
    assert_eq!(code_id, spring["id"].as_i64().unwrap());

    // Whole Stars off a creator-wide code: 120 → 70.
    let order = s.order(3002, SOURDOUGH, &code("bread-50")).await.unwrap();
    assert_eq!(s.invoiced(&order).await, 70);
    assert_eq!(s.pay(&order, 3002).await["status"], "paid");
    s.wait_paid(3002, &order).await;
    assert_eq!(s.stars(3002).await, 2500 - 70);

    // The studio counts the uses, paid ones included.
    let codes = s.ok("GET", "/api/studio/discounts", ANNA, None).await;
    let listed = codes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == fifty["id"])
        .unwrap();
    assert_eq!(
        (listed["used"].as_i64(), listed["paid"].as_i64()),
        (Some(1), Some(1))
    );
    // Another creator's list does not show it.
    let olegs = s.ok("GET", "/api/studio/discounts", OLEG, None).await;
    assert!(olegs.as_array().unwrap().is_empty(), "{olegs}");
}

#[tokio::test]
async fn unusable_codes_are_refused_with_their_reason() {
    let s = shop().await;
    let rust_book = s.product_id(RUST_BOOK).await;
    for id in 3101..=3106 {
        s.buyer(id).await;
    }
    s.new_code(
        MIRA,
        json!({ "code": "RUSTONLY", "product_id": rust_book, "percent_off": 10 }),
    )
    .await;
    let late = s
        .new_code(
            MIRA,
            json!({ "code": "LATE", "percent_off": 10, "expires_at": clock::unix_now() + 3600 }),
        )
        .await;
    server::on_db!(&s.db, |pool| sqlx::query(
        "UPDATE discount_codes SET expires_at = $1 WHERE id = $2"
    )
    .bind(clock::unix_now() - 1)
    .bind(late["id"].as_i64().unwrap())
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    s.new_code(
        MIRA,
        json!({ "code": "ONCE", "percent_off": 10, "max_uses": 1 }),
    )
    .await;
    let off = s
        .new_code(MIRA, json!({ "code": "OFF", "stars_off": 5 }))
        .await;
    s.ok(
        "POST",
        &format!("/api/studio/discounts/{}/disable", off["id"]),
        MIRA,
        None,
    )
    .await;

    assert_eq!(
        refused(s.order(3101, RUST_BOOK, &code("NOPE")).await),
        Refusal::UnknownCode
    );
    assert_eq!(
        refused(s.order(3101, RUST_BOOK, &code("LATE")).await),
        Refusal::CodeExpired
    );
    assert_eq!(
        refused(s.order(3101, MINI_APPS, &code("rustonly")).await),
        Refusal::OtherProduct
    );
    // Mira's code on Anna's product: unknown there, so nobody learns Mira's codes.
    assert_eq!(
        refused(s.order(3101, SOURDOUGH, &code("RUSTONLY")).await),
        Refusal::UnknownCode
    );
    assert_eq!(
        refused(s.order(3101, RUST_BOOK, &code("off")).await),
        Refusal::CodeDisabled
    );
    s.order(3102, RUST_BOOK, &code("ONCE")).await.unwrap();
    assert_eq!(
        refused(s.order(3103, RUST_BOOK, &code("ONCE")).await),
        Refusal::CodeExhausted
    );
    // None of it made an order.
    let orders: i64 = server::on_db!(&s.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE user_id IN (3101, 3103)"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(orders, 0);

    // The buyer reads the reason in their language, through the server function the page calls.
    let res = s
        .http
        .post(format!("{}/api/quote_price", s.base))
        .header("authorization", auth(3101))
        .header("cookie", "i18n_pref_locale=ru")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("slug={RUST_BOOK}&code=ONCE"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 409);
    let text = res.text().await.unwrap();
    assert!(text.contains("уже использован"), "{text}");

    // Pre-checkout checks the code again: switched off or expired since the order was made.
    let soon = s
        .new_code(MIRA, json!({ "code": "SOON", "percent_off": 30 }))
        .await;
    let order = s.order(3104, RUST_BOOK, &code("soon")).await.unwrap();
    s.ok(
        "POST",
        &format!("/api/studio/discounts/{}/disable", soon["id"]),
        MIRA,
        None,
    )
    .await;
    declined(&s.pay(&order, 3104).await, "no longer active");
    let brief = s
        .new_code(
            MIRA,
            json!({ "code": "BRIEF", "percent_off": 30, "expires_at": clock::unix_now() + 3600 }),
        )
        .await;
    let order = s.order(3105, RUST_BOOK, &code("brief")).await.unwrap();
    server::on_db!(&s.db, |pool| sqlx::query(
        "UPDATE discount_codes SET expires_at = $1 WHERE id = $2"
    )
    .bind(clock::unix_now() - 1)
    .bind(brief["id"].as_i64().unwrap())
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    declined(&s.pay(&order, 3105).await, "expired");
    // A forged invoice for a code order at the list price does not fit the order either.
    let good = s
        .new_code(MIRA, json!({ "code": "GOOD", "percent_off": 40 }))
        .await;
    assert_eq!(good["code"], "GOOD");
    let order = s.order(3106, RUST_BOOK, &code("good")).await.unwrap();
    assert_eq!(order.amount.get(), 150);
    let forged = s
        .emu
        .bot_api(
            "createInvoiceLink",
            json!({ "title": "Full", "description": "x", "payload": order.public_id,
                    "currency": "XTR", "prices": [{ "label": "Full", "amount": 250 }] }),
        )
        .await;
    let outcome = s
        .emu
        .control(
            "invoices/pay",
            json!({ "link": forged["result"], "user_id": 3106 }),
        )
        .await;
    declined(&outcome, "amount does not match");
    for id in 3101..=3106 {
        assert_eq!(s.stars(id).await, 2500, "user {id} was not charged");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_orders_take_exactly_the_limit() {
    const BUYERS: i64 = 16;
    const LIMIT: i64 = 5;
    let s = Arc::new(shop().await);
    let limited = s
        .new_code(
            ANNA,
            json!({ "code": "FIRST5", "percent_off": 50, "max_uses": LIMIT }),
        )
        .await;
    let code_id = limited["id"].as_i64().unwrap();
    for id in 0..BUYERS {
        s.buyer(3200 + id).await;
    }
    let tasks: Vec<_> = (0..BUYERS)
        .map(|id| {
            let s = s.clone();
            tokio::spawn(async move { s.order(3200 + id, SOURDOUGH, &code("first5")).await })
        })
        .collect();
    let mut won = Vec::new();
    let mut exhausted = 0;
    for (id, task) in (0..BUYERS).zip(tasks) {
        match task.await.unwrap() {
            Ok(order) => won.push((3200 + id, order)),
            Err(PaymentError::Deal(Refusal::CodeExhausted)) => exhausted += 1,
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(won.len() as i64, LIMIT, "exactly the limit got the code");
    assert_eq!(exhausted, BUYERS - LIMIT);
    assert_eq!(s.used(code_id).await, LIMIT);
    let holding: i64 = server::on_db!(&s.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE discount_code_id = $1"
    )
    .bind(code_id)
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(holding, LIMIT);
    // The winners pay the discounted price, concurrently too.
    let payments: Vec<_> = won
        .iter()
        .map(|(buyer, order)| {
            let s = s.clone();
            let (buyer, order) = (*buyer, order.clone());
            tokio::spawn(async move { s.pay(&order, buyer).await })
        })
        .collect();
    for payment in payments {
        assert_eq!(payment.await.unwrap()["status"], "paid");
    }
    for (buyer, order) in &won {
        s.wait_paid(*buyer, order).await;
        assert_eq!(s.stars(*buyer).await, 2500 - 60);
    }
    assert_eq!(s.used(code_id).await, LIMIT, "paying keeps the uses");
}

#[tokio::test]
async fn an_expired_reservation_gives_its_use_back() {
    let s = shop().await;
    for id in [3301, 3302, 3303] {
        s.buyer(id).await;
    }
    let one = s
        .new_code(
            MIRA,
            json!({ "code": "SOLO", "stars_off": 100, "max_uses": 1 }),
        )
        .await;
    let code_id = one["id"].as_i64().unwrap();
    let first = s.order(3301, RUST_BOOK, &code("solo")).await.unwrap();
    // Tapping Buy again reuses the order and its reservation.
    assert_eq!(
        s.order(3301, RUST_BOOK, &code("SOLO")).await.unwrap(),
        first
    );
    assert_eq!(s.used(code_id).await, 1);
    assert_eq!(
        refused(s.order(3302, RUST_BOOK, &code("solo")).await),
        Refusal::CodeExhausted
    );

    // The unpaid order expires: its use is free again, and someone else takes it.
    assert_eq!(
        payments::expire_stale(&s.db, Duration::ZERO).await.unwrap(),
        1
    );
    assert_eq!(s.used(code_id).await, 0);
    assert_eq!(s.status(3301, &first).await, OrderStatus::Expired);
    let second = s.order(3302, RUST_BOOK, &code("solo")).await.unwrap();
    assert_eq!(second.amount.get(), 150);
    assert_eq!(s.used(code_id).await, 1);
    // Expiring again does not give back twice.
    payments::expire_stale(&s.db, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(s.used(code_id).await, 1);

    // A charge that arrives for the expired order anyway (Telegram charged after an earlier ok)
    // is honoured and counted again, past the limit: the buyer's Stars were taken.
    let applied = payments::checkout::apply_payment_facts(
        &s.db,
        &payments::PaymentFacts {
            payer: 3301,
            charge_id: "late-charge-1".into(),
            payload: first.public_id.clone(),
            currency: "XTR".into(),
            total_amount: 150,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(applied, payments::Applied::Granted { .. }),
        "{applied:?}"
    );
    assert_eq!(s.used(code_id).await, 2);
    assert_eq!(
        refused(s.order(3303, RUST_BOOK, &code("solo")).await),
        Refusal::CodeExhausted
    );
}

#[tokio::test]
async fn pay_what_you_want_takes_the_buyers_amount_from_the_minimum_up() {
    let s = shop().await;
    let sourdough = s.product_id(SOURDOUGH).await;
    s.buyer(3401).await;
    s.buyer(3402).await;
    let path = format!("/api/studio/products/{sourdough}/pwyw");

    // The minimum is 1 up to the price, which buyers see as the suggested amount.
    for bad in [json!(0), json!(121)] {
        let (status, body) = s
            .call("PUT", &path, ANNA, Some(json!({ "min_price_stars": bad })))
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["field"], "min_price_stars", "{body}");
    }
    let (status, _) = s
        .call("PUT", &path, OLEG, Some(json!({ "min_price_stars": 50 })))
        .await;
    assert_eq!(status, 403, "not Oleg's product");
    let set = s
        .ok("PUT", &path, ANNA, Some(json!({ "min_price_stars": 50 })))
        .await;
    assert_eq!(set["min_price_stars"], 50);
    let page = server::catalog::published_product(&s.db, SOURDOUGH)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (page.min_price_stars, page.card.price_stars),
        (Some(50), 120)
    );

    // Below the minimum: refused with the minimum named, nothing ordered.
    let below = s.order(3401, SOURDOUGH, &amount(49)).await;
    assert_eq!(refused(below), Refusal::BelowMinimum(50));
    assert_eq!(
        Refusal::BelowMinimum(50).to_string(),
        "The minimum for this product is 50 Stars."
    );
    assert_eq!(
        refused(s.order(3401, SOURDOUGH, &amount(MAX_PRICE + 1)).await),
        Refusal::AboveMaximum(MAX_PRICE)
    );
    // Codes do not apply to it.
    s.new_code(ANNA, json!({ "code": "ANNA10", "percent_off": 10 }))
        .await;
    assert_eq!(
        refused(s.order(3401, SOURDOUGH, &code("ANNA10")).await),
        Refusal::NotForPayWhatYouWant
    );
    let orders: i64 = server::on_db!(&s.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE user_id = 3401"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(orders, 0);

    // Above the minimum: that amount is invoiced and charged.
    let order = s.order(3401, SOURDOUGH, &amount(300)).await.unwrap();
    assert_eq!(s.invoiced(&order).await, 300);
    assert_eq!(s.pay(&order, 3401).await["status"], "paid");
    s.wait_paid(3401, &order).await;
    assert_eq!(s.stars(3401).await, 2500 - 300);
    let (list, charged): (i64, i64) = server::on_db!(&s.db, |pool| sqlx::query_as(
        "SELECT list_price_stars, amount_stars FROM orders WHERE public_id = $1"
    )
    .bind(&order.public_id)
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!((list, charged), (120, 300));
    // Exactly the minimum is fine; no amount means the suggested one.
    assert_eq!(
        s.order(3402, SOURDOUGH, &amount(50))
            .await
            .unwrap()
            .amount
            .get(),
        50
    );
    assert_eq!(
        s.order(3402, SOURDOUGH, &PriceChoice::default())
            .await
            .unwrap()
            .amount
            .get(),
        120
    );

    // Turned off again: a fixed price, and an amount is refused.
    s.ok("PUT", &path, ANNA, Some(json!({ "min_price_stars": null })))
        .await;
    assert_eq!(
        refused(s.order(3402, SOURDOUGH, &amount(80)).await),
        Refusal::FixedPrice
    );
}

#[tokio::test]
async fn studio_code_errors_name_the_field() {
    let s = shop().await;
    s.buyer(3501).await;
    let photo = s.product_id("night-photography-field-notes").await;
    let now = clock::unix_now();
    let cases = [
        (json!({ "code": "a b", "percent_off": 10 }), "code"),
        (json!({ "code": "X", "percent_off": 10 }), "code"),
        (
            json!({ "code": "BOTH", "percent_off": 10, "stars_off": 5 }),
            "percent_off",
        ),
        (json!({ "code": "NONE" }), "percent_off"),
        (json!({ "code": "ALL", "percent_off": 100 }), "percent_off"),
        (
            json!({ "code": "HUGE", "stars_off": MAX_PRICE + 1 }),
            "stars_off",
        ),
        (
            json!({ "code": "ZERO", "percent_off": 10, "max_uses": 0 }),
            "max_uses",
        ),
        (
            json!({ "code": "PAST", "percent_off": 10, "expires_at": now - 10 }),
            "expires_at",
        ),
        (
            json!({ "code": "THEIRS", "percent_off": 10, "product_id": photo }),
            "product_id",
        ),
        (
            json!({ "code": "GHOST", "percent_off": 10, "product_id": 999_999 }),
            "product_id",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = s
            .call("POST", "/api/studio/discounts", MIRA, Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
        assert!(!answer["message"].as_str().unwrap().is_empty());
    }
    // Unique per creator, whatever the case; another creator may have the same code.
    s.new_code(MIRA, json!({ "code": "Hello", "percent_off": 10 }))
        .await;
    let (status, answer) = s
        .call(
            "POST",
            "/api/studio/discounts",
            MIRA,
            Some(json!({ "code": "HELLO", "stars_off": 3 })),
        )
        .await;
    assert_eq!(
        (status, answer["field"].as_str()),
        (400, Some("code")),
        "{answer}"
    );
    s.new_code(OLEG, json!({ "code": "hello", "percent_off": 15 }))
        .await;

    // Buyers have no studio; creators cannot switch off each other's codes.
    let (status, _) = s
        .call(
            "POST",
            "/api/studio/discounts",
            3501,
            Some(json!({ "code": "MINE", "percent_off": 10 })),
        )
        .await;
    assert_eq!(status, 403);
    let miras = s.ok("GET", "/api/studio/discounts", MIRA, None).await;
    let hello = miras[0]["id"].clone();
    let (status, _) = s
        .call(
            "POST",
            &format!("/api/studio/discounts/{hello}/disable"),
            OLEG,
            None,
        )
        .await;
    assert_eq!(status, 403);
    let off = s
        .ok(
            "POST",
            &format!("/api/studio/discounts/{hello}/disable"),
            MIRA,
            None,
        )
        .await;
    assert!(off["disabled_at"].is_i64());
}

impl Shop {
    /// `createInvoiceLink` calls the emulator answered so far.
    async fn invoice_links(&self) -> usize {
        self.state
            .emulator
            .as_ref()
            .expect("tests run with the emulator")
            .invoice_count()
            .await
    }

    /// The buyer's pending orders, and those among them holding a code.
    async fn pending(&self, buyer: i64) -> (i64, i64) {
        server::on_db!(&self.db, |pool| sqlx::query_as(
            "SELECT COUNT(*), COUNT(discount_code_id) FROM orders
             WHERE user_id = $1 AND status = 'pending'"
        )
        .bind(buyer)
        .fetch_one(pool)
        .await)
        .unwrap()
    }

    /// `n` Buys of the same offer by `buyer` at once.
    async fn concurrent_orders(
        self: &Arc<Self>,
        n: usize,
        buyer: i64,
        slug: &'static str,
        choice: PriceChoice,
    ) -> Vec<payments::NewOrder> {
        let start = Arc::new(tokio::sync::Barrier::new(n));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (s, start, choice) = (self.clone(), start.clone(), choice.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    s.order(buyer, slug, &choice).await
                })
            })
            .collect();
        let mut orders = Vec::new();
        for task in tasks {
            orders.push(task.await.unwrap().expect("every Buy gets the order"));
        }
        orders
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_buys_of_one_offer_make_one_order_and_one_invoice() {
    let s = Arc::new(shop().await);
    s.buyer(3451).await;
    let before = s.invoice_links().await;

    let orders = s
        .concurrent_orders(12, 3451, RUST_BOOK, PriceChoice::default())
        .await;
    assert!(orders.iter().all(|o| *o == orders[0]), "one order for all");
    assert_eq!(s.pending(3451).await, (1, 0));
    assert_eq!(s.invoice_links().await - before, 1, "one createInvoiceLink");

    // A pay-what-you-want amount is its own offer, once however often it is sent.
    let sourdough = s.product_id(SOURDOUGH).await;
    let path = format!("/api/studio/products/{sourdough}/pwyw");
    s.ok("PUT", &path, ANNA, Some(json!({ "min_price_stars": 50 })))
        .await;
    let chosen = s.concurrent_orders(12, 3451, SOURDOUGH, amount(150)).await;
    assert!(chosen.iter().all(|o| *o == chosen[0]));
    assert_eq!(chosen[0].amount.get(), 150);
    assert_eq!(s.pending(3451).await, (2, 0));
    assert_eq!(s.invoice_links().await - before, 2);

    // The order is the one that gets paid.
    assert_eq!(s.pay(&orders[0], 3451).await["status"], "paid");
    s.wait_paid(3451, &orders[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_buyer_holds_one_use_of_a_code_however_many_buys_race() {
    let s = Arc::new(shop().await);
    for id in [3411, 3412] {
        s.buyer(id).await;
    }
    let limited = s
        .new_code(
            MIRA,
            json!({ "code": "FEW", "percent_off": 10, "max_uses": 3 }),
        )
        .await;
    let code_id = limited["id"].as_i64().unwrap();

    // Concurrent Buys of two of the creator's products with the code: whichever Buy came last
    // holds the buyer's one use, the other product's order is cancelled.
    let _ = tokio::join!(
        s.concurrent_orders(6, 3411, RUST_BOOK, code("few")),
        s.concurrent_orders(6, 3411, MINI_APPS, code("few")),
    );
    assert_eq!(s.used(code_id).await, 1, "one use for one buyer");
    assert_eq!(s.pending(3411).await, (1, 1));

    // The same code on another product later moves the buyer's one use there.
    let later = s.order(3411, RUST_BOOK, &code("FEW")).await.unwrap();
    assert_eq!(s.used(code_id).await, 1);
    assert_eq!(s.pending(3411).await, (1, 1));
    // So the code's other uses are still there for other buyers.
    s.order(3412, RUST_BOOK, &code("few")).await.unwrap();
    assert_eq!(s.used(code_id).await, 2);
    // The buyer's held order is the one that pays.
    assert_eq!(s.pay(&later, 3411).await["status"], "paid");
    s.wait_paid(3411, &later).await;
    assert_eq!(s.used(code_id).await, 2, "paying keeps the use");
}

/// A Buy cut off between making the order and recording its invoice link (the server killed, the
/// request timed out) leaves an order without a link. No request lives past the request timeout
/// (30 s by default), so such an order is abandoned by then: the buyer's next Buy must not wait
/// behind it (found by the crash test, where buyers were locked out of a product for minutes).
#[tokio::test]
async fn an_order_left_without_its_link_by_a_killed_buy_frees_the_offer() {
    let s = shop().await;
    s.buyer(3461).await;
    let first = s
        .order(3461, RUST_BOOK, &PriceChoice::default())
        .await
        .unwrap();
    // What the kill leaves behind: the order, 40 s old, and no link.
    server::on_db!(&s.db, |pool| sqlx::query(
        "UPDATE orders SET invoice_link = NULL, created_at = created_at - 40 WHERE public_id = $1"
    )
    .bind(&first.public_id)
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();

    let again = s
        .order(3461, RUST_BOOK, &PriceChoice::default())
        .await
        .expect("the abandoned order no longer holds the buyer's place");
    assert_ne!(again.public_id, first.public_id);
    assert_eq!(s.pending(3461).await.0, 1, "the abandoned order is expired");
}
