//! Reach through the emulator: a creator's referral link counts the visits that open the Mini App
//! through it and the sales it brought (last touch, 30 days, refunds excluded); a channel is
//! linked only where the bot and the creator administer it, and the bot's post there sells
//! through a link of its own; Star affiliate programs' sales show with their commission.

use crate::common::TestApp;

use leptos::server_fn::ServerFn;
use reqwest::Method;
use serde_json::{json, Value};
use server::config::DEV_BOT_TOKEN;
use server::payments;

const RUST_BOOK: &str = "pocket-guide-to-rust"; // by creator 1001, 250 Stars
const MIRA: i64 = 1001;
const THEO: i64 = 1003; // another creator

/// The buyer opens the Mini App from `t.me/<bot>?startapp=<param>` (Telegram signs the start
/// parameter into the init data, opened at `auth_date`); returns where the app is sent.
async fn open_with(app: &TestApp, buyer: i64, param: &str, auth_date: i64) -> Value {
    let user = json!({ "id": buyer, "first_name": "Buyer", "language_code": "en" });
    let init = server::telegram::init_data::sign(
        DEV_BOT_TOKEN,
        &[
            ("user", &user.to_string()),
            ("auth_date", &auth_date.to_string()),
            ("start_param", param),
        ],
    );
    let res = app
        .http
        .post(format!("{}{}", app.base, app::api::FollowLink::PATH))
        .header("authorization", format!("tma {init}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn link_figures(app: &TestApp, code: &str) -> (u64, u64, u64) {
    let (status, links) = app.call(MIRA, Method::GET, "/api/studio/links", None).await;
    assert_eq!(status, 200, "{links}");
    let link = links
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == code)
        .unwrap_or_else(|| panic!("no link {code} in {links}"));
    let n = |key: &str| link[key].as_u64().unwrap();
    (n("visits"), n("buyers"), n("stars"))
}

#[tokio::test]
async fn a_referral_link_counts_its_visits_and_the_sales_of_its_last_touch_for_30_days() {
    let app = TestApp::with_creators(&[]).await;
    let book = app.product_id(RUST_BOOK).await;
    let (status, link) = app
        .call(
            MIRA,
            Method::POST,
            "/api/studio/links",
            Some(json!({ "label": "Newsletter", "product_id": book })),
        )
        .await;
    assert_eq!(status, 200, "{link}");
    let code = link["code"].as_str().unwrap().to_owned();
    assert_eq!(
        link["url"],
        format!("https://t.me/starfront_bot?startapp=r_{code}")
    );
    assert_eq!(link["product_title"], "The Pocket Guide to Rust");

    // Another creator cannot hand out a link to Mira's book; a link needs a name.
    let (status, refused) = app
        .call(
            THEO,
            Method::POST,
            "/api/studio/links",
            Some(json!({ "label": "Mine now", "product_id": book })),
        )
        .await;
    assert_eq!(
        (status, &refused["field"]),
        (400, &json!("product_id")),
        "{refused}"
    );
    let (status, refused) = app
        .call(
            MIRA,
            Method::POST,
            "/api/studio/links",
            Some(json!({ "label": "  ", "product_id": book })),
        )
        .await;
    assert_eq!(
        (status, &refused["field"]),
        (400, &json!("label")),
        "{refused}"
    );

    // 2201 opens the link: a visit, and the app goes to the book. A reload of the same opening
    // is not a second visit; a code no link has goes nowhere.
    let now = clock::unix_now();
    let param = format!("r_{code}");
    assert_eq!(
        open_with(&app, 2201, &param, now).await,
        json!("/p/pocket-guide-to-rust")
    );
    assert_eq!(
        open_with(&app, 2201, &param, now).await,
        json!("/p/pocket-guide-to-rust")
    );
    assert_eq!(
        open_with(&app, 2201, "r_nosuchcode", now).await,
        Value::Null
    );
    assert_eq!(link_figures(&app, &code).await, (1, 0, 0));

    // 2201 buys: the sale is the link's. 2202 never came through it; 2203 came 31 days ago.
    let first = app.buy(2201, RUST_BOOK).await;
    app.buy(2202, RUST_BOOK).await;
    server::promotion::record_visit(&app.db, &code, 2203, now - 31 * 86_400)
        .await
        .unwrap();
    app.buy(2203, RUST_BOOK).await;
    assert_eq!(link_figures(&app, &code).await, (2, 1, 250));

    // A touch counts for its creator's products only: Theo's product bought by 2204 is not it.
    open_with(&app, 2204, &param, now).await;
    app.buy(2204, "watercolour-basics").await;
    assert_eq!(link_figures(&app, &code).await, (3, 1, 250));

    // A refunded sale brought nothing.
    let (status, body) = app
        .call(
            MIRA,
            Method::POST,
            &format!("/api/studio/orders/{first}/refund"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(link_figures(&app, &code).await, (3, 0, 0));
}

#[tokio::test]
async fn a_channel_is_linked_where_the_bot_and_the_creator_administer_it_and_its_post_sells() {
    let app = TestApp::with_creators(&[]).await;
    let channel = |title: &str, username: &str, admins: Vec<i64>, bot_admin: bool| {
        json!({
            "type": "channel", "title": title, "username": username,
            "members": [MIRA, THEO], "admins": admins, "bot_admin": bot_admin,
        })
    };
    app.control("chats", channel("Quiet", "quiet_news", vec![MIRA], false))
        .await;
    app.control("chats", channel("Theo's", "theos_news", vec![THEO], true))
        .await;
    let bakers = app
        .control(
            "chats",
            channel("Mira's Reads", "miras_reads", vec![MIRA], true),
        )
        .await;
    app.control(
        "chats",
        json!({ "type": "group", "title": "Chat", "username": "mira_chat", "members": [MIRA], "admins": [MIRA] }),
    )
    .await;

    let link = async |chat: &str| {
        app.call(
            MIRA,
            Method::POST,
            "/api/studio/channels",
            Some(json!({ "chat": chat })),
        )
        .await
    };
    let refusal = |(status, body): (u16, Value)| {
        assert_eq!(status, 409, "{body}");
        body["message"].as_str().unwrap_or_default().to_owned()
    };
    assert!(refusal(link("@quiet_news").await).contains("not an administrator"));
    assert!(refusal(link("@theos_news").await).contains("Only an administrator"));
    assert!(refusal(link("@mira_chat").await).contains("not a channel"));
    assert!(refusal(link("@nobody_here").await).contains("no such channel"));
    let (status, body) = link("not a channel name").await;
    assert_eq!((status, &body["field"]), (400, &json!("chat")), "{body}");

    let (status, linked) = link("@miras_reads").await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["chat_id"], bakers["id"]);
    assert_eq!(linked["title"], "Mira's Reads");
    let (_, channels) = app
        .call(MIRA, Method::GET, "/api/studio/channels", None)
        .await;
    assert_eq!(channels.as_array().unwrap().len(), 1);
    let (_, theirs) = app
        .call(THEO, Method::GET, "/api/studio/channels", None)
        .await;
    assert_eq!(theirs, json!([]));

    // Mira posts her book: the card goes to the channel with a Buy button through a new link.
    let book = app.product_id(RUST_BOOK).await;
    let post = format!("/api/studio/channels/{}/posts", linked["id"]);
    let (status, posted) = app
        .call(
            MIRA,
            Method::POST,
            &post,
            Some(json!({ "product_id": book })),
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(posted["channel_title"], "Mira's Reads");
    let code = posted["code"].as_str().unwrap().to_owned();
    let messages = app.chat(bakers["id"].as_i64().unwrap()).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0]["message"];
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .starts_with("The Pocket Guide to Rust\n⭐ 250"),
        "{message}"
    );
    assert_eq!(
        message["reply_markup"]["inline_keyboard"][0][0],
        json!({ "text": "Buy", "url": format!("https://t.me/starfront_bot?startapp=r_{code}") })
    );
    // Theo may not post in Mira's channel; nobody posts a product of another creator there.
    let (status, _) = app
        .call(
            THEO,
            Method::POST,
            &post,
            Some(json!({ "product_id": book })),
        )
        .await;
    assert_eq!(status, 403);
    let theos = app.product_id("watercolour-basics").await;
    let (status, _) = app
        .call(
            MIRA,
            Method::POST,
            &post,
            Some(json!({ "product_id": theos })),
        )
        .await;
    assert_eq!(status, 400);

    // A reader of the channel follows the post and buys: the post's link has the sale.
    open_with(&app, 2301, &format!("r_{code}"), clock::unix_now()).await;
    app.buy(2301, RUST_BOOK).await;
    assert_eq!(link_figures(&app, &code).await, (1, 1, 250));

    // Rights change after linking. The bot demoted: Telegram refuses the post, and the studio
    // says why. Mira demoted: the shop no longer posts for her there.
    let rights = format!("chats/{}/rights", bakers["id"]);
    let again = async || {
        app.call(
            MIRA,
            Method::POST,
            &post,
            Some(json!({ "product_id": book })),
        )
        .await
    };
    app.control(&rights, json!({ "bot_admin": false })).await;
    assert!(refusal(again().await).contains("not an administrator"));
    app.control(&rights, json!({ "bot_admin": true, "admins": [THEO] }))
        .await;
    assert!(refusal(again().await).contains("Only an administrator"));
    assert_eq!(app.chat(bakers["id"].as_i64().unwrap()).await.len(), 1);
}

#[tokio::test]
async fn affiliate_program_sales_show_their_commission_and_net() {
    let app = TestApp::with_creators(&[]).await;
    app.control("users", json!({ "id": 2401, "first_name": "Referred" }))
        .await;
    app.control("users", json!({ "id": 2490, "first_name": "Affiliate" }))
        .await;
    app.control(
        "users/2401/affiliate",
        json!({ "affiliate_user_id": 2490, "commission_per_mille": 125 }),
    )
    .await;
    // The update (no affiliate in it) is applied first; the Star ledger tells of the share.
    app.buy(2401, RUST_BOOK).await;
    app.buy(2402, RUST_BOOK).await;
    payments::reconcile(&app.db, &app.bot).await.unwrap();

    let (status, sales) = app
        .call(MIRA, Method::GET, "/api/studio/affiliates", None)
        .await;
    assert_eq!(status, 200, "{sales}");
    assert_eq!(
        sales,
        json!([{
            "affiliate_id": 2490,
            "sales": 1,
            "gross_stars": 250,
            // 125 ‰ of 250 = 31.25 Stars; the bot keeps 218.75.
            "commission_nanostars": 31_250_000_000_i64,
            "net_nanostars": 218_750_000_000_i64,
        }])
    );
    let (_, theirs) = app
        .call(THEO, Method::GET, "/api/studio/affiliates", None)
        .await;
    assert_eq!(theirs, json!([]));
}
