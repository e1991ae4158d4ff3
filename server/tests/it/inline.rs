//! Inline mode through the emulator: a user types `@bot <words>` and the shop answers with
//! product cards from the catalog's own search, in the user's language, each with a button
//! that opens the product in the Mini App.

use crate::common::{config, signed_init_data, wait_for, TestApp};

use serde_json::{json, Value};

/// The user types `@starfront_bot <query>`; returns the shop's answer once it came.
async fn ask(shop: &TestApp, user: i64, query: &str) -> Value {
    scroll(shop, user, query, "").await
}

/// As `ask`, for the answer's page at `offset` (the last answer's `next_offset`).
async fn scroll(shop: &TestApp, user: i64, query: &str, offset: &str) -> Value {
    let made = shop
        .control(
            &format!("users/{user}/inline"),
            json!({ "query": query, "offset": offset }),
        )
        .await;
    let path = format!("inline/{}", made["id"].as_str().unwrap());
    let mut answer = Value::Null;
    wait_for("the inline answer", async || {
        answer = shop.get(&path).await["answer"].clone();
        !answer.is_null()
    })
    .await;
    answer
}

async fn user(shop: &TestApp, id: i64, lang: &str) {
    shop.control(
        "users",
        json!({ "id": id, "first_name": "Reader", "language_code": lang }),
    )
    .await;
}

fn titles(answer: &Value) -> Vec<&str> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect()
}

/// `WebApp.shareMessage`: `user` sends the prepared message `id` to their chat with the bot.
async fn send_prepared(shop: &TestApp, id: &str, user: i64) -> reqwest::Response {
    shop.http
        .post(format!(
            "{}/emulator/control/prepared/{id}/share",
            shop.base
        ))
        .json(&json!({ "user_id": user }))
        .send()
        .await
        .unwrap()
}

fn open_button(result: &Value) -> &Value {
    &result["reply_markup"]["inline_keyboard"][0][0]
}

#[tokio::test]
async fn a_search_answers_with_product_cards_that_open_the_product() {
    let shop = TestApp::start(&[]).await;
    user(&shop, 801, "en").await;

    let answer = ask(&shop, 801, "sourdough").await;
    assert_eq!(titles(&answer), ["Sourdough at Home"], "{answer}");
    let card = &answer["results"][0];
    assert_eq!(card["type"], "article");
    let details = card["description"].as_str().unwrap();
    assert!(
        details.starts_with("⭐ ") && details.contains(" by "),
        "{details}"
    );
    assert_eq!(
        card["input_message_content"]["message_text"],
        format!("Sourdough at Home\n{details}")
    );
    assert_eq!(
        open_button(card),
        &json!({
            "text": "Open",
            "url": "https://t.me/starfront_bot?startapp=p_sourdough-at-home"
        })
    );
    // The cards are in this user's language, so Telegram keeps them for this user only.
    assert_eq!(answer["is_personal"], true);

    assert_eq!(
        ask(&shop, 801, "no such thing at all").await["results"],
        json!([])
    );
}

#[tokio::test]
async fn a_russian_reader_gets_russian_cards() {
    let shop = TestApp::start(&[]).await;
    user(&shop, 802, "ru").await;
    server::on_db!(&shop.db, |pool| sqlx::query(
        "INSERT INTO products
           (creator_id, slug, kind, title, description, price_stars, status, published_at)
         VALUES (1002, 'akvarel-s-nulia', 'course', 'Акварель с нуля', '', 350, 'published', $1)",
    )
    .bind(clock::unix_now())
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();

    let answer = ask(&shop, 802, "акварель").await;
    assert_eq!(titles(&answer), ["Акварель с нуля"], "{answer}");
    let card = &answer["results"][0];
    assert_eq!(card["description"], "⭐ 350 · Курс, автор: Oleg Ivanov");
    assert_eq!(
        open_button(card),
        &json!({
            "text": "Открыть",
            "url": "https://t.me/starfront_bot?startapp=p_akvarel-s-nulia"
        })
    );

    // An English title found by a Russian reader still comes with Russian words.
    let answer = ask(&shop, 802, "sourdough").await;
    let card = &answer["results"][0];
    assert_eq!(card["title"], "Sourdough at Home");
    assert!(
        card["description"].as_str().unwrap().contains(", автор: "),
        "{card}"
    );
    assert_eq!(open_button(card)["text"], "Открыть");
}

#[tokio::test]
async fn an_empty_query_shows_the_newest_products() {
    let shop = TestApp::start(&[]).await;
    user(&shop, 803, "en").await;

    let answer = ask(&shop, 803, "").await;
    let newest = server::catalog::list_published(&shop.db, &Default::default(), 50)
        .await
        .unwrap();
    assert!(newest.items.len() > 1);
    let expected: Vec<&str> = newest.items.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles(&answer), expected);
    for (result, product) in answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&newest.items)
    {
        assert_eq!(
            open_button(result)["url"],
            format!("https://t.me/starfront_bot?startapp=p_{}", product.slug)
        );
    }
    // Everything fits in one answer: no next page.
    assert_eq!(answer["next_offset"], "");
}

#[tokio::test]
async fn more_cards_come_as_the_user_scrolls() {
    let shop = TestApp::start(&[]).await;
    user(&shop, 804, "en").await;
    for n in 1..=25 {
        server::on_db!(&shop.db, |pool| sqlx::query(
            "INSERT INTO products
               (creator_id, slug, kind, title, description, price_stars, status, published_at)
             VALUES (1001, $1, 'ebook', $2, '', 10, 'published', $3)",
        )
        .bind(format!("zine-{n}"))
        .bind(format!("Zine number {n}"))
        .bind(clock::unix_now() + n)
        .execute(pool)
        .await
        .map(server::db::Done::from))
        .unwrap();
    }

    let first = ask(&shop, 804, "zine").await;
    let page: Vec<String> = (6..=25).rev().map(|n| format!("Zine number {n}")).collect();
    assert_eq!(titles(&first), page);
    assert_eq!(first["next_offset"], "2");
    let second = scroll(&shop, 804, "zine", "2").await;
    let rest: Vec<String> = (1..=5).rev().map(|n| format!("Zine number {n}")).collect();
    assert_eq!(titles(&second), rest);
    assert_eq!(second["next_offset"], "");
    // Result ids are unique across the pages too.
    let ids: std::collections::HashSet<&str> = [&first, &second]
        .iter()
        .flat_map(|a| a["results"].as_array().unwrap())
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 25);
}

#[tokio::test]
async fn an_answer_telegram_did_not_take_is_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 here: the answer cannot reach Telegram.
    let config = config(&dir, &[("TELEGRAM_API_URL", "http://127.0.0.1:9")]);
    let state = server::prepare(&config).await.unwrap();
    let inbox = state.telegram.as_ref().unwrap().inbox.clone();
    let update = json!({
        "update_id": 9300,
        "inline_query": {
            "id": "4242",
            "from": { "id": 805, "is_bot": false, "first_name": "Ann", "language_code": "en" },
            "query": "rust",
            "offset": ""
        }
    });
    // Handled, not left pending: by a retry the user would have typed on.
    assert_eq!(
        inbox
            .ingest_json(update.to_string().as_bytes())
            .await
            .unwrap(),
        server::telegram::updates::Ingested::Handled
    );
}

/// Share in the Mini App: the shop prepares the same card inline mode sends, for this user, and
/// the user sends it "via @bot" to a chat they pick (`WebApp.shareMessage`).
#[tokio::test]
async fn share_prepares_the_product_card_that_the_user_sends_to_a_chat_they_pick() {
    use leptos::server_fn::ServerFn;
    let shop = TestApp::start(&[]).await;
    user(&shop, 805, "ru").await;
    user(&shop, 806, "en").await;
    // Дарья's Telegram is in Russian.
    let darya = json!({ "id": 805, "first_name": "Дарья", "language_code": "ru" });
    let darya = format!("tma {}", signed_init_data(&darya, clock::unix_now()));
    let share = |slug: &str| {
        shop.http
            .post(format!("{}{}", shop.base, app::api::ShareProduct::PATH))
            .header("authorization", &darya)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("slug={slug}"))
            .send()
    };

    let res = share("sourdough-at-home").await.unwrap();
    assert_eq!(res.status(), 200);
    let shared: app::api::Share = res.json().await.unwrap();
    let link = "https://t.me/starfront_bot?startapp=p_sourdough-at-home";
    assert_eq!(shared.link.as_deref(), Some(link));
    assert_eq!(shared.title, "Sourdough at Home");
    let id = shared.prepared_message_id.expect("a prepared message");

    // What Telegram keeps: for this user only, allowed in every kind of chat, the product's
    // card in the user's language with a button into the Mini App and the cover as preview.
    let prepared = shop.get(&format!("prepared/{id}")).await;
    assert_eq!(prepared["user_id"], 805, "{prepared}");
    for kind in ["user", "bot", "group", "channel"] {
        assert_eq!(prepared[format!("allow_{kind}_chats")], true, "{prepared}");
    }
    let card = &prepared["result"];
    assert_eq!(card["title"], "Sourdough at Home");
    let text = card["input_message_content"]["message_text"]
        .as_str()
        .unwrap();
    assert!(
        text.starts_with("Sourdough at Home\n⭐ ") && text.contains("автор"),
        "{text}"
    );
    let preview = &card["input_message_content"]["link_preview_options"];
    assert!(
        preview["url"]
            .as_str()
            .is_some_and(|url| url.starts_with(&shop.base) && url.contains("/media/")),
        "{card}"
    );
    assert_eq!(
        open_button(card),
        &json!({ "text": "Открыть", "url": link })
    );

    // The user sends it to their group: it lands there from them, via the bot, with the button.
    let group = shop
        .control(
            "chats",
            json!({ "type": "group", "title": "Bakers", "members": [805] }),
        )
        .await;
    let group = group["id"].as_i64().unwrap();
    let sent = shop
        .control(
            &format!("prepared/{id}/share"),
            json!({ "user_id": 805, "chat_id": group }),
        )
        .await;
    assert_eq!(sent["from"]["id"], 805);
    assert_eq!(sent["via_bot"]["username"], "starfront_bot");
    assert_eq!(sent["text"], text);
    assert_eq!(
        sent["reply_markup"]["inline_keyboard"][0][0]["url"], link,
        "{sent}"
    );
    assert_eq!(shop.chat(group).await.len(), 1);

    // Prepared for 805: another user cannot send it.
    let other = send_prepared(&shop, &id, 806).await;
    assert_eq!(other.status(), 400);

    // A product not on sale is refused in the user's language; a stranger is not served.
    let res = share("no-such-product").await.unwrap();
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    assert!(body.contains("больше не продаётся"), "{body}");
    let res = shop
        .http
        .post(format!("{}{}", shop.base, app::api::ShareProduct::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("slug=sourdough-at-home")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// A prepared message is good for a day; after that Telegram's client reports it expired.
#[tokio::test]
async fn a_prepared_message_expires() {
    let shop = TestApp::without_workers(&[]).await;
    user(&shop, 807, "en").await;
    let result = json!({
        "type": "article",
        "id": "share",
        "title": "Sourdough at Home",
        "input_message_content": { "message_text": "Sourdough at Home" },
    });
    let prepared = shop
        .bot_api(
            "savePreparedInlineMessage",
            json!({ "user_id": 807, "result": result, "allow_user_chats": true }),
        )
        .await;
    let id = prepared["result"]["id"].as_str().unwrap().to_owned();
    // Not allowed in the bot's own chat, which is the only one this user has.
    let refused = send_prepared(&shop, &id, 807).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("UNSUPPORTED"));

    let prepared = shop
        .bot_api(
            "savePreparedInlineMessage",
            json!({ "user_id": 807, "result": result, "allow_bot_chats": true }),
        )
        .await;
    let id = prepared["result"]["id"].as_str().unwrap().to_owned();
    let expires = prepared["result"]["expiration_date"].as_i64().unwrap();
    assert!(expires > 0);
    shop.control("clock/advance", json!({ "seconds": 86_400 }))
        .await;
    let expired = send_prepared(&shop, &id, 807).await;
    assert_eq!(expired.status(), 400);
    assert!(expired.text().await.unwrap().contains("MESSAGE_EXPIRED"));

    // A user Telegram does not know cannot be prepared for.
    let unknown = shop
        .bot_api(
            "savePreparedInlineMessage",
            json!({ "user_id": 999_999, "result": result, "allow_bot_chats": true }),
        )
        .await;
    assert_eq!(unknown["ok"], false, "{unknown}");
}
