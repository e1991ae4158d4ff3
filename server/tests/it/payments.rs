//! The payment core against the in-process Bot API emulator over loopback HTTP.
//!
//! Two harnesses: `shop()` runs the whole server as production does (long polling), and
//! `Harness` serves the same router but lets the test be the update transport, so it can drop,
//! repeat and reorder updates before they reach the shop's inbox.

use crate::common::{auth, wait_for, TestApp};

use serde_json::{json, Value};
use server::config::Config;
use server::db::Db;
use server::payments::{
    self, Actor, Applied, DeliveryConfig, OrderStatus, PaymentError, RefundOutcome,
};
use server::storage::Storage;
use server::telegram::bot::Bot;
use server::telegram::updates::Inbox;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const RUST_BOOK: &str = "pocket-guide-to-rust"; // by creator 1001, 250 Stars
const SOURDOUGH: &str = "sourdough-at-home"; // by creator 1003, 120 Stars

/// What the domain functions need, prepared on a shop's DATA_DIR and pointed at its emulator.
struct Domain {
    db: Db,
    bot: Bot,
    inbox: Inbox,
    storage: Storage,
}

async fn domain(config: &Config) -> Domain {
    // The shop behind `config` has prepared (and seeded) these files already; seeding again
    // from here only races its server for SQLite's write lock.
    let config = Config {
        seed_demo: false,
        ..config.clone()
    };
    let state = server::prepare(&config).await.unwrap();
    let telegram = state.telegram.clone().unwrap();
    Domain {
        db: state.db.clone(),
        bot: telegram.bot,
        inbox: telegram.inbox,
        storage: state.storage.clone(),
    }
}

struct Harness {
    app: TestApp,
    d: Domain,
    offset: Mutex<i64>,
    buffered: Mutex<VecDeque<Value>>,
    /// Updates `pay_through` passed over (e.g. `refunded_payment` messages), oldest first.
    others: Mutex<Vec<Value>>,
}

/// The shop, and through it the emulator: `h.config`, `h.control(…)`, `h.chat(…)`, `h.base`.
impl std::ops::Deref for Harness {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// The whole shop as `starfront` runs it: updates arrive by long polling.
async fn shop() -> Harness {
    Harness::new(TestApp::start(&[]).await).await
}

/// The router and its emulator without the update transport: the test moves updates itself.
async fn harness() -> Harness {
    Harness::new(TestApp::without_workers(&[]).await).await
}

impl Harness {
    async fn new(app: TestApp) -> Self {
        // These tests follow the delivery byte for byte (the sha256 of what the bot sent against
        // the stored file's): the demo's books go as uploaded here. Stamped copies are tested in
        // it/stamping.rs.
        server::on_db!(&app.db, |pool| sqlx::query(
            "UPDATE products SET stamp_copies = FALSE"
        )
        .execute(pool)
        .await
        .map(server::db::Done::from))
        .unwrap();
        Harness {
            d: domain(&app.config).await,
            app,
            offset: Mutex::new(0),
            buffered: Mutex::new(VecDeque::new()),
            others: Mutex::new(Vec::new()),
        }
    }

    /// A Telegram user with Stars, known to the shop (as the Mini App's auth would record them).
    async fn buyer(&self, id: i64) {
        self.control(
            "users",
            json!({ "id": id, "first_name": format!("Buyer{id}"), "language_code": "en" }),
        )
        .await;
        server::on_db!(&self.d.db, |pool| sqlx::query(
            "INSERT INTO users (id, first_name) VALUES ($1, 'Buyer') ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .execute(pool)
        .await
        .map(server::db::Done::from))
        .unwrap();
    }

    async fn order(&self, buyer: i64, slug: &str) -> payments::NewOrder {
        payments::create_order(&self.d.db, &self.d.bot, buyer, slug, None)
            .await
            .unwrap()
    }

    /// The buyer pays in the sheet; resolves once the shop answered the pre-checkout query.
    fn pay(&self, link: &str, user: i64) -> tokio::task::JoinHandle<Value> {
        let http = self.http.clone();
        let url = format!("{}/emulator/control/invoices/pay", self.base);
        let body = json!({ "link": link, "user_id": user });
        tokio::spawn(async move {
            let res = http.post(url).json(&body).send().await.unwrap();
            assert!(res.status().is_success(), "pay: {}", res.status());
            res.json().await.unwrap()
        })
    }

    /// The next update the emulator queued for the bot (harness mode only).
    async fn next_update(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(update) = self.buffered.lock().unwrap().pop_front() {
                return update;
            }
            let offset = *self.offset.lock().unwrap();
            let res = self
                .bot_api("getUpdates", json!({ "offset": offset, "timeout": 1 }))
                .await;
            let updates = res["result"].as_array().cloned().unwrap_or_default();
            if let Some(last) = updates.last() {
                *self.offset.lock().unwrap() = last["update_id"].as_i64().unwrap() + 1;
            }
            self.buffered.lock().unwrap().extend(updates);
            assert!(Instant::now() < deadline, "no update came");
        }
    }

    async fn feed(&self, update: &Value) {
        self.d
            .inbox
            .ingest_json(update.to_string().as_bytes())
            .await
            .unwrap();
    }

    /// Plays the payment sheet with the shop answering the pre-checkout query; returns the
    /// emulator's outcome and, when paid, the `successful_payment` update, not yet fed.
    async fn pay_through(&self, link: &str, user: i64) -> (Value, Option<Value>) {
        let pay = self.pay(link, user);
        let query = self
            .next_matching(|u| u.get("pre_checkout_query").is_some())
            .await;
        self.feed(&query).await;
        let outcome = pay.await.unwrap();
        if outcome["status"] != "paid" {
            return (outcome, None);
        }
        let paid = self
            .next_matching(|u| u["message"].get("successful_payment").is_some())
            .await;
        (outcome, Some(paid))
    }

    /// The next update that `wanted` accepts; those before it are kept in `others`.
    async fn next_matching(&self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let update = self.next_update().await;
            if wanted(&update) {
                return update;
            }
            self.others.lock().unwrap().push(update);
        }
    }

    async fn status(&self, buyer: i64, order: &payments::NewOrder) -> OrderStatus {
        payments::order_status(&self.d.db, buyer, &order.public_id)
            .await
            .unwrap()
    }

    async fn owns(&self, buyer: i64, slug: &str) -> bool {
        server::on_db!(&self.d.db, |pool| sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM entitlements e JOIN products p ON p.id = e.product_id
                            WHERE e.user_id = $1 AND p.slug = $2 AND e.revoked_at IS NULL)",
        )
        .bind(buyer)
        .bind(slug)
        .fetch_one(pool)
        .await)
        .unwrap()
    }

    async fn deliver(&self) -> usize {
        payments::deliver_due(
            &self.d.db,
            &self.d.bot,
            &self.d.storage,
            &DeliveryConfig::default(),
        )
        .await
        .unwrap()
    }

    async fn content_files(&self, slug: &str) -> Vec<(String, String)> {
        server::on_db!(&self.d.db, |pool| sqlx::query_as(
            "SELECT f.file_name, f.sha256 FROM product_files f JOIN products p ON p.id = f.product_id
             WHERE p.slug = $1 AND f.role = 'content' ORDER BY f.id",
        )
        .bind(slug)
        .fetch_all(pool)
        .await)
        .unwrap()
    }

    async fn stars(&self, user: i64) -> i64 {
        self.get(&format!("users/{user}")).await["stars"]
            .as_i64()
            .unwrap()
    }
}

fn documents(chat: &[Value]) -> Vec<(String, String)> {
    chat.iter()
        .filter(|m| m["message"].get("document").is_some())
        .map(|m| {
            (
                m["file"]["file_name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                m["file"]["sha256"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_purchase_over_long_polling_is_paid_granted_and_delivered_once() {
    let h = shop().await;
    h.buyer(701).await;
    let public = url::Url::parse("https://shop.example/").unwrap();
    let order = payments::create_order(&h.d.db, &h.d.bot, 701, RUST_BOOK, Some(&public))
        .await
        .unwrap();
    assert_eq!(order.amount.get(), 250);
    assert_eq!(h.status(701, &order).await, OrderStatus::Pending);
    let invoice = h
        .get(&format!(
            "invoices/{}",
            order.invoice_link.rsplit('$').next().unwrap()
        ))
        .await;
    assert_eq!(invoice["payload"], order.public_id.as_str());
    assert_eq!(invoice["currency"], "XTR");
    assert_eq!(invoice["amount"], 250);
    assert!(invoice["photo_url"]
        .as_str()
        .unwrap()
        .starts_with("https://shop.example/media/"));
    // Tapping Buy again gives the same open order, not a second payable one.
    assert_eq!(h.order(701, RUST_BOOK).await, order);

    let outcome = h.pay(&order.invoice_link, 701).await.unwrap();
    assert_eq!(outcome["status"], "paid", "{outcome}");
    wait_for("the payment", async || {
        h.status(701, &order).await == OrderStatus::Paid
    })
    .await;
    assert!(h.owns(701, RUST_BOOK).await);
    assert_eq!(h.stars(701).await, 2500 - 250);
    let charge: String = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT telegram_payment_charge_id FROM orders WHERE public_id = $1"
    )
    .bind(&order.public_id)
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(outcome["telegram_payment_charge_id"], charge.as_str());
    assert!(matches!(
        payments::create_order(&h.d.db, &h.d.bot, 701, RUST_BOOK, None).await,
        Err(PaymentError::AlreadyOwned)
    ));

    // The served shop's own delivery worker sends the files.
    let files = h.content_files(RUST_BOOK).await;
    assert!(!files.is_empty());
    wait_for("the delivery", async || {
        documents(&h.chat(701).await) == files
    })
    .await;
    assert_eq!(h.deliver().await, 0, "nothing left to send");
    assert_eq!(documents(&h.chat(701).await), files, "sent once");
    // Another buyer cannot read this order's status.
    assert!(matches!(
        payments::order_status(&h.d.db, 702, &order.public_id).await,
        Err(PaymentError::OrderNotFound)
    ));
}

#[tokio::test]
async fn pre_checkout_declines_each_unpayable_case_with_its_message() {
    let h = harness().await;
    for id in [801, 802, 803, 804, 805] {
        h.buyer(id).await;
    }
    let declined = |outcome: &Value, words: &str| {
        assert_eq!(outcome["status"], "declined", "{outcome}");
        let message = outcome["error_message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    };

    // An invoice the shop did not make.
    let stray = h
        .bot_api(
            "createInvoiceLink",
            json!({ "title": "Stray", "description": "x", "payload": "nobody-knows",
                    "currency": "XTR", "prices": [{ "label": "Stray", "amount": 10 }] }),
        )
        .await;
    let (outcome, _) = h.pay_through(stray["result"].as_str().unwrap(), 801).await;
    declined(&outcome, "not known to the shop");

    // Someone else's order.
    let order = h.order(801, RUST_BOOK).await;
    let (outcome, _) = h.pay_through(&order.invoice_link, 802).await;
    declined(&outcome, "another Telegram account");

    // An invoice for a real order at another amount.
    let forged = h
        .bot_api(
            "createInvoiceLink",
            json!({ "title": "Cheap", "description": "x", "payload": order.public_id,
                    "currency": "XTR", "prices": [{ "label": "Cheap", "amount": 1 }] }),
        )
        .await;
    let (outcome, _) = h.pay_through(forged["result"].as_str().unwrap(), 801).await;
    declined(&outcome, "amount does not match");

    // The product was taken off sale between Buy and Pay.
    let order = h.order(803, SOURDOUGH).await;
    server::on_db!(&h.d.db, |pool| sqlx::query(
        "UPDATE products SET status = 'archived' WHERE slug = $1"
    )
    .bind(SOURDOUGH)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let (outcome, _) = h.pay_through(&order.invoice_link, 803).await;
    declined(&outcome, "no longer on sale");
    server::on_db!(&h.d.db, |pool| sqlx::query(
        "UPDATE products SET status = 'published' WHERE slug = $1"
    )
    .bind(SOURDOUGH)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();

    // Already owned (granted by another order meanwhile).
    let order = h.order(804, SOURDOUGH).await;
    server::on_db!(&h.d.db, |pool| sqlx::query(
        "INSERT INTO entitlements (user_id, product_id) SELECT 804, id FROM products WHERE slug = $1",
    )
    .bind(SOURDOUGH)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let (outcome, _) = h.pay_through(&order.invoice_link, 804).await;
    declined(&outcome, "already own");

    // Expired orders are not payable.
    let order = h.order(805, SOURDOUGH).await;
    // Every order still pending here (801's, 803's, 804's and this one) expires.
    assert_eq!(
        payments::expire_stale(&h.d.db, Duration::ZERO)
            .await
            .unwrap(),
        4
    );
    assert_eq!(h.status(805, &order).await, OrderStatus::Expired);
    let (outcome, _) = h.pay_through(&order.invoice_link, 805).await;
    declined(&outcome, "expired");

    // A query in another currency, injected as Telegram would send it: the verdict is a decline.
    let query: tgbot::types::PreCheckoutQuery = serde_json::from_value(json!({
        "id": "1", "from": { "id": 805, "is_bot": false, "first_name": "B" },
        "currency": "USD", "total_amount": 120, "invoice_payload": order.public_id
    }))
    .unwrap();
    assert_eq!(
        payments::checkout::check_pre_checkout(&h.d.db, &query, clock::unix_now()).await,
        Err(payments::Decline::WrongCurrency)
    );
    // Nobody was charged for any of it.
    for id in [801, 802, 803, 804, 805] {
        assert_eq!(h.stars(id).await, 2500, "user {id}");
    }
    let paid: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM orders WHERE status = 'paid'"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(paid, 0);
}

#[tokio::test]
async fn repeated_and_reordered_payment_updates_grant_once() {
    let h = harness().await;
    h.buyer(901).await;
    h.buyer(902).await;
    let a = h.order(901, RUST_BOOK).await;
    let b = h.order(902, SOURDOUGH).await;
    let (_, paid_a) = h.pay_through(&a.invoice_link, 901).await;
    let (_, paid_b) = h.pay_through(&b.invoice_link, 902).await;
    let (paid_a, paid_b) = (paid_a.unwrap(), paid_b.unwrap());

    // B's update first, then A's, then both again, and A's payment under a new update id (as a
    // redelivery after the inbox lost track would be).
    h.feed(&paid_b).await;
    h.feed(&paid_a).await;
    h.feed(&paid_b).await;
    h.feed(&paid_a).await;
    let mut again = paid_a.clone();
    again["update_id"] = json!(paid_a["update_id"].as_i64().unwrap() + 1000);
    h.feed(&again).await;
    let payment: tgbot::types::SuccessfulPayment =
        serde_json::from_value(paid_a["message"]["successful_payment"].clone()).unwrap();
    assert_eq!(
        payments::apply_payment(&h.d.db, 901, &payment)
            .await
            .unwrap(),
        Applied::AlreadyApplied
    );

    assert_eq!(h.status(901, &a).await, OrderStatus::Paid);
    assert_eq!(h.status(902, &b).await, OrderStatus::Paid);
    let (entitlements, deliveries): (i64, i64) = server::on_db!(&h.d.db, |pool| sqlx::query_as(
        "SELECT (SELECT count(*) FROM entitlements WHERE revoked_at IS NULL),
                (SELECT count(*) FROM deliveries)",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!((entitlements, deliveries), (2, 2));
    assert_eq!(h.deliver().await, 2);
    assert_eq!(
        documents(&h.chat(901).await).len(),
        h.content_files(RUST_BOOK).await.len()
    );

    // A payment whose payload names no order is recorded once, owed back, and grants nothing.
    let mut stray = payment.clone();
    stray.invoice_payload = "nobody-knows".into();
    stray.telegram_payment_charge_id = "stx-stray".into();
    for _ in 0..2 {
        let applied = payments::apply_payment(&h.d.db, 901, &stray).await.unwrap();
        assert!(
            matches!(applied, Applied::Unmatched { .. } | Applied::AlreadyApplied),
            "{applied:?}"
        );
    }
    let unmatched: Vec<(String, String, String)> = server::on_db!(&h.d.db, |pool| sqlx::query_as(
        "SELECT charge_id, state, reason FROM star_charges WHERE state <> 'granted'"
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    assert_eq!(
        unmatched,
        [(
            "stx-stray".to_owned(),
            "refund_due".to_owned(),
            "unknown_payload".to_owned()
        )]
    );
}

#[tokio::test]
async fn concurrent_appliers_of_one_charge_grant_once() {
    let h = harness().await;
    h.buyer(961).await;
    let order = h.order(961, RUST_BOOK).await;
    let (_, paid) = h.pay_through(&order.invoice_link, 961).await;
    let paid = paid.unwrap();
    let payment: tgbot::types::SuccessfulPayment =
        serde_json::from_value(paid["message"]["successful_payment"].clone()).unwrap();
    // Webhook retries, a second replica and reconciliation, all at once.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (db, payment) = (h.d.db.clone(), payment.clone());
        tasks.push(tokio::spawn(async move {
            payments::apply_payment(&db, 961, &payment).await.unwrap()
        }));
    }
    let (db, bot) = (h.d.db.clone(), h.d.bot.clone());
    let reconciler = tokio::spawn(async move { payments::reconcile(&db, &bot).await.unwrap() });
    let mut granted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Applied::Granted { .. } => granted += 1,
            Applied::AlreadyApplied => {}
            other => panic!("{other:?}"),
        }
    }
    granted += reconciler.await.unwrap().payments_applied;
    assert_eq!(granted, 1);
    let deliveries: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM deliveries"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(deliveries, 1);
}

#[tokio::test]
async fn a_refund_that_overtakes_its_payment_leaves_nothing_granted() {
    let h = harness().await;
    h.buyer(951).await;
    let order = h.order(951, SOURDOUGH).await;
    let (_, paid) = h.pay_through(&order.invoice_link, 951).await;
    let paid = paid.unwrap();
    let payment: tgbot::types::SuccessfulPayment =
        serde_json::from_value(paid["message"]["successful_payment"].clone()).unwrap();
    let refund: tgbot::types::RefundedPayment = serde_json::from_value(json!({
        "currency": "XTR", "total_amount": payment.total_amount,
        "invoice_payload": payment.invoice_payload,
        "telegram_payment_charge_id": payment.telegram_payment_charge_id,
    }))
    .unwrap();
    assert!(matches!(
        payments::apply_refund(&h.d.db, 951, &refund).await.unwrap(),
        payments::RefundApplied::Refunded { .. }
    ));
    h.feed(&paid).await;
    assert_eq!(h.status(951, &order).await, OrderStatus::Refunded);
    assert!(!h.owns(951, SOURDOUGH).await);
    assert_eq!(h.deliver().await, 0);
}

#[tokio::test]
async fn late_payments_grant_expired_orders_and_are_held_for_refunded_ones() {
    let h = harness().await;
    h.buyer(1051).await;
    let order = h.order(1051, SOURDOUGH).await;
    // The buyer confirmed while the order was pending; the charge lands after it expired.
    let (_, paid) = h.pay_through(&order.invoice_link, 1051).await;
    assert_eq!(
        payments::expire_stale(&h.d.db, Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    assert_eq!(h.status(1051, &order).await, OrderStatus::Expired);
    let paid = paid.unwrap();
    h.feed(&paid).await;
    assert_eq!(
        h.status(1051, &order).await,
        OrderStatus::Paid,
        "the buyer paid"
    );
    assert!(h.owns(1051, SOURDOUGH).await);

    // A second charge for the same order, after it was refunded, is owed back by rule.
    let creator = Actor {
        user_id: 1003,
        is_admin: false,
    };
    payments::refund(&h.d.db, &h.d.bot, order.public_id.as_str(), creator)
        .await
        .unwrap();
    let mut payment: tgbot::types::SuccessfulPayment =
        serde_json::from_value(paid["message"]["successful_payment"].clone()).unwrap();
    payment.telegram_payment_charge_id = "stx-second".into();
    assert_eq!(
        payments::apply_payment(&h.d.db, 1051, &payment)
            .await
            .unwrap(),
        Applied::Unmatched {
            reason: "subject_refunded",
            refund_due: true
        }
    );
    assert_eq!(
        payments::apply_payment(&h.d.db, 1051, &payment)
            .await
            .unwrap(),
        Applied::AlreadyApplied
    );
    assert!(!h.owns(1051, SOURDOUGH).await);
    assert_eq!(h.status(1051, &order).await, OrderStatus::Refunded);
}

#[tokio::test]
async fn reconciliation_recovers_lost_payment_updates() {
    let h = harness().await;
    h.buyer(1101).await;
    h.buyer(1102).await;
    let a = h.order(1101, RUST_BOOK).await;
    let b = h.order(1102, SOURDOUGH).await;
    // Both successful_payment updates are lost on the way.
    let (_, lost_a) = h.pay_through(&a.invoice_link, 1101).await;
    let (_, lost_b) = h.pay_through(&b.invoice_link, 1102).await;
    assert_eq!(h.status(1101, &a).await, OrderStatus::Pending);

    let report = payments::reconcile(&h.d.db, &h.d.bot).await.unwrap();
    assert_eq!(report.payments_applied, 2, "{report:?}");
    assert_eq!(report.next_offset, 2);
    assert_eq!(h.status(1101, &a).await, OrderStatus::Paid);
    assert_eq!(h.status(1102, &b).await, OrderStatus::Paid);
    assert!(h.owns(1101, RUST_BOOK).await && h.owns(1102, SOURDOUGH).await);

    // The updates turning up late, and another run, change nothing.
    h.feed(&lost_a.unwrap()).await;
    h.feed(&lost_b.unwrap()).await;
    let report = payments::reconcile(&h.d.db, &h.d.bot).await.unwrap();
    assert_eq!(
        (report.scanned, report.payments_applied),
        (0, 0),
        "{report:?}"
    );
    assert_eq!(h.deliver().await, 2);

    // A refund made outside the shop (its refunded_payment update lost too) is found as well.
    let charge: String = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT telegram_payment_charge_id FROM orders WHERE public_id = $1"
    )
    .bind(&b.public_id)
    .fetch_one(pool)
    .await)
    .unwrap();
    let refunded = h
        .bot_api(
            "refundStarPayment",
            json!({ "user_id": 1102, "telegram_payment_charge_id": charge }),
        )
        .await;
    assert_eq!(refunded["ok"], true, "{refunded}");
    let report = payments::reconcile(&h.d.db, &h.d.bot).await.unwrap();
    assert_eq!(report.refunds_applied, 1, "{report:?}");
    assert_eq!(h.status(1102, &b).await, OrderStatus::Refunded);
    assert!(!h.owns(1102, SOURDOUGH).await);
}

#[tokio::test]
async fn reconciliation_grants_a_payment_an_affiliate_shared() {
    let h = harness().await;
    h.buyer(1103).await;
    h.control("users", json!({ "id": 1190, "first_name": "Affiliate" }))
        .await;
    // The buyer came through an affiliate's link: 125 ‰ of what they pay goes to the affiliate.
    h.control(
        "users/1103/affiliate",
        json!({ "affiliate_user_id": 1190, "commission_per_mille": 125 }),
    )
    .await;
    let order = h.order(1103, RUST_BOOK).await; // 250 Stars
    let (_, late) = h.pay_through(&order.invoice_link, 1103).await;
    let ledger = h.get("transactions").await;
    let entry = &ledger[0];
    assert_eq!(
        (&entry["amount"], &entry["nanostar_amount"]),
        (&json!(218), &json!(750_000_000)),
        "the bot got 218.75 Stars: {entry}"
    );
    let affiliate = &entry["source"]["affiliate"];
    assert_eq!(affiliate["affiliate_user"]["id"], 1190, "{entry}");
    assert_eq!(
        (&affiliate["amount"], &affiliate["nanostar_amount"]),
        (&json!(31), &json!(250_000_000))
    );

    // Reconciliation sees the charge before its successful_payment: it grants.
    let report = payments::reconcile(&h.d.db, &h.d.bot).await.unwrap();
    assert_eq!(
        (report.payments_applied, report.payments_unmatched),
        (1, 0),
        "{report:?}"
    );
    assert_eq!(h.status(1103, &order).await, OrderStatus::Paid);
    assert!(h.owns(1103, RUST_BOOK).await);
    // The successful_payment (with the full 250) turning up later changes nothing.
    h.feed(&late.unwrap()).await;
    assert_eq!(h.status(1103, &order).await, OrderStatus::Paid);
    let held: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM star_charges WHERE state <> 'granted'"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(held, 0);

    // A refund: the bot pays back its share, the affiliate's commission is returned.
    let charge: String = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT telegram_payment_charge_id FROM orders WHERE public_id = $1"
    )
    .bind(&order.public_id)
    .fetch_one(pool)
    .await)
    .unwrap();
    let refunded = h
        .bot_api(
            "refundStarPayment",
            json!({ "user_id": 1103, "telegram_payment_charge_id": charge }),
        )
        .await;
    assert_eq!(refunded["ok"], true, "{refunded}");
    let ledger = h.get("transactions").await;
    assert_eq!(
        ledger[1]["receiver"]["affiliate"]["amount"], -31,
        "{ledger}"
    );
    let report = payments::reconcile(&h.d.db, &h.d.bot).await.unwrap();
    assert_eq!(report.refunds_applied, 1, "{report:?}");
    assert_eq!(h.status(1103, &order).await, OrderStatus::Refunded);
    let buyer = h.get("users/1103").await;
    assert_eq!(buyer["stars"], 2500, "the buyer has every Star back");
}

#[tokio::test]
async fn the_creator_refunds_once_and_nobody_else_can() {
    let h = harness().await;
    h.buyer(1201).await;
    let order = h.order(1201, RUST_BOOK).await;
    let (_, paid) = h.pay_through(&order.invoice_link, 1201).await;
    h.feed(&paid.unwrap()).await;
    assert!(h.owns(1201, RUST_BOOK).await);

    let stranger = Actor {
        user_id: 1003,
        is_admin: false,
    };
    let buyer = Actor {
        user_id: 1201,
        is_admin: false,
    };
    for actor in [stranger, buyer] {
        assert!(matches!(
            payments::refund(&h.d.db, &h.d.bot, order.public_id.as_str(), actor).await,
            Err(PaymentError::Forbidden)
        ));
    }
    assert_eq!(h.stars(1201).await, 2500 - 250);

    let creator = Actor {
        user_id: 1001,
        is_admin: false,
    };
    assert_eq!(
        payments::refund(&h.d.db, &h.d.bot, order.public_id.as_str(), creator)
            .await
            .unwrap(),
        RefundOutcome::Refunded
    );
    assert_eq!(h.status(1201, &order).await, OrderStatus::Refunded);
    assert!(!h.owns(1201, RUST_BOOK).await);
    assert_eq!(h.stars(1201).await, 2500);
    // Nothing is sent for a refunded order.
    assert_eq!(h.deliver().await, 0);
    assert!(h.chat(1201).await.is_empty());

    // Again by the creator, by an admin, and Telegram's refunded_payment message: no-ops.
    assert_eq!(
        payments::refund(&h.d.db, &h.d.bot, order.public_id.as_str(), creator)
            .await
            .unwrap(),
        RefundOutcome::AlreadyRefunded
    );
    let admin = Actor {
        user_id: 1,
        is_admin: true,
    };
    let id: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT id FROM orders WHERE public_id = $1"
    )
    .bind(&order.public_id)
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(
        payments::refund(&h.d.db, &h.d.bot, id, admin)
            .await
            .unwrap(),
        RefundOutcome::AlreadyRefunded
    );
    let message = h.next_update().await;
    assert!(
        message["message"].get("refunded_payment").is_some(),
        "{message}"
    );
    h.feed(&message).await;
    assert_eq!(h.status(1201, &order).await, OrderStatus::Refunded);
    assert_eq!(h.stars(1201).await, 2500, "refunded exactly once");
    let ledger = h.get("transactions").await;
    assert_eq!(ledger.as_array().unwrap().len(), 2, "{ledger}");

    // A pending order cannot be refunded.
    h.buyer(1202).await;
    let pending = h.order(1202, RUST_BOOK).await;
    assert!(matches!(
        payments::refund(&h.d.db, &h.d.bot, pending.public_id.as_str(), admin).await,
        Err(PaymentError::NotRefundable(OrderStatus::Pending))
    ));
}

#[tokio::test]
async fn a_refund_telegram_already_made_counts_as_done() {
    let h = harness().await;
    h.buyer(1251).await;
    let order = h.order(1251, SOURDOUGH).await;
    let (outcome, paid) = h.pay_through(&order.invoice_link, 1251).await;
    h.feed(&paid.unwrap()).await;
    // Refunded by hand (or by an attempt whose answer was lost); the shop has not heard.
    let refunded = h
        .bot_api(
            "refundStarPayment",
            json!({ "user_id": 1251, "telegram_payment_charge_id": outcome["telegram_payment_charge_id"] }),
        )
        .await;
    assert_eq!(refunded["ok"], true, "{refunded}");
    assert_eq!(h.status(1251, &order).await, OrderStatus::Paid);

    let creator = Actor {
        user_id: 1003,
        is_admin: false,
    };
    assert_eq!(
        payments::refund(&h.d.db, &h.d.bot, order.public_id.as_str(), creator)
            .await
            .unwrap(),
        RefundOutcome::Refunded
    );
    assert_eq!(h.status(1251, &order).await, OrderStatus::Refunded);
    assert!(!h.owns(1251, SOURDOUGH).await);
    assert_eq!(h.stars(1251).await, 2500, "returned once");
}

#[tokio::test]
async fn a_restart_between_payment_and_delivery_sends_the_files_once() {
    let h = harness().await;
    h.buyer(1301).await;
    let order = h.order(1301, RUST_BOOK).await;
    let (_, paid) = h.pay_through(&order.invoice_link, 1301).await;
    h.feed(&paid.unwrap()).await;
    assert_eq!(h.status(1301, &order).await, OrderStatus::Paid);
    // The process stops before its delivery worker ran.
    h.d.db.close().await;

    // Two replicas come up on the same data and race for the outbox.
    let first = domain(&h.config).await;
    let second = domain(&h.config).await;
    let run = |d: &Domain| {
        let (db, bot, storage) = (d.db.clone(), d.bot.clone(), d.storage.clone());
        tokio::spawn(async move {
            payments::deliver_due(&db, &bot, &storage, &DeliveryConfig::default())
                .await
                .unwrap()
        })
    };
    let (a, b) = (run(&first), run(&second));
    assert_eq!(a.await.unwrap() + b.await.unwrap(), 1);
    let files: Vec<(String, String)> = server::on_db!(&first.db, |pool| {
        sqlx::query_as(
        "SELECT f.file_name, f.sha256 FROM product_files f JOIN products p ON p.id = f.product_id
         WHERE p.slug = $1 AND f.role = 'content' ORDER BY f.id",
    )
    .bind(RUST_BOOK)
    .fetch_all(pool)
    .await
    })
    .unwrap();
    assert!(!files.is_empty());
    assert_eq!(documents(&h.chat(1301).await), files);
    let (status, attempts): (String, i64) = server::on_db!(&first.db, |pool| sqlx::query_as(
        "SELECT status, attempts FROM deliveries"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!((status.as_str(), attempts), ("sent", 1));
}

#[tokio::test]
async fn failed_deliveries_back_off_and_large_files_become_links() {
    let h = harness().await;
    h.buyer(1401).await;
    h.buyer(1402).await;
    let order = h.order(1401, SOURDOUGH).await;
    let (_, paid) = h.pay_through(&order.invoice_link, 1401).await;
    h.feed(&paid.unwrap()).await;

    // The stored file is missing: the attempt is recorded and retried later, not lost.
    let key: String = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT f.storage_key FROM product_files f JOIN products p ON p.id = f.product_id
         WHERE p.slug = $1 AND f.role = 'content' ORDER BY f.id LIMIT 1",
    )
    .bind(SOURDOUGH)
    .fetch_one(pool)
    .await)
    .unwrap();
    let path =
        h.d.storage
            .local_path(server::storage::Area::Private, &key)
            .unwrap();
    let aside = path.with_extension("aside");
    std::fs::rename(&path, &aside).unwrap();
    assert_eq!(h.deliver().await, 0);
    let (status, attempts, wait, error): (String, i64, i64, Option<String>) =
        server::on_db!(&h.d.db, |pool| sqlx::query_as(
            "SELECT status, attempts, next_attempt_at - unixepoch(), last_error FROM deliveries",
        )
        .fetch_one(pool)
        .await)
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!((4..=5).contains(&wait), "backed off: {wait}");
    assert!(error.unwrap().contains("storage"));
    assert_eq!(h.deliver().await, 0, "not due yet");
    assert!(h.chat(1401).await.is_empty());

    std::fs::rename(&aside, &path).unwrap();
    server::on_db!(&h.d.db, |pool| sqlx::query(
        "UPDATE deliveries SET next_attempt_at = 0"
    )
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    assert_eq!(h.deliver().await, 1);
    assert_eq!(
        documents(&h.chat(1401).await),
        h.content_files(SOURDOUGH).await
    );

    // Files past the (here lowered) upload limit go as a link to the library.
    let order = h.order(1402, SOURDOUGH).await;
    let (_, paid) = h.pay_through(&order.invoice_link, 1402).await;
    h.feed(&paid.unwrap()).await;
    let config = DeliveryConfig {
        public_base: Some(url::Url::parse("https://shop.example/").unwrap()),
        max_upload_bytes: Some(1),
    };
    let sent = payments::deliver_due(&h.d.db, &h.d.bot, &h.d.storage, &config)
        .await
        .unwrap();
    assert_eq!(sent, 1);
    let chat = h.chat(1402).await;
    assert!(documents(&chat).is_empty());
    assert_eq!(chat.len(), h.content_files(SOURDOUGH).await.len());
    assert!(chat[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("https://shop.example/library"));
}

/// A small deterministic generator (xorshift64*), so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[tokio::test]
async fn randomized_purchases_with_lost_repeated_and_reordered_updates_settle_exactly() {
    const SLUGS: [&str; 6] = [
        "pocket-guide-to-rust",
        "night-photography-field-notes",
        "sourdough-at-home",
        "telegram-mini-apps-from-scratch",
        "watercolour-basics",
        "lofi-sample-pack-vol-1",
    ];
    const USERS: i64 = 300;
    let seed = std::env::var("PAYMENTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe_u64);
    let mut rng = Rng(seed | 1);
    let h = harness().await;
    for user in 0..USERS {
        h.buyer(5000 + user).await;
        h.control(
            &format!("users/{}/stars", 5000 + user),
            json!({ "balance": 100_000 }),
        )
        .await;
    }
    let admin = Actor {
        user_id: 1,
        is_admin: true,
    };
    // Pairs whose payment update has not reached the shop yet: buying again would pay the same
    // open order twice, which is a different story (recorded for review, tested above).
    let mut in_flight = std::collections::HashSet::new();
    let mut deferred = Vec::new();
    let mut purchases = 0;
    // PAYMENTS_ROUNDS scales the run up (or down) without touching the code.
    let rounds: u32 = std::env::var("PAYMENTS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    for _ in 0..rounds {
        let user = 5000 + rng.below(USERS as u64) as i64;
        let slug = SLUGS[rng.below(SLUGS.len() as u64) as usize];
        if in_flight.contains(&(user, slug)) {
            continue;
        }
        let order = match payments::create_order(&h.d.db, &h.d.bot, user, slug, None).await {
            Ok(order) => order,
            Err(PaymentError::AlreadyOwned) => continue,
            Err(err) => panic!("{err}"),
        };
        let (outcome, paid) = h.pay_through(&order.invoice_link, user).await;
        let paid = paid.unwrap_or_else(|| panic!("{outcome}"));
        purchases += 1;
        match rng.below(10) {
            0 | 1 => {
                in_flight.insert((user, slug));
            }
            2 | 3 => {
                in_flight.insert((user, slug));
                deferred.push(paid);
            }
            4 => {
                h.feed(&paid).await;
                h.feed(&paid).await;
            }
            _ => h.feed(&paid).await,
        }
        if rng.below(8) == 0 {
            let paid_orders: Vec<String> = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
                "SELECT public_id FROM orders WHERE status = 'paid' ORDER BY id",
            )
            .fetch_all(pool)
            .await)
            .unwrap();
            if !paid_orders.is_empty() {
                let pick = &paid_orders[rng.below(paid_orders.len() as u64) as usize];
                let outcome = payments::refund(&h.d.db, &h.d.bot, pick.as_str(), admin)
                    .await
                    .unwrap();
                assert_eq!(outcome, RefundOutcome::Refunded);
            }
        }
        if rng.below(25) == 0 {
            payments::reconcile(&h.d.db, &h.d.bot).await.unwrap();
            in_flight.clear();
        }
        if rng.below(15) == 0 {
            h.deliver().await;
        }
    }
    assert!(purchases >= 1000, "only {purchases} purchases");

    // Late updates in a shuffled order, some twice; refund messages likewise, some lost.
    rng.shuffle(&mut deferred);
    for update in &deferred {
        h.feed(update).await;
        if rng.below(3) == 0 {
            h.feed(update).await;
        }
    }
    let mut others = std::mem::take(&mut *h.others.lock().unwrap());
    rng.shuffle(&mut others);
    for update in others.iter().filter(|_| rng.below(4) != 0) {
        h.feed(update).await;
    }
    payments::reconcile(&h.d.db, &h.d.bot).await.unwrap();
    while h.deliver().await > 0 {}

    // The shop's books equal Telegram's ledger, charge by charge.
    let ledger = h.get("transactions").await;
    let ledger = ledger.as_array().unwrap();
    let charged: std::collections::BTreeSet<String> = ledger
        .iter()
        .filter(|t| t.get("source").is_some())
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    let refunded: std::collections::BTreeSet<String> = ledger
        .iter()
        .filter(|t| t.get("receiver").is_some())
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(charged.len(), purchases);
    let rows: Vec<(String, String)> = server::on_db!(&h.d.db, |pool| sqlx::query_as(
        "SELECT telegram_payment_charge_id, status FROM orders
         WHERE telegram_payment_charge_id IS NOT NULL",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    let db_charges: std::collections::BTreeSet<String> =
        rows.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(db_charges, charged);
    for (charge, status) in &rows {
        let expected = if refunded.contains(charge) {
            "refunded"
        } else {
            "paid"
        };
        assert_eq!(status, expected, "{charge}");
    }
    let unmatched: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM star_charges WHERE state IN ('held', 'refund_due')"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(unmatched, 0);

    // Access follows the paid orders exactly, and every paid order was delivered once.
    let wrong: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM entitlements e
         WHERE (e.revoked_at IS NULL) != EXISTS (
             SELECT 1 FROM orders o WHERE o.user_id = e.user_id AND o.product_id = e.product_id
               AND o.status = 'paid')",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(wrong, 0);
    let (paid, missing_grants): (i64, i64) = server::on_db!(&h.d.db, |pool| sqlx::query_as(
        "SELECT count(*), count(CASE WHEN NOT EXISTS (SELECT 1 FROM entitlements e
                  WHERE e.user_id = o.user_id AND e.product_id = o.product_id
                    AND e.revoked_at IS NULL AND e.order_id = o.id) THEN 1 END)
         FROM orders o WHERE o.status = 'paid'",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(missing_grants, 0);
    let unsent: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM orders o LEFT JOIN deliveries d ON d.order_id = o.id
         WHERE o.status = 'paid' AND (d.status IS NULL OR d.status != 'sent')",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(unsent, 0, "of {paid} paid orders");
    for user in 0..USERS {
        let user = 5000 + user;
        let expected: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
            "SELECT count(*) FROM deliveries d JOIN orders o ON o.id = d.order_id
             JOIN product_files f ON f.product_id = o.product_id AND f.role = 'content'
             WHERE o.user_id = $1 AND d.status = 'sent'",
        )
        .bind(user)
        .fetch_one(pool)
        .await)
        .unwrap();
        let sent = documents(&h.chat(user).await).len() as i64;
        assert_eq!(sent, expected, "documents sent to {user}");
        let spent: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
            "SELECT CAST(coalesce(sum(amount_stars), 0) AS BIGINT) FROM orders
             WHERE user_id = $1 AND status = 'paid'",
        )
        .bind(user)
        .fetch_one(pool)
        .await)
        .unwrap();
        assert_eq!(h.stars(user).await, 100_000 - spent, "balance of {user}");
    }
}

#[tokio::test]
async fn demo_refund_mode_gives_the_stars_back_after_delivery() {
    let h = Harness::new(TestApp::start(&[("DEMO_REFUND", "1")]).await).await;
    h.buyer(1501).await;
    let order = h.order(1501, RUST_BOOK).await;
    let outcome = h.pay(&order.invoice_link, 1501).await.unwrap();
    assert_eq!(outcome["status"], "paid", "{outcome}");
    let files = h.content_files(RUST_BOOK).await;
    wait_for("the delivery", async || {
        documents(&h.chat(1501).await) == files
    })
    .await;
    wait_for("the demo refund", async || {
        h.status(1501, &order).await == OrderStatus::Refunded
    })
    .await;
    assert_eq!(h.stars(1501).await, 2500, "the buyer got every Star back");
    assert!(!h.owns(1501, RUST_BOOK).await);
}

#[tokio::test]
async fn the_refund_endpoint_lets_the_creator_refund_and_revokes_the_download() {
    let h = shop().await;
    h.buyer(1601).await;
    let order = h.order(1601, RUST_BOOK).await;
    assert_eq!(
        h.pay(&order.invoice_link, 1601).await.unwrap()["status"],
        "paid"
    );
    wait_for("the payment", async || {
        h.status(1601, &order).await == OrderStatus::Paid
    })
    .await;
    let library: Value = h
        .http
        .get(format!("{}/api/library", h.base))
        .header("authorization", auth(1601))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let download = format!(
        "{}{}",
        h.base,
        library[0]["files"][0]["url"].as_str().unwrap()
    );
    assert_eq!(h.http.get(&download).send().await.unwrap().status(), 200);

    let refund = |id: i64| {
        h.http
            .post(format!("{}/api/orders/{}/refund", h.base, order.public_id))
            .header("authorization", auth(id))
            .send()
    };
    // The buyer is not the creator; 1001 (Mira Patel) created the Rust book.
    let res = refund(1601).await.unwrap();
    assert_eq!(res.status(), 403);
    let res = refund(1001).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "refunded");
    let res = refund(1001).await.unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap()["status"],
        "already_refunded"
    );

    assert_eq!(h.http.get(&download).send().await.unwrap().status(), 403);
    assert_eq!(h.stars(1601).await, 2500);
}

const COURSE: &str = "watercolour-basics"; // by creator 1003, 450 Stars

fn admin() -> Actor {
    Actor {
        user_id: 1,
        is_admin: true,
    }
}

/// The Star transactions the emulator's ledger holds that returned Stars to `user`.
async fn refunds_to(h: &Harness, user: i64) -> usize {
    h.get("transactions")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["receiver"]["user"]["id"] == user)
        .count()
}

#[tokio::test]
async fn a_second_sheet_for_one_order_is_refunded_not_kept() {
    let h = harness().await;
    h.buyer(1701).await;
    let order = h.order(1701, SOURDOUGH).await;
    // Buy tapped twice hands back the same invoice link: two sheets, both pass pre-checkout
    // before either charge reaches the shop.
    let (first_outcome, first) = h.pay_through(&order.invoice_link, 1701).await;
    let (second_outcome, second) = h.pay_through(&order.invoice_link, 1701).await;
    assert_eq!(first_outcome["status"], "paid", "{first_outcome}");
    assert_eq!(second_outcome["status"], "paid", "{second_outcome}");
    h.feed(&first.unwrap()).await;
    h.feed(&second.unwrap()).await;
    assert_eq!(h.status(1701, &order).await, OrderStatus::Paid);
    assert!(h.owns(1701, SOURDOUGH).await);
    assert_eq!(
        h.stars(1701).await,
        2500 - 120,
        "the second charge went back"
    );
    assert_eq!(refunds_to(&h, 1701).await, 1);
    // The refund's own update changes nothing more.
    let refund = h
        .next_matching(|u| u["message"].get("refunded_payment").is_some())
        .await;
    h.feed(&refund).await;
    assert_eq!(h.status(1701, &order).await, OrderStatus::Paid);
    assert!(h.owns(1701, SOURDOUGH).await);
}

#[tokio::test]
async fn a_tip_refund_that_overtakes_its_payment_stays_refunded() {
    use app::studio::types::TipRequest;
    let h = harness().await;
    h.buyer(1711).await;
    let request = TipRequest {
        creator_id: None,
        slug: Some(SOURDOUGH.into()),
        amount_stars: 50,
    };
    let now = clock::unix_now();
    let tip = payments::tips::create(&h.d.db, &h.d.bot, 1711, &request, 10_000, now)
        .await
        .unwrap();
    let (outcome, paid) = h.pay_through(&tip.invoice_link, 1711).await;
    // Support refunds it at once; Telegram delivers the refund before the payment.
    let refunded = h
        .bot_api(
            "refundStarPayment",
            json!({ "user_id": 1711, "telegram_payment_charge_id": outcome["telegram_payment_charge_id"] }),
        )
        .await;
    assert_eq!(refunded["ok"], true, "{refunded}");
    let refund = h
        .next_matching(|u| u["message"].get("refunded_payment").is_some())
        .await;
    h.feed(&refund).await;
    h.feed(&paid.unwrap()).await;
    assert_eq!(
        payments::tips::status(&h.d.db, 1711, &tip.tip_id)
            .await
            .unwrap(),
        "refunded"
    );
    assert_eq!(h.stars(1711).await, 2500);
}

#[tokio::test]
async fn refunding_one_order_keeps_what_another_paid_order_grants() {
    let h = harness().await;
    h.buyer(1721).await;
    // Order A's sheet passed pre-checkout; its charge lands only after A expired and the buyer
    // bought again with order B. Both are paid (the buyer confirmed both).
    let a = h.order(1721, SOURDOUGH).await;
    let (_, paid_a) = h.pay_through(&a.invoice_link, 1721).await;
    payments::expire_stale(&h.d.db, Duration::ZERO)
        .await
        .unwrap();
    let b = h.order(1721, SOURDOUGH).await;
    assert_ne!(a.public_id, b.public_id);
    let (_, paid_b) = h.pay_through(&b.invoice_link, 1721).await;
    h.feed(&paid_b.unwrap()).await;
    h.feed(&paid_a.unwrap()).await;
    assert_eq!(h.status(1721, &a).await, OrderStatus::Paid);
    assert_eq!(h.status(1721, &b).await, OrderStatus::Paid);

    payments::refund(&h.d.db, &h.d.bot, a.public_id.as_str(), admin())
        .await
        .unwrap();
    assert!(h.owns(1721, SOURDOUGH).await, "order B still grants it");
    payments::refund(&h.d.db, &h.d.bot, b.public_id.as_str(), admin())
        .await
        .unwrap();
    assert!(!h.owns(1721, SOURDOUGH).await);
}

#[tokio::test]
async fn a_second_first_membership_charge_is_refunded_and_its_subscription_cancelled() {
    let h = harness().await;
    server::on_db!(&h.d.db, |pool| sqlx::query(
        "UPDATE products SET billing = 'monthly' WHERE slug = $1"
    )
    .bind(COURSE)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    h.buyer(1731).await;
    let order = h.order(1731, COURSE).await;
    let (first_outcome, first) = h.pay_through(&order.invoice_link, 1731).await;
    let (second_outcome, second) = h.pay_through(&order.invoice_link, 1731).await;
    h.feed(&first.unwrap()).await;
    h.feed(&second.unwrap()).await;
    assert_eq!(h.status(1731, &order).await, OrderStatus::Paid);
    let charges: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM membership_charges"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(charges, 1, "the second first charge is no renewal");
    assert_eq!(
        h.stars(1731).await,
        2500 - 450,
        "the second charge went back"
    );
    let subscriptions = h.get("subscriptions").await;
    let canceled = |charge: &Value| {
        subscriptions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["charge_id"] == *charge)
            .unwrap()["canceled_by_bot"]
            .clone()
    };
    assert_eq!(
        canceled(&first_outcome["telegram_payment_charge_id"]),
        false
    );
    assert_eq!(
        canceled(&second_outcome["telegram_payment_charge_id"]),
        true,
        "Telegram must not run two subscriptions"
    );
}

/// Where a payment update goes in the randomized runs: now, later, twice, or lost on the way.
fn dispose(rng: &mut Rng, update: Value, now: &mut Vec<Value>, later: &mut Vec<Value>) {
    match rng.below(10) {
        0..=4 => now.push(update),
        5 | 6 => later.push(update),
        7 => {}
        _ => {
            now.push(update.clone());
            later.push(update);
        }
    }
}

#[tokio::test]
async fn randomized_charges_of_every_kind_end_granted_once_or_refunded() {
    use app::deals::PriceChoice;
    use std::collections::{BTreeMap, BTreeSet};
    const LOFI: &str = "lofi-sample-pack-vol-1";
    // Theo's bundle of the sourdough book and the sample pack (pay what you want): its buyers
    // also buy, refund and re-buy the parts alone.
    const BUNDLE: &str = "kitchen-and-sound";
    const PLAIN: [&str; 3] = [
        SOURDOUGH,
        "night-photography-field-notes",
        "telegram-mini-apps-from-scratch",
    ];
    const USERS: i64 = 30;
    const AFFILIATES: [i64; 2] = [7900, 7901];
    const START: i64 = 1_000_000;
    const NANO: i64 = 1_000_000_000;
    let seed = std::env::var("LEDGER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x1ed6_e5ee_u64);
    let rounds: u32 = std::env::var("LEDGER_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(250);
    let mut rng = Rng(seed | 1);
    let h = harness().await;
    // Every kind: plain purchases, a discount code, pay what you want, a membership, tips.
    server::on_db!(&h.d.db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE products SET billing = 'monthly' WHERE slug = $1")
            .bind(COURSE)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO products (creator_id, slug, kind, title, price_stars, status, billing,
                                   published_at)
             VALUES (1003, $1, 'ebook', 'Kitchen and Sound', 350, 'published', 'once', 1)",
        )
        .bind(BUNDLE)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO bundle_items (bundle_id, product_id, position)
             SELECT b.id, p.id, 0 FROM products b, products p
             WHERE b.slug = $1 AND p.slug IN ($2, $3)",
        )
        .bind(BUNDLE)
        .bind(SOURDOUGH)
        .bind(LOFI)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE products SET min_price_stars = 10 WHERE slug = $1")
            .bind(LOFI)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO discount_codes (creator_id, product_id, code, percent_off, created_at)
             SELECT creator_id, id, 'LEDGER20', 20, 0 FROM products WHERE slug = $1",
        )
        .bind(RUST_BOOK)
        .execute(&mut *tx)
        .await?;
        // License keys: generated for a one-time product and the membership, and a small pool
        // for another, which runs dry and is topped up now and then.
        for (slug, mode, format) in [
            (RUST_BOOK, "generated", Some("RB-XXXXXXXX")),
            (COURSE, "generated", None),
            (SOURDOUGH, "pool", None),
        ] {
            sqlx::query(
                "UPDATE products SET license_mode = $1, license_format = $2 WHERE slug = $3",
            )
            .bind(mode)
            .bind(format)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
    .await)
    .unwrap();
    let keys_admin = server::studio::roles::Caller {
        user_id: 1,
        role: app::studio::types::Role::Admin,
    };
    let sourdough_id: i64 = server::on_db!(&h.d.db, |pool| sqlx::query_scalar(
        "SELECT id FROM products WHERE slug = $1"
    )
    .bind(SOURDOUGH)
    .fetch_one(pool)
    .await)
    .unwrap();
    let mut pool_keys = 0;
    let mut top_up = async |db: &Db, n: usize| {
        let keys: Vec<String> = (pool_keys..pool_keys + n)
            .map(|k| format!("SD-{k}"))
            .collect();
        pool_keys += n;
        server::licenses::add_to_pool(db, keys_admin, sourdough_id, &keys.join("\n"), 0)
            .await
            .unwrap();
    };
    top_up(&h.d.db, 3).await;
    for user in 0..USERS {
        h.buyer(7000 + user).await;
        h.control(
            &format!("users/{}/stars", 7000 + user),
            json!({ "balance": START }),
        )
        .await;
    }
    // A third of the buyers came through a Star affiliate program: the bot receives their
    // payments less the affiliate's commission (1 to 900 ‰), and only the Star ledger says so.
    for affiliate in AFFILIATES {
        h.control(
            "users",
            json!({ "id": affiliate, "first_name": format!("Affiliate{affiliate}") }),
        )
        .await;
    }
    let mut referred: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for user in (0..USERS).step_by(3) {
        let affiliate = AFFILIATES[rng.below(AFFILIATES.len() as u64) as usize];
        let per_mille = 1 + rng.below(900) as i64;
        h.control(
            &format!("users/{}/affiliate", 7000 + user),
            json!({ "affiliate_user_id": affiliate, "commission_per_mille": per_mille }),
        )
        .await;
        referred.insert(7000 + user, (affiliate, per_mille));
    }
    // The process applying updates; a restart replaces it (nothing survives but the database).
    let mut d = domain(&h.config).await;
    let mut later: Vec<Value> = Vec::new();
    let mut restarts = 0;
    let mut reviews_written = 0;
    let mut claims = 0;
    for _ in 0..rounds {
        let user = 7000 + rng.below(USERS as u64) as i64;
        let mut now = Vec::new();
        let link = match rng.below(100) {
            0..=54 => {
                let (slug, choice) = match rng.below(14) {
                    0..=2 => (
                        RUST_BOOK,
                        PriceChoice {
                            code: Some("ledger20".into()),
                            amount_stars: None,
                            gift: false,
                        },
                    ),
                    3 | 4 => (
                        LOFI,
                        PriceChoice {
                            code: None,
                            amount_stars: Some(10 + rng.below(200) as u32),
                            gift: false,
                        },
                    ),
                    5..=7 => (COURSE, PriceChoice::default()),
                    8..=10 => (PLAIN[rng.below(3) as usize], PriceChoice::default()),
                    11 => (BUNDLE, PriceChoice::default()),
                    // A gift of a book or of the bundle, for whoever claims its link.
                    _ => (
                        [RUST_BOOK, SOURDOUGH, BUNDLE][rng.below(3) as usize],
                        PriceChoice {
                            gift: true,
                            ..PriceChoice::default()
                        },
                    ),
                };
                let now_s = clock::unix_now();
                match payments::create_priced_order(
                    &d.db, &d.bot, user, slug, &choice, 10_000, None, now_s,
                )
                .await
                {
                    Ok(order) => Some(order.invoice_link),
                    Err(PaymentError::AlreadyOwned) => None,
                    Err(err) => panic!("{err}"),
                }
            }
            60..=63 => {
                // Somebody opens a gift's link and claims it: the first one gets it, unless
                // it is theirs or they own it already; a refunded gift is claimed by nobody.
                let gifts: Vec<(String, bool)> = server::on_db!(&d.db, |pool| sqlx::query_as(
                    "SELECT code, claimed_by IS NULL AND cancelled_at IS NULL FROM gifts
                     ORDER BY id"
                )
                .fetch_all(pool)
                .await)
                .unwrap();
                // Mostly an open one; now and then any, to be refused.
                let open: Vec<String> = gifts
                    .iter()
                    .filter(|(_, open)| *open)
                    .map(|(code, _)| code.clone())
                    .collect();
                let codes = if open.is_empty() || rng.below(4) == 0 {
                    gifts.into_iter().map(|(code, _)| code).collect()
                } else {
                    open
                };
                if !codes.is_empty() {
                    let code = &codes[rng.below(codes.len() as u64) as usize];
                    let before = payments::gifts::find(&d.db, code).await.unwrap().unwrap();
                    match payments::gifts::claim(&d.db, code, user, clock::unix_now()).await {
                        Ok(gift) => {
                            assert_eq!(gift.claimed_by, Some(user));
                            assert!(before.claimed_by.is_none_or(|c| c == user));
                            claims += 1;
                        }
                        Err(PaymentError::Gift(refusal)) => {
                            use payments::GiftRefusal as R;
                            match refusal {
                                R::Claimed => assert!(before.claimed_by.is_some()),
                                R::Cancelled => assert!(before.cancelled),
                                R::OwnGift => assert_eq!(before.payer, user),
                                R::AlreadyOwned => {}
                                R::NotFound => panic!("{code} vanished"),
                            }
                        }
                        Err(err) => panic!("{err}"),
                    }
                }
                None
            }
            64..=69 => {
                // A buyer reviews (or re-reviews) what they bought; anyone else is refused.
                let bought: Vec<(i64, String)> = server::on_db!(&d.db, |pool| {
                    sqlx::query_as(
                        "SELECT COALESCE(g.claimed_by, o.user_id), p.slug
                     FROM orders o JOIN products p ON p.id = o.product_id
                     LEFT JOIN gifts g ON g.order_id = o.id
                     WHERE o.status = 'paid' AND p.billing = 'once' ORDER BY o.id",
                    )
                    .fetch_all(pool)
                    .await
                })
                .unwrap();
                let (user, slug) = if !bought.is_empty() && rng.below(4) != 0 {
                    bought[rng.below(bought.len() as u64) as usize].clone()
                } else if rng.below(4) == 0 {
                    (user, RUST_BOOK.to_owned())
                } else {
                    (user, PLAIN[rng.below(3) as usize].to_owned())
                };
                let slug = slug.as_str();
                let paid: bool = server::on_db!(&d.db, |pool| {
                    sqlx::query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM orders o JOIN products p ON p.slug = $2
                                    WHERE ((o.user_id = $1 AND NOT o.gift)
                                           OR o.id IN (SELECT order_id FROM gifts
                                                       WHERE claimed_by = $1))
                                      AND o.status = 'paid'
                                      AND (o.product_id = p.id OR o.product_id IN (
                                            SELECT bundle_id FROM bundle_items
                                            WHERE product_id = p.id)))",
                    )
                    .bind(user)
                    .bind(slug)
                    .fetch_one(pool)
                    .await
                })
                .unwrap();
                let stars = 1 + rng.below(5) as u8;
                match server::reviews::write(&d.db, user, slug, stars, "", clock::unix_now()).await
                {
                    Ok(_) => {
                        assert!(paid, "{user} reviewed {slug} without a paid order");
                        reviews_written += 1;
                    }
                    Err(server::reviews::ReviewError::Refused(_)) => {
                        assert!(!paid, "{user} paid for {slug} but may not review it")
                    }
                    Err(err) => panic!("{err}"),
                }
                None
            }
            55..=59 => {
                let request = app::studio::types::TipRequest {
                    creator_id: None,
                    slug: Some(PLAIN[rng.below(3) as usize].into()),
                    amount_stars: 1 + rng.below(100) as u32,
                };
                let tip = payments::tips::create(
                    &d.db,
                    &d.bot,
                    user,
                    &request,
                    10_000,
                    clock::unix_now(),
                )
                .await
                .unwrap();
                Some(tip.invoice_link)
            }
            70..=79 => {
                // Telegram renews a subscription (or ends one the bot cancelled).
                let subs = h.get("subscriptions").await;
                let live: Vec<String> = subs
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|s| s["ended"] == false)
                    .map(|s| s["charge_id"].as_str().unwrap().to_owned())
                    .collect();
                if !live.is_empty() {
                    let pick = &live[rng.below(live.len() as u64) as usize];
                    let renewal = h
                        .control(&format!("subscriptions/{pick}/renew"), json!({}))
                        .await;
                    if renewal["status"] == "renewed" {
                        let charge = renewal["telegram_payment_charge_id"].clone();
                        let update = h
                            .next_matching(|u| {
                                u["message"]["successful_payment"]["telegram_payment_charge_id"]
                                    == charge
                            })
                            .await;
                        dispose(&mut rng, update, &mut now, &mut later);
                    }
                }
                None
            }
            80..=87 => {
                let paid: Vec<String> = server::on_db!(&d.db, |pool| sqlx::query_scalar(
                    "SELECT public_id FROM orders WHERE status = 'paid' ORDER BY id",
                )
                .fetch_all(pool)
                .await)
                .unwrap();
                if !paid.is_empty() {
                    let pick = &paid[rng.below(paid.len() as u64) as usize];
                    match payments::refund(&d.db, &d.bot, pick.as_str(), admin()).await {
                        Ok(_) | Err(PaymentError::NotRefundable(_)) => {}
                        Err(err) => panic!("{err}"),
                    }
                }
                None
            }
            88..=94 => {
                // Support refunds a charge in Telegram, whatever the shop knows of it.
                let ledger = h.get("transactions").await;
                let ledger = ledger.as_array().unwrap();
                let refunded: BTreeSet<&str> = ledger
                    .iter()
                    .filter(|t| t.get("receiver").is_some())
                    .map(|t| t["id"].as_str().unwrap())
                    .collect();
                let open: Vec<&Value> = ledger
                    .iter()
                    .filter(|t| {
                        t.get("source").is_some() && !refunded.contains(t["id"].as_str().unwrap())
                    })
                    .collect();
                if !open.is_empty() {
                    let t = open[rng.below(open.len() as u64) as usize];
                    let res = h
                        .bot_api(
                            "refundStarPayment",
                            json!({ "user_id": t["source"]["user"]["id"],
                                    "telegram_payment_charge_id": t["id"] }),
                        )
                        .await;
                    assert_eq!(res["ok"], true, "{res}");
                }
                None
            }
            95..=97 => {
                payments::reconcile(&d.db, &d.bot).await.unwrap();
                // Now and then the creator tops up the pool: waiting orders get theirs.
                if rng.below(3) == 0 {
                    top_up(&d.db, rng.below(3) as usize + 1).await;
                }
                None
            }
            _ => {
                d = domain(&h.config).await;
                restarts += 1;
                None
            }
        };
        if let Some(link) = link {
            // Sometimes Buy is tapped twice: two sheets for one invoice, both charged.
            let sheets = if rng.below(5) == 0 { 2 } else { 1 };
            for _ in 0..sheets {
                let (outcome, paid) = h.pay_through(&link, user).await;
                match paid {
                    Some(update) => dispose(&mut rng, update, &mut now, &mut later),
                    None => assert_eq!(outcome["status"], "declined", "{outcome}"),
                }
            }
        }
        for update in &now {
            d.inbox
                .ingest_json(update.to_string().as_bytes())
                .await
                .unwrap();
        }
    }

    // Late updates in a shuffled order (refund messages too, some lost), then reconciliation.
    let mut others = std::mem::take(&mut *h.others.lock().unwrap());
    others.retain(|_| rng.below(4) != 0);
    later.extend(others);
    rng.shuffle(&mut later);
    for update in &later {
        d.inbox
            .ingest_json(update.to_string().as_bytes())
            .await
            .unwrap();
    }
    payments::reconcile(&d.db, &d.bot).await.unwrap();
    payments::settle_due(&d.db, &d.bot).await.unwrap();
    payments::reconcile(&d.db, &d.bot).await.unwrap();

    // Telegram's ledger and the shop's, charge by charge. A charge's price is what the bot
    // received plus the affiliate's commission, in nanostars (Bot API `StarTransaction`,
    // `AffiliateInfo`: whole Stars and `nanostar_amount` beyond them).
    let ledger = h.get("transactions").await;
    let ledger = ledger.as_array().unwrap();
    let nanos = |whole: &Value, part: &Value| {
        whole.as_i64().unwrap_or(0) * NANO + part.as_i64().unwrap_or(0)
    };
    // charge id -> (payer, price in nanostars, the affiliate and their commission in ‰)
    #[allow(clippy::type_complexity)]
    let charged: BTreeMap<String, (i64, i64, Option<(i64, i64)>)> = ledger
        .iter()
        .filter(|t| t.get("source").is_some())
        .map(|t| {
            let affiliate = &t["source"]["affiliate"];
            let commission = nanos(&affiliate["amount"], &affiliate["nanostar_amount"]);
            (
                t["id"].as_str().unwrap().to_owned(),
                (
                    t["source"]["user"]["id"].as_i64().unwrap(),
                    nanos(&t["amount"], &t["nanostar_amount"]) + commission,
                    affiliate.get("affiliate_user").map(|a| {
                        (
                            a["id"].as_i64().unwrap(),
                            affiliate["commission_per_mille"].as_i64().unwrap(),
                        )
                    }),
                ),
            )
        })
        .collect();
    let shared = charged.values().filter(|c| c.2.is_some()).count();
    if rounds >= 250 {
        assert!(
            shared > 10,
            "only {shared} charges shared with an affiliate"
        );
    }
    for (charge, (payer, _, affiliate)) in &charged {
        assert_eq!(
            *affiliate,
            referred.get(payer).copied(),
            "{charge}: Telegram shares exactly the referred buyers' payments"
        );
    }
    let refunded: BTreeSet<String> = ledger
        .iter()
        .filter(|t| t.get("receiver").is_some())
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(charged.len() > 100, "only {} charges", charged.len());
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        String,
        String,
        Option<String>,
        i64,
        i64,
        bool,
        bool,
        i64,
        Option<i64>,
        Option<String>,
    )> = server::on_db!(&d.db, |pool| sqlx::query_as(
        "SELECT c.charge_id, c.state, c.reason, c.payer_id, c.amount_stars,
                    c.paid_at IS NOT NULL, c.refunded_at IS NOT NULL,
                    (SELECT count(*) FROM orders o
                     WHERE o.telegram_payment_charge_id = c.charge_id AND o.status = 'paid'
                       AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.order_id = o.id))
                    + (SELECT count(*) FROM membership_charges mc
                       WHERE mc.telegram_payment_charge_id = c.charge_id
                         AND mc.refunded_at IS NULL)
                    + (SELECT count(*) FROM tips t
                       WHERE t.telegram_payment_charge_id = c.charge_id AND t.status = 'paid'),
                    c.nanostar_amount, c.affiliate
             FROM star_charges c",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    let known: BTreeSet<String> = rows.iter().filter(|r| r.5).map(|r| r.0.clone()).collect();
    assert_eq!(
        known,
        charged.keys().cloned().collect::<BTreeSet<_>>(),
        "the shop heard of every charge, and of nothing else"
    );
    let mut kept: BTreeMap<i64, i64> = BTreeMap::new();
    // Kept charges the shop learnt from the Star ledger net of an affiliate's share.
    let mut net_of_share = 0;
    for (charge, state, reason, payer, amount, _, was_refunded, grants, nanostars, affiliate) in
        &rows
    {
        assert_eq!(
            *was_refunded,
            refunded.contains(charge),
            "{charge}: refunded in Telegram iff in the shop"
        );
        if refunded.contains(charge) {
            assert_eq!(state, "refunded", "{charge} ({reason:?})");
            assert_eq!(*grants, 0, "{charge}: a refunded charge grants nothing");
        } else {
            assert_eq!(
                state, "granted",
                "{charge} kept without a grant ({reason:?})"
            );
            assert_eq!(*grants, 1, "{charge} granted exactly once");
            // The shop knows the price (from `successful_payment`), or what the bot received
            // and the affiliate's share (from the Star ledger), which add up to the price.
            let affiliate: Option<Value> = affiliate
                .as_deref()
                .map(|a| serde_json::from_str(a).unwrap());
            let price = amount * NANO
                + nanostars.unwrap_or(0)
                + affiliate
                    .as_ref()
                    .map_or(0, |a| nanos(&a["amount"], &a["nanostar_amount"]));
            let (telegram_payer, telegram_price, telegram_affiliate) = &charged[charge];
            assert_eq!(
                (payer, price),
                (telegram_payer, *telegram_price),
                "{charge} ({affiliate:?})"
            );
            if let Some(a) = &affiliate {
                net_of_share += 1;
                assert_eq!(
                    Some((
                        a["affiliate_id"].as_i64().unwrap(),
                        a["commission_per_mille"].as_i64().unwrap()
                    )),
                    *telegram_affiliate,
                    "{charge}: the affiliate and commission the Star ledger named"
                );
            }
            *kept.entry(*payer).or_default() += price;
        }
    }
    // What each buyer paid and kept paying is what the shop granted them.
    for user in 0..USERS {
        let user = 7000 + user;
        let spent = START - h.stars(user).await;
        assert_eq!(
            spent * NANO,
            kept.get(&user).copied().unwrap_or(0),
            "user {user}"
        );
    }
    // One-time products are owned exactly while a paid order grants them.
    let wrong: i64 = server::on_db!(&d.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM entitlements e JOIN products p ON p.id = e.product_id
         WHERE p.billing = 'once'
           AND (e.revoked_at IS NULL) <> EXISTS (
             SELECT 1 FROM orders o
             WHERE ((o.user_id = e.user_id AND NOT o.gift)
                    OR o.id IN (SELECT order_id FROM gifts WHERE claimed_by = e.user_id))
               AND o.status = 'paid'
               AND (o.product_id = e.product_id
                    OR o.product_id IN (SELECT bundle_id FROM bundle_items
                                        WHERE product_id = e.product_id)))",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(wrong, 0);
    // Each product's kept rating is that of the reviews whose authors still have a paid order:
    // refunds in any order took theirs off, purchases put them back.
    let ratings: Vec<(String, i64, i64, i64, i64, i64)> = server::on_db!(&d.db, |pool| {
        sqlx::query_as(
            "SELECT p.slug, p.rating_count, p.rating_sum, p.rating_score,
                    (SELECT count(*) FROM reviews r WHERE r.product_id = p.id AND EXISTS (
                       SELECT 1 FROM orders o
                       WHERE ((o.user_id = r.user_id AND NOT o.gift)
                              OR o.id IN (SELECT order_id FROM gifts WHERE claimed_by = r.user_id))
                         AND o.status = 'paid'
                         AND (o.product_id = p.id OR o.product_id IN (
                               SELECT bundle_id FROM bundle_items WHERE product_id = p.id)))),
                    (SELECT CAST(COALESCE(SUM(r.rating), 0) AS BIGINT) FROM reviews r
                     WHERE r.product_id = p.id AND EXISTS (
                       SELECT 1 FROM orders o
                       WHERE ((o.user_id = r.user_id AND NOT o.gift)
                              OR o.id IN (SELECT order_id FROM gifts WHERE claimed_by = r.user_id))
                         AND o.status = 'paid'
                         AND (o.product_id = p.id OR o.product_id IN (
                               SELECT bundle_id FROM bundle_items WHERE product_id = p.id))))
             FROM products p",
        )
        .fetch_all(pool)
        .await
    })
    .unwrap();
    for (slug, count, sum, score, counted, counted_sum) in &ratings {
        assert_eq!((count, sum), (counted, counted_sum), "{slug}'s rating");
        let expected = if *count > 0 {
            (sum * 100 + count / 2) / count
        } else {
            0
        };
        assert_eq!(*score, expected, "{slug}'s average");
    }
    // Gifts: every paid gift order made one gift; a refunded one's gift was cancelled unless it
    // had been claimed, and then the friend lost what it gave them (checked above with every
    // grant). A gift order never granted its payer anything.
    #[allow(clippy::type_complexity)]
    let gifts: Vec<(String, String, i64, Option<i64>, bool, i64)> =
        server::on_db!(&d.db, |pool| sqlx::query_as(
            "SELECT o.public_id, o.status, (SELECT count(*) FROM gifts g WHERE g.order_id = o.id),
                    g.claimed_by, g.cancelled_at IS NOT NULL,
                    (SELECT count(*) FROM entitlements e
                     WHERE e.order_id = o.id AND e.user_id = o.user_id)
             FROM orders o LEFT JOIN gifts g ON g.order_id = o.id
             WHERE o.gift AND o.status IN ('paid', 'refunded')",
        )
        .fetch_all(pool)
        .await)
        .unwrap();
    let (mut given, mut claimed_gifts, mut cancelled) = (0, 0, 0);
    for (order, status, made, claimed_by, was_cancelled, payer_grants) in &gifts {
        assert_eq!(*made, 1, "{order}: one gift per paid gift order");
        assert_eq!(*payer_grants, 0, "{order}: a gift grants its payer nothing");
        match (status.as_str(), claimed_by, was_cancelled) {
            ("paid", _, false) => given += 1,
            ("refunded", None, true) => cancelled += 1,
            ("refunded", Some(_), false) => {}
            _ => panic!("{order} ({status}): claimed by {claimed_by:?}, cancelled {was_cancelled}"),
        }
        claimed_gifts += i64::from(claimed_by.is_some());
    }
    // License keys: every paid order of a product with keys has exactly one enabled key (or,
    // from an empty pool, waits for one); every refunded order's key is disabled.
    #[allow(clippy::type_complexity)]
    let orders: Vec<(String, String, String, i64, i64, i64)> =
        server::on_db!(&d.db, |pool| sqlx::query_as(
            "SELECT o.public_id, o.status, p.license_mode,
                    (SELECT count(*) FROM license_keys k WHERE k.order_id = o.id),
                    (SELECT count(*) FROM license_keys k
                     WHERE k.order_id = o.id AND k.disabled_at IS NULL AND k.product_id = p.id),
                    (SELECT count(*) FROM license_waits w WHERE w.order_id = o.id)
             FROM orders o JOIN products p ON p.id = o.product_id
             WHERE p.license_mode <> 'none' AND o.status IN ('paid', 'refunded')",
        )
        .fetch_all(pool)
        .await)
        .unwrap();
    let (mut keyed, mut waited, mut disabled) = (0, 0, 0);
    for (order, status, mode, keys, enabled, waits) in &orders {
        match (status.as_str(), mode.as_str(), keys, enabled, waits) {
            ("paid", _, 1, 1, 0) => keyed += 1,
            ("paid", "pool", 0, 0, 1) => waited += 1,
            ("refunded", _, 0 | 1, 0, 0) => disabled += keys,
            _ => {
                panic!("{order} ({status}, {mode}): {keys} keys, {enabled} enabled, {waits} waits")
            }
        }
    }
    let available: i64 = server::on_db!(&d.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM license_keys WHERE product_id = $1 AND order_id IS NULL"
    )
    .bind(sourdough_id)
    .fetch_one(pool)
    .await)
    .unwrap();
    assert!(
        waited == 0 || available == 0,
        "{waited} wait beside {available} keys"
    );
    // Enough keys for everyone waiting: nobody waits any more.
    top_up(&d.db, usize::try_from(waited).unwrap() + 1).await;
    let waits: i64 = server::on_db!(&d.db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM license_waits"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(waits, 0);
    if rounds >= 250 {
        assert!(
            keyed > 20 && disabled > 0,
            "{keyed} keyed, {disabled} disabled"
        );
        assert!(
            reviews_written > 5,
            "only {reviews_written} reviews written"
        );
        assert!(
            given > 3 && claimed_gifts > 1 && claims > 1,
            "{given} gifts, {claimed_gifts} claimed ({claims} claims), {cancelled} cancelled"
        );
        assert!(
            net_of_share > 0,
            "no affiliate-reduced amount reached the shop's ledger"
        );
    }
    eprintln!(
        "seed {seed:#x}: {} charges ({shared} shared with an affiliate, {net_of_share} kept as \
         the bot's net and the share), {} refunded, {reviews_written} reviews, {restarts} restarts, \
         {keyed} keys kept, {disabled} disabled, {waited} waited, {given} gifts kept \
         ({claimed_gifts} claimed, {cancelled} cancelled)",
        charged.len(),
        refunded.len()
    );
}

#[tokio::test]
async fn charges_recorded_before_the_ledger_move_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let (url, sub) = match crate::common::fresh_database() {
        Some(url) => (url, "postgres"),
        None => (
            format!("sqlite://{}/m.db?mode=rwc", dir.path().display()),
            "sqlite",
        ),
    };
    let before = sqlx::migrate::Migrator::new(std::path::PathBuf::from(format!(
        "{}/../migrations/{sub}",
        env!("CARGO_MANIFEST_DIR")
    )))
    .await
    .unwrap();
    let db = if sub == "postgres" {
        Db::Postgres(sqlx::PgPool::connect(&url).await.unwrap())
    } else {
        Db::Sqlite(sqlx::SqlitePool::connect(&url).await.unwrap())
    };
    // The schema as it was before the ledger, with what the shop had recorded by then.
    server::on_db!(&db, |pool| async {
        before.run_to(20261129110000, pool).await.unwrap();
        for sql in [
            "INSERT INTO users (id, first_name) VALUES (1, 'A'), (10, 'C')",
            "INSERT INTO creators (user_id, display_name) VALUES (10, 'Cleo')",
            "INSERT INTO products (id, creator_id, slug, kind, title, price_stars, status)
             VALUES (1, 10, 'p', 'ebook', 'Book', 100, 'published')",
            "INSERT INTO orders (id, public_id, user_id, product_id, amount_stars, status,
                                 telegram_payment_charge_id, paid_at, refunded_at, expires_at)
             VALUES (1, 'order-one-0000000', 1, 1, 100, 'paid', 'ch-paid', 5, NULL, 9),
                    (2, 'order-two-0000000', 1, 1, 100, 'refunded', 'ch-ref', 5, 6, 9)",
            "INSERT INTO tips (public_id, user_id, creator_id, amount_stars, status,
                               telegram_payment_charge_id, paid_at, expires_at)
             VALUES ('tip_0000000000000000', 1, 10, 7, 'paid', 'ch-tip', 5, 9)",
            "INSERT INTO unmatched_payments (telegram_payment_charge_id, user_id,
                 invoice_payload, currency, total_amount, order_id, reason, refunded_at)
             VALUES ('ch-stray', 1, 'nobody', 'XTR', 3, NULL, 'unknown_payload', NULL),
                    ('ch-second', 1, 'order-one-0000000', 'XTR', 100, 1,
                     'order_paid_by_another_charge', NULL),
                    ('ch-back', 1, 'order-one-0000000', 'XTR', 90, 1, 'amount_mismatch', 8)",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }
    .await);
    // The shop starts on the new code: every charge is in the ledger, nothing is lost.
    let db = server::db::connect(&url).await.unwrap();
    type Row = (String, String, Option<i64>, String, Option<String>, i64);
    let mut rows: Vec<Row> = server::on_db!(&db, |pool| sqlx::query_as(
        "SELECT charge_id, kind, subject_id, state, reason, amount_stars FROM star_charges",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    rows.sort();
    let row = |c: &str, k: &str, s: Option<i64>, st: &str, r: Option<&str>, a: i64| {
        (
            c.to_owned(),
            k.to_owned(),
            s,
            st.to_owned(),
            r.map(str::to_owned),
            a,
        )
    };
    assert_eq!(
        rows,
        [
            row(
                "ch-back",
                "purchase",
                Some(1),
                "refunded",
                Some("amount_mismatch"),
                90
            ),
            row("ch-paid", "purchase", Some(1), "granted", None, 100),
            row("ch-ref", "purchase", Some(2), "refunded", None, 100),
            row(
                "ch-second",
                "purchase",
                Some(1),
                "held",
                Some("order_paid_by_another_charge"),
                100
            ),
            row(
                "ch-stray",
                "unknown",
                None,
                "held",
                Some("unknown_payload"),
                3
            ),
            row("ch-tip", "tip", Some(1), "granted", None, 7),
        ]
    );
    // The held ones wait for a person in the studio.
    let held = payments::ledger::held(&db, Some(10)).await.unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].charge_id, "ch-second");
    assert_eq!(payments::ledger::held(&db, None).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_held_charge_is_granted_or_refunded_by_its_creator_only() {
    use payments::{ledger, Resolution};
    let h = harness().await;
    h.buyer(1741).await;
    // Two real charges whose amounts reach the shop cut (as an affiliate's share would): held.
    let mut held = Vec::new();
    for slug in [SOURDOUGH, RUST_BOOK] {
        let order = h.order(1741, slug).await;
        let (_, paid) = h.pay_through(&order.invoice_link, 1741).await;
        let payment: tgbot::types::SuccessfulPayment =
            serde_json::from_value(paid.unwrap()["message"]["successful_payment"].clone()).unwrap();
        let mut facts = payments::PaymentFacts::from_update(1741, &payment);
        facts.total_amount -= 10;
        assert_eq!(
            payments::checkout::apply_payment_facts(&h.d.db, &facts)
                .await
                .unwrap(),
            Applied::Unmatched {
                reason: "amount_mismatch",
                refund_due: false
            }
        );
        held.push((order, facts.charge_id));
    }
    assert!(!h.owns(1741, SOURDOUGH).await);
    // Each creator sees their own; an admin sees both.
    let mine = ledger::held(&h.d.db, Some(1003)).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].charge_id, held[0].1);
    assert_eq!(mine[0].reason, "amount_mismatch");
    assert_eq!(ledger::held(&h.d.db, None).await.unwrap().len(), 2);

    let creator = |user_id| Actor {
        user_id,
        is_admin: false,
    };
    // Another creator may not touch it.
    assert!(matches!(
        ledger::resolve(
            &h.d.db,
            &h.d.bot,
            &held[0].1,
            creator(1001),
            Resolution::Grant
        )
        .await,
        Err(PaymentError::Forbidden)
    ));
    // The sourdough's creator grants theirs; Mira refunds hers.
    let granted = ledger::resolve(
        &h.d.db,
        &h.d.bot,
        &held[0].1,
        creator(1003),
        Resolution::Grant,
    )
    .await
    .unwrap();
    assert!(matches!(granted, Applied::Granted { .. }), "{granted:?}");
    assert_eq!(h.status(1741, &held[0].0).await, OrderStatus::Paid);
    assert!(h.owns(1741, SOURDOUGH).await);
    ledger::resolve(
        &h.d.db,
        &h.d.bot,
        &held[1].1,
        creator(1001),
        Resolution::Refund,
    )
    .await
    .unwrap();
    assert_eq!(
        h.stars(1741).await,
        2500 - 120,
        "the rust book's Stars went back"
    );
    assert!(!h.owns(1741, RUST_BOOK).await);
    assert!(ledger::held(&h.d.db, None).await.unwrap().is_empty());
    // Settled charges are not settled again.
    assert!(matches!(
        ledger::resolve(&h.d.db, &h.d.bot, &held[1].1, admin(), Resolution::Refund).await,
        Err(PaymentError::OrderNotFound)
    ));
}
