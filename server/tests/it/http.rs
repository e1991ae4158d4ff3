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
    assert!(html.contains("<h1>The Pocket Guide to Rust</h1>"), "{html}");
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
