//! What a buyer's first load depends on: the bundle's content-hashed names in the HTML, served
//! immutable (precompressed), and a catalog whose counts do not scan the catalog.

use crate::common;

use app::api::{CatalogQuery, ProductKind};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use server::db::Db;
use tower::ServiceExt;

struct Response {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Vec<u8>,
}

async fn get(app: &axum::Router, uri: &str, accept_encoding: Option<&str>) -> Response {
    let mut request = Request::get(uri);
    if let Some(encoding) = accept_encoding {
        request = request.header(header::ACCEPT_ENCODING, encoding);
    }
    let res = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    Response {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    }
}

/// A site as scripts/build.sh leaves it: hashed files, their compressed twins, the manifest.
fn built_site(root: &std::path::Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("starfront.0123456789abcdef.js"),
        "export default 1;",
    )
    .unwrap();
    std::fs::write(
        pkg.join("starfront.0123456789abcdef.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    std::fs::write(
        pkg.join("starfront.0123456789abcdef.wasm.br"),
        b"brotli bytes",
    )
    .unwrap();
    std::fs::write(pkg.join("starfront.fedcba9876543210.css"), "body{}").unwrap();
    // The reader's viewers, compressed beside themselves the same way.
    let pdfjs = root.join("reader").join("pdfjs");
    std::fs::create_dir_all(&pdfjs).unwrap();
    std::fs::write(pdfjs.join("pdf.worker.min.mjs"), "export {};").unwrap();
    std::fs::write(pdfjs.join("pdf.worker.min.mjs.gz"), b"gzip bytes").unwrap();
    std::fs::write(
        root.join("assets.json"),
        r#"{"bundle":"starfront.0123456789abcdef","css":"starfront.fedcba9876543210.css"}"#,
    )
    .unwrap();
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[tokio::test]
async fn pages_name_the_hashed_bundle_which_is_served_immutable() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    built_site(&site);
    let config = common::config(&dir, &[("LEPTOS_SITE_ROOT", site.to_str().unwrap())]);
    let state = server::prepare(&config).await.unwrap();
    let app = server::http::router(state);

    for page in ["/", "/p/sourdough-at-home", "/no-such-page"] {
        let html = String::from_utf8(get(&app, page, None).await.body).unwrap();
        assert!(
            html.contains(r#"href="/pkg/starfront.0123456789abcdef.js""#),
            "{page}: {html}"
        );
        assert!(
            html.contains(r#""starfront.0123456789abcdef""#),
            "{page}: {html}"
        );
        assert!(
            html.contains(r#"href="/pkg/starfront.0123456789abcdef.wasm""#),
            "{page}: {html}"
        );
        assert!(
            html.contains(r#"href="/pkg/starfront.fedcba9876543210.css""#),
            "{page}: {html}"
        );
        assert!(!html.contains("/pkg/starfront.js"), "{page}: {html}");
        assert!(!html.contains("/pkg/starfront.css"), "{page}: {html}");
    }

    let wasm = get(
        &app,
        "/pkg/starfront.0123456789abcdef.wasm",
        Some("br, gzip"),
    )
    .await;
    assert_eq!(wasm.status, StatusCode::OK);
    assert_eq!(wasm.headers[header::CACHE_CONTROL], IMMUTABLE);
    assert_eq!(wasm.headers[header::CONTENT_ENCODING], "br");
    assert_eq!(wasm.headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(wasm.body, b"brotli bytes");

    let plain = get(&app, "/pkg/starfront.0123456789abcdef.wasm", None).await;
    assert_eq!(plain.body, b"\0asm\x01\0\0\0");
    assert_eq!(plain.headers[header::CACHE_CONTROL], IMMUTABLE);

    let css = get(&app, "/pkg/starfront.fedcba9876543210.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers[header::CACHE_CONTROL], IMMUTABLE);

    // The reader's files keep their names (revalidated, never immutable) but go compressed: the
    // PDF.js worker alone is a megabyte raw. The frame's policy comes with them.
    let worker = get(&app, "/reader/pdfjs/pdf.worker.min.mjs", Some("br, gzip")).await;
    assert_eq!(worker.status, StatusCode::OK);
    assert_eq!(worker.headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(worker.body, b"gzip bytes");
    assert_eq!(worker.headers[header::CACHE_CONTROL], "no-cache");
    assert!(worker.headers.contains_key(header::CONTENT_SECURITY_POLICY));
    let plain = get(&app, "/reader/pdfjs/pdf.worker.min.mjs", None).await;
    assert_eq!(plain.body, b"export {};");

    // The unhashed names of earlier builds, and an earlier build's hash, are not there; a
    // miss must not be cached for a year.
    for old in [
        "/pkg/starfront.wasm",
        "/pkg/starfront.js",
        "/pkg/starfront.css",
        "/pkg/starfront.1111111111111111.wasm",
    ] {
        let res = get(&app, old, Some("br, gzip")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{old}");
        assert_eq!(res.headers[header::CACHE_CONTROL], "no-store", "{old}");
    }
}

#[tokio::test]
async fn a_manifest_naming_paths_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("assets.json"),
        r#"{"bundle":"../../etc/passwd","css":"x.css"}"#,
    )
    .unwrap();
    let config = common::config(&dir, &[("LEPTOS_SITE_ROOT", site.to_str().unwrap())]);
    let err = server::prepare(&config).await.err().expect("refused");
    assert!(matches!(err, server::StartError::Assets(_)), "{err:?}");
}

/// The catalog's totals (kept by triggers) against a count of the products themselves.
async fn assert_totals_match(db: &Db) {
    let kinds = [
        None,
        Some(ProductKind::Ebook),
        Some(ProductKind::Course),
        Some(ProductKind::File),
    ];
    for kind in kinds {
        let query = CatalogQuery {
            kind,
            ..Default::default()
        };
        let page = server::catalog::list_published(db, &query, 2)
            .await
            .unwrap();
        let counted: i64 = server::on_db!(db, |pool| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM products WHERE status = 'published' AND ($1 IS NULL OR kind = $1)"
        )
        .bind(kind.map(ProductKind::as_str))
        .fetch_one(pool)
        .await
        .unwrap()
        });
        assert_eq!(i64::from(page.total), counted, "{kind:?}");
        assert_eq!(
            page.items.len() as i64,
            counted.min(2),
            "{kind:?}: one page of at most 2"
        );
    }
}

#[tokio::test]
async fn catalog_totals_follow_every_change_to_products() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    let db = &state.db;
    assert_totals_match(db).await;

    let statements = [
        // Archived, moved to another kind, a draft published, one edited without a change of
        // kind or status, one deleted.
        "UPDATE products SET status = 'archived' WHERE slug = 'sourdough-at-home'",
        "UPDATE products SET kind = 'file' WHERE slug = 'pocket-guide-to-rust'",
        "UPDATE products SET status = 'draft' WHERE slug = 'night-photography-field-notes'",
        "UPDATE products SET status = 'published' WHERE slug = 'night-photography-field-notes'",
        "UPDATE products SET title = 'Renamed', kind = kind, status = status WHERE slug = 'pocket-guide-to-rust'",
    ];
    for sql in statements {
        server::on_db!(db, |pool| {
            sqlx::query(sql).execute(pool).await.unwrap();
        });
        assert_totals_match(db).await;
    }
    // A new product straight into the catalog, then removed (its dependants first).
    server::on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO products (creator_id, slug, kind, title, price_stars, status, published_at)
             SELECT creator_id, 'fresh-one', 'course', 'Fresh', 5, 'published', 1
             FROM products WHERE slug = 'sourdough-at-home'",
        )
        .execute(pool)
        .await
        .unwrap();
    });
    assert_totals_match(db).await;
    server::on_db!(db, |pool| {
        sqlx::query("DELETE FROM products WHERE slug = 'fresh-one'")
            .execute(pool)
            .await
            .unwrap();
    });
    assert_totals_match(db).await;
}

async fn get_with(app: &axum::Router, uri: &str, headers: &[(header::HeaderName, &str)]) -> String {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let res = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{uri}");
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

async fn sql(db: &Db, sql: &'static str) {
    server::on_db!(db, |pool| {
        sqlx::query(sql).execute(pool).await.unwrap();
    });
}

#[tokio::test]
async fn catalog_pages_are_rendered_again_once_the_catalog_changes() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    let app = server::http::router(state.clone());
    let db = &state.db;

    let first = get_with(&app, "/", &[]).await;
    assert!(first.contains("Sourdough at Home"), "{first}");
    assert_eq!(get_with(&app, "/", &[]).await, first);

    // Each language and each query has its own page.
    let ru = get_with(&app, "/", &[(header::ACCEPT_LANGUAGE, "ru-RU,ru;q=0.9")]).await;
    assert!(ru.contains("Мои покупки"), "{ru}");
    let ru_cookie = get_with(&app, "/", &[(header::COOKIE, "a=b; i18n_pref_locale=ru")]).await;
    assert!(ru_cookie.contains("Мои покупки"), "{ru_cookie}");
    let courses = get_with(&app, "/?kind=course", &[]).await;
    assert!(!courses.contains("Sourdough at Home"), "{courses}");
    assert!(get_with(&app, "/", &[]).await.contains("My library"));

    // An edit shows at once, whoever made it.
    sql(
        db,
        "UPDATE products SET title = 'Sourdough, Revised' WHERE slug = 'sourdough-at-home'",
    )
    .await;
    let edited = get_with(&app, "/", &[]).await;
    assert!(edited.contains("Sourdough, Revised"), "{edited}");
    sql(db, "UPDATE creators SET display_name = 'Renamed Creator'").await;
    assert!(get_with(&app, "/", &[]).await.contains("Renamed Creator"));
    sql(
        db,
        "UPDATE products SET status = 'archived' WHERE slug = 'sourdough-at-home'",
    )
    .await;
    assert!(!get_with(&app, "/", &[])
        .await
        .contains("Sourdough, Revised"));

    // The page is kept while the version stands: a change made behind the version's back (no
    // bump) is not seen, which shows the page came from memory.
    let before = get_with(&app, "/", &[]).await;
    let version = server::page_cache::catalog_version(db).await.unwrap();
    sql(
        db,
        "UPDATE products SET title = 'Unseen' WHERE slug = 'pocket-guide-to-rust'",
    )
    .await;
    server::on_db!(db, |pool| {
        sqlx::query("UPDATE catalog_version SET version = $1")
            .bind(version)
            .execute(pool)
            .await
            .unwrap();
    });
    assert_eq!(get_with(&app, "/", &[]).await, before);
}

#[tokio::test]
async fn a_catalog_page_the_browser_holds_is_not_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    let app = server::http::router(state.clone());
    let send = |if_none_match: Option<String>| {
        let app = app.clone();
        async move {
            let mut request = Request::get("/");
            if let Some(tag) = if_none_match {
                request = request.header(header::IF_NONE_MATCH, tag);
            }
            let res = app
                .oneshot(request.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = res.status();
            let etag = res
                .headers()
                .get(header::ETAG)
                .map(|v| v.to_str().unwrap().to_owned());
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, etag, body.len())
        }
    };
    let (status, etag, len) = send(None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(len > 0);
    let etag = etag.expect("an ETag");
    // Rendered once more or served from memory, the same page has the same tag.
    assert_eq!(send(None).await.1.as_deref(), Some(etag.as_str()));
    assert_eq!(
        send(Some(etag.clone())).await,
        (StatusCode::NOT_MODIFIED, Some(etag.clone()), 0)
    );
    sql(
        &state.db,
        "UPDATE products SET price_stars = price_stars + 1 WHERE slug = 'sourdough-at-home'",
    )
    .await;
    let (status, new_etag, _) = send(Some(etag.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(new_etag, Some(etag));
}
