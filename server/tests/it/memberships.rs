//! Memberships (Telegram Stars subscriptions) through the in-process emulator: the whole shop
//! runs as in production (long polling, workers); the test plays the buyer through the shop's
//! port and Telegram through the emulator's control API, whose clock the shop shares.

use crate::common::{auth, TestApp};

use axum::http::{header, HeaderMap, HeaderValue};
use serde_json::{json, Value};
use server::payments::memberships::PERIOD_SECS;
use std::time::{Duration, Instant};

const COURSE: &str = "watercolour-basics"; // by creator 1003, 450 Stars
const BUYER: i64 = 5151;

struct Shop(TestApp);

impl std::ops::Deref for Shop {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.0
    }
}

/// The shop with `COURSE` sold as a monthly membership.
async fn shop() -> Shop {
    shop_with(&[]).await
}

async fn shop_with(extra: &[(&str, &str)]) -> Shop {
    let app = TestApp::start(extra).await;
    server::on_db!(&app.db, |pool| sqlx::query(
        "UPDATE products SET billing = 'monthly' WHERE slug = $1"
    )
    .bind(COURSE)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    app.control(
        "users",
        json!({ "id": BUYER, "first_name": "Bea", "language_code": "en" }),
    )
    .await;
    Shop(app)
}

/// What the Mini App sends as `user`, for the shop's port.
fn headers(user: i64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&auth(user)).unwrap(),
    );
    headers
}

impl Shop {
    /// Subscribes the buyer: checkout, the payment sheet, and the shop applying the first charge.
    /// Returns the order's public id (the invoice payload) and the subscription's first charge.
    async fn subscribe(&self) -> (String, String) {
        self.subscribe_as(BUYER).await
    }

    async fn subscribe_as(&self, buyer: i64) -> (String, String) {
        let checkout = self
            .state
            .shop
            .checkout(&headers(buyer), COURSE)
            .await
            .unwrap();
        let invoice = self
            .emu
            .get(&format!(
                "invoices/{}",
                checkout.invoice_link.rsplit('$').next().unwrap()
            ))
            .await;
        assert_eq!(invoice["subscription_period"], PERIOD_SECS);
        let paid = self
            .emu
            .control(
                "invoices/pay",
                json!({ "link": checkout.invoice_link, "user_id": buyer }),
            )
            .await;
        assert_eq!(paid["status"], "paid", "{paid}");
        let charge = paid["telegram_payment_charge_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.membership_of(buyer).await.is_none() {
            assert!(
                Instant::now() < deadline,
                "the first charge was not applied"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (checkout.order_id, charge)
    }

    /// The buyer's membership as the library shows it.
    async fn membership(&self) -> Option<Value> {
        self.membership_of(BUYER).await
    }

    async fn membership_of(&self, buyer: i64) -> Option<Value> {
        let items = self.state.shop.library(&headers(buyer)).await.unwrap();
        items
            .into_iter()
            .find(|i| i.slug == COURSE)
            .map(|i| serde_json::to_value(i.membership).unwrap())
    }

    /// Waits until the library's membership satisfies `done` (updates arrive by long polling).
    async fn until(&self, done: impl Fn(&Option<Value>) -> bool) -> Option<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let membership = self.membership().await;
            if done(&membership) {
                return membership;
            }
            assert!(
                Instant::now() < deadline,
                "membership stayed {membership:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn advance(&self, seconds: i64) -> Vec<Value> {
        let res = self
            .emu
            .control("clock/advance", json!({ "seconds": seconds }))
            .await;
        res["renewals"].as_array().cloned().unwrap()
    }

    /// A member-only lesson: the course's first lesson that is not a free preview.
    async fn member_lesson(&self) -> i64 {
        let outline = self
            .state
            .shop
            .course(&headers(BUYER), COURSE)
            .await
            .unwrap()
            .unwrap();
        outline.lessons.iter().find(|l| !l.is_preview).unwrap().id
    }

    async fn can_open(&self, lesson: i64) -> bool {
        self.state
            .shop
            .lesson(&headers(BUYER), COURSE, lesson)
            .await
            .is_ok()
    }

    async fn subscription(&self, charge: &str) -> Value {
        let all = self.emu.get("subscriptions").await;
        all.as_array()
            .unwrap()
            .iter()
            .find(|s| s["charge_id"] == charge)
            .cloned()
            .unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        server::on_db!(&self.state.db, |pool| sqlx::query_scalar(
            sqlx::AssertSqlSafe(sql.to_owned())
        )
        .fetch_one(pool)
        .await)
        .unwrap()
    }

    /// Waits until the shop's inbox has handled every update it received.
    async fn settled(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self
            .count("SELECT COUNT(*) FROM telegram_updates WHERE handled_at IS NULL")
            .await
            > 0
        {
            assert!(Instant::now() < deadline, "updates stayed unhandled");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn expires(membership: &Option<Value>) -> i64 {
    membership.as_ref().unwrap()["expires_at"].as_i64().unwrap()
}

#[tokio::test]
async fn subscribe_renew_twice_cancel_and_access_ends_at_the_periods_end() {
    let shop = shop().await;
    let lesson = shop.member_lesson().await;
    assert!(!shop.can_open(lesson).await, "locked before subscribing");

    let (order, charge) = shop.subscribe().await;
    let first = shop.until(|m| m.is_some()).await;
    let e1 = expires(&first);
    assert_eq!(e1, shop.subscription(&charge).await["expires_at"]);
    assert!(shop.can_open(lesson).await);
    shop.state
        .shop
        .complete_lesson(&headers(BUYER), COURSE, lesson)
        .await
        .unwrap();
    let stars_after_first = shop.emu.get(&format!("users/{BUYER}")).await["stars"]
        .as_i64()
        .unwrap();

    // Two periods pass: Telegram renews twice and each renewal moves the end of access.
    for n in 1..=2 {
        let renewals = shop.advance(PERIOD_SECS).await;
        assert_eq!(renewals.len(), 1, "{renewals:?}");
        assert_eq!(renewals[0]["status"], "renewed");
        let end = e1 + n * PERIOD_SECS;
        assert_eq!(renewals[0]["subscription_expiration_date"], end);
        shop.until(|m| m.as_ref().is_some_and(|m| m["expires_at"] == end))
            .await;
        assert!(shop.can_open(lesson).await);
    }
    assert_eq!(
        shop.emu.get(&format!("users/{BUYER}")).await["stars"],
        stars_after_first - 2 * 450
    );
    assert_eq!(
        shop.count("SELECT COUNT(*) FROM membership_charges").await,
        3
    );

    // The same renewal delivered again (a new update, the same charge) extends nothing.
    let last_charge = shop.subscription(&charge).await["charges"][2]
        .as_str()
        .unwrap()
        .to_owned();
    let end = e1 + 2 * PERIOD_SECS;
    shop.emu
        .control(
            "updates",
            json!({ "message": {
                "message_id": 900,
                "date": 1,
                "from": { "id": BUYER, "is_bot": false, "first_name": "Bea" },
                "chat": { "id": BUYER, "type": "private", "first_name": "Bea" },
                "successful_payment": {
                    "currency": "XTR", "total_amount": 450, "invoice_payload": order,
                    "telegram_payment_charge_id": last_charge, "provider_payment_charge_id": "",
                    "subscription_expiration_date": end + PERIOD_SECS, "is_recurring": true
                }
            }}),
        )
        .await;
    shop.settled().await;
    assert_eq!(expires(&shop.membership().await), end);
    assert_eq!(
        shop.count("SELECT COUNT(*) FROM membership_charges").await,
        3
    );
    assert_eq!(
        shop.count("SELECT COUNT(*) FROM star_charges WHERE state <> 'granted'")
            .await,
        0
    );

    // The buyer cancels from the library: Telegram is told, access stays to the period's end.
    let canceled = shop
        .state
        .shop
        .set_membership_renewal(&headers(BUYER), COURSE, false)
        .await
        .unwrap();
    assert!(canceled.canceled);
    assert_eq!(canceled.expires_at, end);
    assert_eq!(shop.subscription(&charge).await["canceled_by_bot"], true);
    assert_eq!(shop.membership().await.unwrap()["canceled"], true);

    // An hour before the end: still a member, nothing charged.
    assert!(shop.advance(PERIOD_SECS - 3600).await.is_empty());
    assert!(shop.can_open(lesson).await);
    // Past the end: Telegram ends the subscription without charging, and access stops.
    let renewals = shop.advance(7200).await;
    assert_eq!(renewals.len(), 1);
    assert_eq!(renewals[0]["status"], "ended");
    assert!(
        !shop.can_open(lesson).await,
        "access must end with the period"
    );
    assert!(shop.membership().await.is_none(), "gone from the library");
    assert_eq!(
        shop.emu.get(&format!("users/{BUYER}")).await["stars"],
        stars_after_first - 2 * 450
    );
    // Progress is kept: it shows in the outline, and would come back with a new membership.
    let outline = shop
        .state
        .shop
        .course(&headers(BUYER), COURSE)
        .await
        .unwrap()
        .unwrap();
    assert!(!outline.owned);
    assert!(outline
        .lessons
        .iter()
        .any(|l| l.id == lesson && l.completed));
}

/// Re-enable after the shop canceled: `editUserStarSubscription(is_canceled = false)` only
/// allows the buyer to turn renewal back on in Telegram (Bot API: "Pass False to allow the user
/// to re-enable a subscription that was previously canceled by the bot"). Nothing renews until
/// they do; the library says so, and says "renews" again once a renewal charge arrives.
#[tokio::test]
async fn a_re_enabled_membership_renews_only_once_the_buyer_turns_it_on_in_telegram() {
    let shop = shop().await;
    let (_, charge) = shop.subscribe().await;
    let e1 = expires(&shop.membership().await);
    shop.state
        .shop
        .set_membership_renewal(&headers(BUYER), COURSE, false)
        .await
        .unwrap();
    let allowed = shop
        .state
        .shop
        .set_membership_renewal(&headers(BUYER), COURSE, true)
        .await
        .unwrap();
    assert!(allowed.canceled, "still canceled until the buyer acts");
    assert!(allowed.reenable_in_telegram);
    let library = shop.membership().await.unwrap();
    assert_eq!(
        (&library["canceled"], &library["reenable_in_telegram"]),
        (&json!(true), &json!(true))
    );
    let sub = shop.subscription(&charge).await;
    assert_eq!(
        (&sub["canceled_by_bot"], &sub["canceled"]),
        (&json!(false), &json!(true)),
        "{sub}"
    );

    // The buyer turns renewal on in Telegram's subscription settings: Telegram charges the
    // next period, and the shop learns of it from that charge alone.
    shop.emu
        .control(&format!("subscriptions/{charge}/reenable"), json!({}))
        .await;
    let renewals = shop.advance(PERIOD_SECS).await;
    assert_eq!(renewals[0]["status"], "renewed");
    let renewed = shop
        .until(|m| {
            m.as_ref()
                .is_some_and(|m| m["expires_at"] == e1 + PERIOD_SECS)
        })
        .await
        .unwrap();
    assert_eq!(renewed["canceled"], false);
    assert_eq!(renewed["reenable_in_telegram"], false);
}

#[tokio::test]
async fn a_re_enabled_membership_the_buyer_leaves_off_ends_with_its_period() {
    let shop = shop().await;
    let (_, _charge) = shop.subscribe().await;
    for renew in [false, true] {
        shop.state
            .shop
            .set_membership_renewal(&headers(BUYER), COURSE, renew)
            .await
            .unwrap();
    }
    let renewals = shop.advance(PERIOD_SECS).await;
    assert_eq!(
        renewals[0]["status"], "ended",
        "nothing charged: {renewals:?}"
    );
    let lesson = shop.member_lesson().await;
    assert!(!shop.can_open(lesson).await);
    assert!(shop.membership().await.is_none());
}

#[tokio::test]
async fn refunding_a_membership_revokes_it_and_stops_the_renewal() {
    let shop = shop().await;
    let (order, charge) = shop.subscribe().await;
    let e1 = expires(&shop.membership().await);
    shop.advance(PERIOD_SECS).await;
    shop.until(|m| {
        m.as_ref()
            .is_some_and(|m| m["expires_at"] == e1 + PERIOD_SECS)
    })
    .await;
    let before = shop.emu.get(&format!("users/{BUYER}")).await["stars"]
        .as_i64()
        .unwrap();

    // The creator (1003) refunds: the latest charge goes back and access ends at once.
    let bot = &shop.state.telegram.as_ref().unwrap().bot;
    let actor = server::payments::Actor {
        user_id: 1003,
        is_admin: false,
    };
    let outcome = server::payments::refund(&shop.state.db, bot, order.as_str(), actor)
        .await
        .unwrap();
    assert_eq!(outcome, server::payments::RefundOutcome::Refunded);
    assert_eq!(
        shop.emu.get(&format!("users/{BUYER}")).await["stars"],
        before + 450
    );
    assert!(shop.membership().await.is_none());
    let lesson = shop.member_lesson().await;
    assert!(!shop.can_open(lesson).await);
    assert_eq!(shop.subscription(&charge).await["canceled_by_bot"], true);
    // Telegram's refunded_payment message, when it arrives, changes nothing more.
    shop.settled().await;
    let renewals = shop.advance(PERIOD_SECS).await;
    assert_eq!(renewals[0]["status"], "ended");
}

#[tokio::test]
async fn a_membership_invoice_is_refused_above_telegrams_subscription_price_limit() {
    let shop = shop().await;
    server::on_db!(&shop.state.db, |pool| sqlx::query(
        "UPDATE products SET price_stars = 10001 WHERE slug = $1"
    )
    .bind(COURSE)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    assert!(shop
        .state
        .shop
        .checkout(&headers(BUYER), COURSE)
        .await
        .is_err());
}

#[tokio::test]
async fn the_dashboard_counts_active_members_churn_and_recurring_stars() {
    let shop = shop().await;
    let other = BUYER + 1;
    shop.emu
        .control("users", json!({ "id": other, "first_name": "Cy" }))
        .await;
    let stats = || async {
        server::payments::memberships::stats(&shop.state.db, Some(1003), shop.state.clock.now())
            .await
            .unwrap()
    };
    shop.subscribe_as(BUYER).await;
    shop.subscribe_as(other).await;
    shop.state
        .shop
        .set_membership_renewal(&headers(other), COURSE, false)
        .await
        .unwrap();
    let now = stats().await;
    assert_eq!(
        (
            now.active,
            now.ending,
            now.churned_30d,
            now.recurring_stars_per_month
        ),
        (2, 1, 0, 450)
    );
    // Another creator's dashboard has none of them.
    let elsewhere =
        server::payments::memberships::stats(&shop.state.db, Some(1001), shop.state.clock.now())
            .await
            .unwrap();
    assert_eq!(elsewhere.active, 0);

    // A month on: one renewed, the canceled one ran out.
    shop.advance(PERIOD_SECS).await;
    shop.until(|m| {
        m.as_ref()
            .is_some_and(|m| m["expires_at"].as_i64().unwrap() > shop.state.clock.now())
    })
    .await;
    let later = stats().await;
    assert_eq!(
        (
            later.active,
            later.ending,
            later.churned_30d,
            later.recurring_stars_per_month
        ),
        (1, 0, 1, 450)
    );
}

#[tokio::test]
async fn the_studio_refuses_a_membership_above_10000_stars() {
    // One-time prices may go higher in this shop; a subscription may not.
    let shop = shop_with(&[("MAX_PRICE_STARS", "20000")]).await;
    let id: i64 = server::on_db!(&shop.state.db, |pool| sqlx::query_scalar(
        "SELECT id FROM products WHERE slug = $1"
    )
    .bind(COURSE)
    .fetch_one(pool)
    .await)
    .unwrap();
    let put = |price: u32, billing: &str| {
        shop.as_user(
            1003,
            reqwest::Method::PUT,
            &format!("/api/studio/products/{id}"),
        )
        .json(&json!({
            "title": "Watercolour Basics in 7 Lessons", "kind": "course",
            "description": "Loose, luminous watercolour.", "price_stars": price, "billing": billing
        }))
        .send()
    };
    let refused = put(10_001, "monthly").await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("membership"),
        "{body}"
    );
    let saved: Value = put(10_000, "monthly").await.unwrap().json().await.unwrap();
    assert_eq!(saved["billing"], "monthly");
    let once: Value = put(10_001, "once").await.unwrap().json().await.unwrap();
    assert_eq!(once["billing"], "once");
}

#[tokio::test]
async fn orders_pre_checkout_and_ownership_follow_the_shop_clock() {
    let shop = shop().await;
    // An order made now is not payable two hours later on the shop's clock.
    let checkout = shop
        .state
        .shop
        .checkout(&headers(BUYER), COURSE)
        .await
        .unwrap();
    shop.advance(2 * 3600).await;
    let paid = shop
        .emu
        .control(
            "invoices/pay",
            json!({ "link": checkout.invoice_link, "user_id": BUYER }),
        )
        .await;
    assert_eq!(paid["status"], "declined", "{paid}");
    // Buying again makes a new order, which can be paid.
    let (order, _) = shop.subscribe().await;
    assert_ne!(order, checkout.order_id);
    // The membership runs out on the shop's clock: the buyer may subscribe again.
    shop.state
        .shop
        .set_membership_renewal(&headers(BUYER), COURSE, false)
        .await
        .unwrap();
    shop.advance(PERIOD_SECS + 3600).await;
    shop.until(|m| m.is_none()).await;
    let again = shop.state.shop.checkout(&headers(BUYER), COURSE).await;
    assert!(again.is_ok(), "{:?}", again.err());
}
