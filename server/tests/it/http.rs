//! The router driven in-process: real SQLite in a temp dir, the demo seed, no network.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use server::config::Config;
use server::http::{router, AppState};
use tower::ServiceExt;

struct Shop {
    _dir: tempfile::TempDir,
    state: AppState,
    config: Config,
}

async fn shop() -> Shop {
    shop_with(&[]).await
}

async fn shop_with(env: &[(&str, &str)]) -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let database_url = common::fresh_database();
    let config = Config::from_lookup(|key| match key {
        "DATA_DIR" => Some(data_dir.clone()),
        "DATABASE_URL" => database_url.clone(),
        "SEED_DEMO" => Some("1".into()),
        _ => env
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string()),
    })
    .unwrap();
    let state = server::prepare(&config).await.unwrap();
    Shop {
        _dir: dir,
        state,
        config,
    }
}

impl Shop {
    fn app(&self) -> Router {
        router(self.state.clone())
    }

    async fn get(&self, uri: &str) -> (StatusCode, String, Option<String>) {
        self.get_with(uri, &[]).await
    }

    async fn get_with(
        &self,
        uri: &str,
        headers: &[(header::HeaderName, &str)],
    ) -> (StatusCode, String, Option<String>) {
        let mut request = Request::get(uri);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        let res = self
            .app()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            String::from_utf8_lossy(&body).into_owned(),
            content_type,
        )
    }
}

const EBOOKS: [&str; 3] = [
    "The Pocket Guide to Rust",
    "Night Photography Field Notes",
    "Sourdough at Home",
];
const COURSES: [&str; 2] = [
    "Telegram Mini Apps from Scratch",
    "Watercolour Basics in 7 Lessons",
];

#[tokio::test]
async fn healthz_reports_the_database() {
    let shop = shop().await;
    let (status, body, _) = shop.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, r#"{"status":"ok"}"#);

    shop.state.db.close().await;
    let (status, body, _) = shop.get("/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("unavailable"), "{body}");
}

#[tokio::test]
async fn the_catalog_lists_every_published_product_and_loads_the_bundle() {
    let shop = shop().await;
    let (status, html, content_type) = shop.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.unwrap().starts_with("text/html"));
    for title in EBOOKS
        .iter()
        .chain(&COURSES)
        .chain(&["Lo-fi Sample Pack Vol. 1"])
    {
        assert!(html.contains(title), "{title} missing");
    }
    assert!(html.contains(r#"href="/pkg/starfront.js""#), "{html}");
    assert!(html.contains("/pkg/starfront.wasm"), "{html}");
    assert!(html.contains(r#"href="/pkg/starfront.css""#), "{html}");
}

#[tokio::test]
async fn the_kind_filter_is_applied_on_the_server_too() {
    let shop = shop().await;
    let (status, html, _) = shop.get("/?kind=course").await;
    assert_eq!(status, StatusCode::OK);
    for title in COURSES {
        assert!(html.contains(title), "{title} missing");
    }
    for title in EBOOKS {
        assert!(!html.contains(title), "{title} should be filtered out");
    }
}

#[tokio::test]
async fn a_product_page_shows_the_product_and_its_sample() {
    let shop = shop().await;
    let (status, html, _) = shop.get("/p/pocket-guide-to-rust").await;
    assert_eq!(status, StatusCode::OK);
    // No closing tag asserted: with erase_components a hydration marker follows the title.
    assert!(html.contains("<h1>The Pocket Guide to Rust<"), "{html}");
    assert!(html.contains("Mira Patel"));
    assert!(html.contains("250"), "{html}");
    assert!(
        html.contains("<title>The Pocket Guide to Rust · Starfront</title>"),
        "{html}"
    );
    let sample = "/media/samples/pocket-guide-to-rust/pocket-guide-to-rust-sample.pdf";
    assert!(html.contains(sample), "{html}");

    let (status, pdf, content_type) = shop.get(sample).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/pdf"));
    assert!(pdf.starts_with("%PDF-1.4"));
}

#[tokio::test]
async fn unknown_products_and_paths_are_404_pages() {
    let shop = shop().await;
    for uri in ["/p/no-such-book", "/no/such/page"] {
        let (status, html, _) = shop.get(uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(html.contains("Not found"), "{uri}: {html}");
    }
}

#[tokio::test]
async fn drafts_are_neither_listed_nor_shown() {
    let shop = shop().await;
    server::on_db!(&shop.state.db, |pool| sqlx::query(
        "INSERT INTO products (creator_id, slug, kind, title, price_stars, status)
         VALUES (1001, 'secret-draft', 'ebook', 'Secret Draft', 10, 'draft')",
    )
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let (_, html, _) = shop.get("/").await;
    assert!(!html.contains("Secret Draft"));
    let (status, _, _) = shop.get("/p/secret-draft").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn paid_content_is_not_reachable_as_media() {
    let shop = shop().await;
    let content = shop
        .config
        .files_dir()
        .join("private/content/pocket-guide-to-rust/pocket-guide-to-rust.pdf");
    assert!(content.exists(), "the seed stores the paid file privately");
    for uri in [
        "/media/content/pocket-guide-to-rust/pocket-guide-to-rust.pdf",
        "/media/../private/content/pocket-guide-to-rust/pocket-guide-to-rust.pdf",
        "/media/%2e%2e/private/content/pocket-guide-to-rust/pocket-guide-to-rust.pdf",
    ] {
        let (status, body, _) = shop.get(uri).await;
        assert_ne!(status, StatusCode::OK, "{uri}");
        assert!(!body.starts_with("%PDF"), "{uri}");
    }
}

#[tokio::test]
async fn the_list_products_server_function_answers_json() {
    use leptos::server_fn::ServerFn;
    let shop = shop().await;
    let res = shop
        .app()
        .oneshot(
            Request::post(app::api::ListProducts::PATH)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .body(Body::from("kind=course"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let page: app::api::CatalogPage = serde_json::from_slice(&body).unwrap();
    assert_eq!((page.total, page.page), (COURSES.len() as u32, 1));
    let cards = page.items;
    let mut titles: Vec<_> = cards.iter().map(|c| c.title.as_str()).collect();
    titles.sort_unstable();
    assert_eq!(titles, COURSES);
    assert!(cards
        .iter()
        .all(|c| c.kind == app::api::ProductKind::Course));
}

#[tokio::test]
async fn seeding_twice_changes_nothing() {
    let shop = shop().await;
    let count = |sql: &'static str| {
        let db = shop.state.db.clone();
        async move {
            server::on_db!(&db, |pool| sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(pool)
                .await)
            .unwrap()
        }
    };
    let before = (
        count("SELECT count(*) FROM products").await,
        count("SELECT count(*) FROM product_files").await,
        count("SELECT count(*) FROM users").await,
    );
    assert_eq!(before.0, 6);
    let again = server::prepare(&shop.config).await.unwrap();
    let report = server::seed::apply(&again.db, &again.storage)
        .await
        .unwrap();
    assert_eq!(report.products_added, 0);
    let after = (
        count("SELECT count(*) FROM products").await,
        count("SELECT count(*) FROM product_files").await,
        count("SELECT count(*) FROM users").await,
    );
    assert_eq!(before, after);
}

/// The text of a page without Leptos' hydration markers between text nodes.
fn text(html: &str) -> String {
    html.replace("<!>", "")
}

#[tokio::test]
async fn search_finds_words_and_word_starts_in_any_case() {
    let shop = shop().await;
    let (status, html, _) = shop.get("/?q=WATERCOL").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Watercolour Basics"), "{html}");
    assert!(text(&html).contains("1 found"), "{html}");
    for title in EBOOKS {
        assert!(!html.contains(title), "{title} does not match");
    }
    // Every word must match; the kind narrows further.
    let (_, html, _) = shop.get("/?q=telegram+stars&kind=course").await;
    assert!(html.contains("Telegram Mini Apps from Scratch"), "{html}");
    let (_, html, _) = shop.get("/?q=telegram+stars&kind=ebook").await;
    assert!(!html.contains("Telegram Mini Apps from Scratch"), "{html}");
    assert!(text(&html).contains("Nothing matches"), "{html}");
    // FTS5 syntax is just text, never an error.
    let (status, html, _) = shop.get("/?q=%22%29+OR+*+NEAR%28").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Something went wrong"), "{html}");
}

#[tokio::test]
async fn the_catalog_comes_in_pages() {
    let shop = shop_with(&[("CATALOG_PAGE_SIZE", "4")]).await;
    let cards = |html: &str| html.matches(r#"class="card""#).count();
    let (_, first, _) = shop.get("/").await;
    assert_eq!(cards(&first), 4, "{first}");
    assert!(text(&first).contains("Page 1 of 2"), "{first}");
    assert!(first.contains(r#"href="/?page=2""#), "{first}");
    let (_, second, _) = shop.get("/?page=2").await;
    assert_eq!(cards(&second), 2, "{second}");
    assert!(second.contains(r#"rel="prev" href="/""#), "{second}");
    // Past the end is the last page, not an empty one.
    let (_, past, _) = shop.get("/?page=99").await;
    assert_eq!(cards(&past), 2, "{past}");
}

#[tokio::test]
async fn pages_speak_the_readers_language() {
    let shop = shop().await;
    let (_, html, _) = shop
        .get_with("/", &[(header::ACCEPT_LANGUAGE, "ru-RU,ru;q=0.9")])
        .await;
    assert!(html.contains(r#"lang="ru""#), "{html}");
    assert!(html.contains("Мои покупки"), "{html}");
    assert!(html.contains("Курсы"), "{html}");
    // A language picked in the app (its cookie) wins over the browser's.
    let (_, html, _) = shop
        .get_with(
            "/p/pocket-guide-to-rust",
            &[
                (header::ACCEPT_LANGUAGE, "ru"),
                (header::COOKIE, "i18n_pref_locale=en"),
            ],
        )
        .await;
    assert!(html.contains(r#"lang="en""#), "{html}");
    assert!(text(&html).contains("Buy for ⭐ 250"), "{html}");
    let (_, html, _) = shop.get("/p/pocket-guide-to-rust").await;
    assert!(
        text(&html).contains("Buy for ⭐ 250"),
        "English by default: {html}"
    );
}

#[tokio::test]
async fn a_course_page_lists_its_lessons_and_links_the_free_preview() {
    let shop = shop().await;
    let (status, html, _) = shop.get("/p/telegram-mini-apps-from-scratch").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Lesson 1: What a Mini App is"), "{html}");
    assert!(html.contains("Lesson 3: Selling with Stars"), "{html}");
    let previews = html.matches(r#"data-preview="true""#).count();
    assert_eq!(previews, 1, "only the first lesson is free: {html}");
    assert!(
        html.contains("/learn/telegram-mini-apps-from-scratch/"),
        "{html}"
    );
}

#[tokio::test]
async fn a_hostile_authorization_header_is_refused_by_its_size() {
    let shop = shop().await;
    // 60,000 distinct keys (about 470 KB): once a quadratic duplicate check ran before the
    // signature, and four such requests stalled the server for tens of seconds.
    let keys: Vec<String> = (1..=60_000).map(|i| format!("k{i}=")).collect();
    let hostile = format!("tma {}", keys.join("&"));
    let (status, body, _) = shop
        .get_with("/api/me", &[(header::AUTHORIZATION, &hostile)])
        .await;
    assert_eq!(
        status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "{body}"
    );
    assert!(body.contains("init_data_too_large"), "{body}");
    assert!(body.contains("longer than 8192 bytes"), "{body}");

    // Small but with too many fields: the same answer, naming the field limit.
    let many = format!("tma {}", keys[..40].join("&"));
    let (status, body, _) = shop
        .get_with("/api/me", &[(header::AUTHORIZATION, &many)])
        .await;
    assert_eq!(
        status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "{body}"
    );
    assert!(body.contains("more than 32 fields"), "{body}");
}

#[tokio::test]
async fn the_webhook_checks_its_secret_before_reading_the_body() {
    let shop = shop_with(&[("DEV_PREVIEW", "1")]).await;
    // A body that never arrives: only a handler that waits for it would hang.
    let endless = Body::from_stream(futures_util::stream::pending::<
        Result<axum::body::Bytes, std::io::Error>,
    >());
    let request = Request::post("/telegram/webhook")
        .header("x-telegram-bot-api-secret-token", "wrong")
        .header(header::CONTENT_TYPE, "application/json")
        .body(endless)
        .unwrap();
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        shop.app().oneshot(request),
    )
    .await
    .expect("answered without reading the body")
    .unwrap();
    assert_eq!(answered.status(), StatusCode::UNAUTHORIZED);

    // With the secret, an update over the limit is refused.
    let secret = hex::encode(server::auth::derive_key(
        server::config::DEV_BOT_TOKEN,
        "webhook secret",
    ));
    let huge = format!(
        r#"{{"update_id":1,"message":{{"text":"{}"}}}}"#,
        "a".repeat(server::http::WEBHOOK_MAX_BYTES)
    );
    let request = Request::post("/telegram/webhook")
        .header("x-telegram-bot-api-secret-token", &secret)
        .body(Body::from(huge))
        .unwrap();
    let res = shop.app().oneshot(request).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// Opens a raw connection and sends part of a request head, as a slowloris client does.
async fn half_open(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    stream
}

#[tokio::test]
async fn slow_heads_are_cut_off_and_connections_are_capped() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(
        &dir,
        // No dev preview: its bot would hold connections to its own emulator on this server.
        &[
            ("DEV_PREVIEW", "0"),
            ("MAX_CONNECTIONS", "3"),
            ("HEADER_READ_TIMEOUT_SECS", "1"),
        ],
    );
    let (config, _stop) = common::serve(config).await;
    let base = format!("http://{}", config.bind);
    // wait_healthy's client keeps its connection: a fresh client per call below.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let mut slow = Vec::new();
    for _ in 0..3 {
        slow.push(half_open(config.bind).await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let quick = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await;
    assert!(quick.is_err(), "a fourth connection was served: {quick:?}");

    // The heads never complete: the server answers 408 or closes within the timeout.
    for stream in &mut slow {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut buf),
        )
        .await;
        assert!(read.is_ok(), "a slow head was left open");
    }
    let res = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn oversized_request_heads_are_refused_by_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let (config, _stop) = common::serve(common::config(&dir, &[])).await;
    let base = format!("http://{}", config.bind);
    // Under the server's 64 KiB head limit: refused by its length as init data.
    let res = reqwest::Client::new()
        .get(format!("{base}/api/me"))
        .header(
            header::AUTHORIZATION,
            format!("tma {}", "a=1&".repeat(5_000)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);

    // The issue's 60,000 keys (470 KB): the server stops reading at 64 KiB, answers 431 and
    // closes; the client may see the 431 or a reset, never a wait.
    let keys: Vec<String> = (1..=60_000).map(|i| format!("k{i}=")).collect();
    let request = format!(
        "GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: tma {}\r\n\r\n",
        keys.join("&")
    );
    let (mut read, mut write) = tokio::net::TcpStream::connect(config.bind)
        .await
        .unwrap()
        .into_split();
    tokio::spawn(async move { write.write_all(request.as_bytes()).await });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        read.read_to_end(&mut answer),
    )
    .await
    .expect("refused at once");
    if read.is_ok() && !answer.is_empty() {
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    }
    let res = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_stop_lets_requests_in_flight_finish_and_refuses_new_ones() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir, &[]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    config.bind = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, config.clone(), async move {
        let _ = stopped.await;
    }));
    common::wait_healthy(&format!("http://{}", config.bind)).await;

    // A webhook update whose body is half sent when the stop comes.
    let secret = hex::encode(server::auth::derive_key(
        server::config::DEV_BOT_TOKEN,
        "webhook secret",
    ));
    let body = br#"{"update_id":777001}"#;
    let mut stream = tokio::net::TcpStream::connect(config.bind).await.unwrap();
    let head = format!(
        "POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-Telegram-Bot-Api-Secret-Token: {secret}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..5]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        tokio::net::TcpStream::connect(config.bind).await.is_err(),
        "still accepting after the stop"
    );
    stream.write_all(&body[5..]).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("the server stopped")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn refunds_and_studio_writes_need_fresher_init_data_than_browsing() {
    let shop = shop_with(&[
        ("DEV_PREVIEW", "1"),
        ("INIT_DATA_SENSITIVE_MAX_AGE_SECS", "600"),
    ])
    .await;
    // The demo admin (9001), signed in 20 minutes ago.
    let user = r#"{"id":9001,"first_name":"Sam","language_code":"en"}"#;
    let then = (clock::unix_now() - 1200).to_string();
    let auth = format!(
        "tma {}",
        server::telegram::init_data::sign(
            server::config::DEV_BOT_TOKEN,
            &[("user", user), ("auth_date", &then)]
        )
    );
    let call = |method: &str, uri: &str, body: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, &auth)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    for (method, uri, body) in [("GET", "/api/me", ""), ("GET", "/api/studio/products", "")] {
        let res = shop.app().oneshot(call(method, uri, body)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{method} {uri}");
    }
    for (method, uri, body) in [
        ("POST", "/api/orders/nope/refund", ""),
        ("POST", "/api/studio/orders/nope/refund", ""),
        (
            "POST",
            "/api/studio/products",
            r#"{"title":"New","kind":"ebook","price_stars":5}"#,
        ),
    ] {
        let res = shop.app().oneshot(call(method, uri, body)).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}: {body}");
        assert!(body.contains("init_data_expired"), "{body}");
        assert!(body.contains("limit 600 s"), "{body}");
    }
}

#[tokio::test]
async fn metrics_report_updates_errors_and_the_ledger_to_loopback_or_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let (config, _stop) = common::serve(common::config(&dir, &[])).await;
    let base = format!("http://{}", config.bind);
    let http = reqwest::Client::new();
    let secret = hex::encode(server::auth::derive_key(
        server::config::DEV_BOT_TOKEN,
        "webhook secret",
    ));
    let wrong = http
        .post(format!("{base}/telegram/webhook"))
        .header("x-telegram-bot-api-secret-token", "wrong")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let query = serde_json::json!({
        "update_id": 424242,
        "pre_checkout_query": {
            "id": "metrics-q1",
            "from": { "id": 5151, "is_bot": false, "first_name": "M" },
            "currency": "XTR",
            "total_amount": 5,
            "invoice_payload": "no-such-order-0000000000"
        }
    });
    let answered = http
        .post(format!("{base}/telegram/webhook"))
        .header("x-telegram-bot-api-secret-token", &secret)
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), StatusCode::OK);

    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    for line in [
        "starfront_webhook_errors_total{reason=\"secret\"}",
        "starfront_pre_checkout_seconds_bucket",
        "starfront_update_seconds_count{kind=\"pre_checkout_query\"}",
        "starfront_payments_applied 0",
        "starfront_refunds 0",
        "starfront_delivery_backlog 0",
    ] {
        assert!(text.contains(line), "{line} missing in:\n{text}");
    }

    // In-process there is no loopback peer: only the token opens it.
    let shop = shop_with(&[("METRICS_TOKEN", "scrape-me")]).await;
    let (status, _, _) = shop.get("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body, _) = shop
        .get_with("/metrics", &[(header::AUTHORIZATION, "Bearer scrape-me")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("starfront_delivery_backlog"), "{body}");
}

fn tma(user_id: i64) -> String {
    let user = serde_json::json!({ "id": user_id, "first_name": "R", "language_code": "en" });
    format!(
        "tma {}",
        server::telegram::init_data::sign(
            server::config::DEV_BOT_TOKEN,
            &[
                ("user", &user.to_string()),
                ("auth_date", &clock::unix_now().to_string())
            ]
        )
    )
}

#[tokio::test]
async fn invoice_making_requests_are_rate_limited_per_user_with_retry_after() {
    let shop = shop_with(&[("DEV_PREVIEW", "1"), ("RATE_LIMIT_CHECKOUT_PER_MIN", "3")]).await;
    let tip = |auth: String| {
        Request::post("/api/tips")
            .header(header::AUTHORIZATION, auth)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"creator_id":1,"amount_stars":0}"#))
            .unwrap()
    };
    for _ in 0..3 {
        let res = shop.app().oneshot(tip(tma(6001))).await.unwrap();
        assert_ne!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let res = shop.app().oneshot(tip(tma(6001))).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("rate_limited"));

    // Another buyer has a budget of their own; browsing is never counted.
    let res = shop.app().oneshot(tip(tma(6002))).await.unwrap();
    assert_ne!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let (status, _, _) = shop.get("/").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn quoting_a_price_needs_a_signed_in_buyer() {
    let shop = shop_with(&[("DEV_PREVIEW", "1")]).await;
    let quote = |auth: Option<String>| {
        let mut request = Request::post("/api/quote_price")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(auth) = auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        request
            .body(Body::from("slug=pocket-guide-to-rust&code=GUESS"))
            .unwrap()
    };
    let res = shop.app().oneshot(quote(None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = shop.app().oneshot(quote(Some(tma(6101)))).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    // Signed in, the code is simply unknown.
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert!(String::from_utf8_lossy(&body).contains("no such discount code"));
}
