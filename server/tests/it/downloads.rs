//! The library, courses and paid downloads, driven in-process through the router.

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use server::config::Config;
use server::http::{router, AppState};
use tower::ServiceExt;

const BUYER: i64 = 3131;

async fn shop() -> (tempfile::TempDir, AppState, Config) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let database_url = common::fresh_database();
    let config = Config::from_lookup(|key| match key {
        "DATA_DIR" => Some(data_dir.clone()),
        "DATABASE_URL" => database_url.clone(),
        "DEV_PREVIEW" => Some("1".into()),
        _ => None,
    })
    .unwrap();
    let state = server::prepare(&config).await.unwrap();
    (dir, state, config)
}

/// The buyer's `Authorization`.
fn auth() -> String {
    common::auth(BUYER)
}

async fn send(
    state: &AppState,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let res = router(state.clone()).oneshot(request).await.unwrap();
    let (parts, body) = res.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes().to_vec(),
    )
}

async fn library(state: &AppState) -> Vec<Value> {
    let req = Request::get("/api/library")
        .header(header::AUTHORIZATION, auth())
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(state, req).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

async fn grant(state: &AppState, slug: &str) {
    server::on_db!(&state.db, |pool| sqlx::query(
        "INSERT INTO users (id, first_name) VALUES ($1, 'Bea') ON CONFLICT DO NOTHING"
    )
    .bind(BUYER)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    server::on_db!(&state.db, |pool| sqlx::query("INSERT INTO entitlements (user_id, product_id) SELECT $1, id FROM products WHERE slug = $2")
        .bind(BUYER)
        .bind(slug)
        .execute(pool)
        .await
        .map(server::db::Done::from))
        .unwrap();
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_library_needs_init_data_and_lists_only_owned_products() {
    let (_dir, state, _) = shop().await;
    let (status, _, _) = send(&state, get("/api/library")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(library(&state).await.is_empty());

    grant(&state, "lofi-sample-pack-vol-1").await;
    let items = library(&state).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["title"], "Lo-fi Sample Pack Vol. 1");
    let names: Vec<&str> = items[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["warm-chords.wav", "dusty-bass.wav", "tape-bells.wav"]
    );
}

#[tokio::test]
async fn a_signed_link_downloads_the_exact_file_with_ranges_and_is_logged() {
    let (_dir, state, config) = shop().await;
    grant(&state, "pocket-guide-to-rust").await;
    // The stored bytes themselves (stamped copies, served the same way, are in it/stamping.rs).
    server::on_db!(&state.db, |pool| sqlx::query(
        "UPDATE products SET stamp_copies = FALSE WHERE slug = 'pocket-guide-to-rust'"
    )
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let items = library(&state).await;
    let url = items[0]["files"][0]["url"].as_str().unwrap().to_owned();
    let stored = std::fs::read(
        config
            .files_dir()
            .join("private/content/pocket-guide-to-rust/pocket-guide-to-rust.pdf"),
    )
    .unwrap();

    let (status, headers, body) = send(&state, get(&url)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, stored);
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"pocket-guide-to-rust.pdf\"; filename*=UTF-8''pocket%2Dguide%2Dto%2Drust%2Epdf"
    );
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://web.telegram.org"
    );

    let ranged = Request::get(&url)
        .header(header::RANGE, "bytes=0-9")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&state, ranged).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, &stored[..10]);
    assert!(headers[header::CONTENT_RANGE]
        .to_str()
        .unwrap()
        .starts_with("bytes 0-9/"));

    let log: Vec<(i64, i64, Option<String>, i64)> =
        server::on_db!(&state.db, |pool| sqlx::query_as(
            "SELECT user_id, status, range_header, bytes FROM downloads ORDER BY id"
        )
        .fetch_all(pool)
        .await)
        .unwrap();
    assert_eq!(
        log,
        [
            (BUYER, 200, None, stored.len() as i64),
            (BUYER, 206, Some("bytes=0-9".into()), 10)
        ]
    );
}

#[tokio::test]
async fn revoked_expired_and_forged_links_are_refused() {
    let (_dir, state, _) = shop().await;
    grant(&state, "sourdough-at-home").await;
    let url = library(&state).await[0]["files"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = url.trim_start_matches("/download/");
    let grant_of = state.signer.verify(token, clock::unix_now()).unwrap();

    let expired = state
        .signer
        .sign(BUYER, grant_of.file_id, clock::unix_now() - 3600);
    let (status, _, body) = send(&state, get(&format!("/download/{expired}"))).await;
    assert_eq!(
        status,
        StatusCode::GONE,
        "{}",
        String::from_utf8_lossy(&body)
    );

    // Another user's link to the same file: signed, but they own nothing.
    let stranger = state
        .signer
        .sign(BUYER + 1, grant_of.file_id, clock::unix_now());
    let (status, _, _) = send(&state, get(&format!("/download/{stranger}"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _, _) = send(&state, get(&format!("/download/{}x", token))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    server::on_db!(&state.db, |pool| sqlx::query(
        "UPDATE entitlements SET revoked_at = unixepoch() WHERE user_id = $1"
    )
    .bind(BUYER)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let (status, _, body) = send(&state, get(&url)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "not_entitled");
    assert!(library(&state).await.is_empty());
}

#[tokio::test]
async fn the_library_page_and_its_server_function() {
    use leptos::server_fn::ServerFn;
    let (_dir, state, _) = shop().await;
    // The page itself renders without knowing the buyer; the list loads in the Mini App.
    let (status, _, body) = send(&state, get("/library")).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8_lossy(&body);
    assert!(
        html.contains("My library") && html.contains("Loading your purchases"),
        "{html}"
    );

    grant(&state, "watercolour-basics").await;
    let call = |auth: Option<String>| {
        let mut req = Request::post(app::api::MyLibrary::PATH)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(auth) = auth {
            req = req.header(header::AUTHORIZATION, auth);
        }
        req.body(Body::empty()).unwrap()
    };
    let (status, _, body) = send(&state, call(Some(auth()))).await;
    assert_eq!(status, StatusCode::OK);
    let items: Vec<app::api::LibraryItem> = serde_json::from_slice(&body).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].kind, app::api::ProductKind::Course);
    assert!(items[0].files[0].url.starts_with("/download/"));

    let (status, _, _) = send(&state, call(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Calls a server function as the page does (form body, JSON answer), as `BUYER` when `signed`.
async fn server_fn(
    state: &AppState,
    path: &str,
    body: &str,
    signed: bool,
    language: &str,
) -> (StatusCode, Value) {
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ACCEPT_LANGUAGE, language);
    if signed {
        req = req.header(header::AUTHORIZATION, auth());
    }
    let (status, _, body) = send(state, req.body(Body::from(body.to_owned())).unwrap()).await;
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    (status, value)
}

const COURSE: &str = "telegram-mini-apps-from-scratch";

async fn course(state: &AppState, signed: bool) -> Value {
    use leptos::server_fn::ServerFn;
    let (status, course) = server_fn(
        state,
        app::api::GetCourse::PATH,
        &format!("slug={COURSE}"),
        signed,
        "en",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{course}");
    course
}

async fn lesson(state: &AppState, id: i64, signed: bool, language: &str) -> (StatusCode, Value) {
    use leptos::server_fn::ServerFn;
    server_fn(
        state,
        app::api::GetLesson::PATH,
        &format!("slug={COURSE}&lesson_id={id}"),
        signed,
        language,
    )
    .await
}

fn lesson_ids(course: &Value) -> Vec<i64> {
    course["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn visitors_open_only_the_free_preview_lessons() {
    let (_dir, state, _) = shop().await;
    let outline = course(&state, false).await;
    assert_eq!(outline["owned"], false);
    let open: Vec<bool> = outline["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["open"].as_bool().unwrap())
        .collect();
    assert_eq!(open, [true, false, false]);
    let ids = lesson_ids(&outline);
    assert_eq!(outline["resume_lesson_id"], ids[0]);

    let (status, preview) = lesson(&state, ids[0], false, "en").await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["number"], 1);
    assert_eq!(
        preview["next_id"],
        Value::Null,
        "the next free lesson: none"
    );
    let (status, locked) = lesson(&state, ids[1], false, "ru").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        locked.to_string().contains("Купите курс"),
        "refusals speak the reader's language: {locked}"
    );
    // Signed in but not a buyer: still locked.
    let (status, _) = lesson(&state, ids[2], true, "en").await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_lesson_body_is_markdown_rendered_and_sanitised_as_descriptions_are() {
    let (_dir, state, _) = shop().await;
    let id = lesson_ids(&course(&state, false).await)[0];
    let body = "Read **this** first:\n\n- one\n- [two](https://example.com)\n\n\
                <script>alert(1)</script><a href=\"javascript:alert(2)\" onclick=\"x()\">x</a>";
    server::on_db!(&state.db, |pool| sqlx::query(
        "UPDATE lessons SET body = $1 WHERE id = $2"
    )
    .bind(body)
    .bind(id)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let (status, preview) = lesson(&state, id, false, "en").await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let html = preview["body_html"].as_str().unwrap();
    assert_eq!(html, server::studio::markdown::render(body));
    assert!(html.contains("<strong>this</strong>"), "{html}");
    assert!(html.contains("<li>one</li>"), "{html}");
    assert!(html.contains("href=\"https://example.com\""), "{html}");
    for banned in ["<script", "javascript:", "onclick"] {
        assert!(!html.contains(banned), "{banned} in {html}");
    }
}

#[tokio::test]
async fn a_buyer_follows_the_course_and_resumes_where_they_stopped() {
    use leptos::server_fn::ServerFn;
    let (_dir, state, _) = shop().await;
    grant(&state, COURSE).await;
    let outline = course(&state, true).await;
    assert_eq!(outline["owned"], true);
    let ids = lesson_ids(&outline);

    let (status, first) = lesson(&state, ids[0], true, "en").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["next_id"], ids[1]);
    let done = |id: i64| {
        let state = state.clone();
        async move {
            server_fn(
                &state,
                app::api::CompleteLesson::PATH,
                &format!("slug={COURSE}&lesson_id={id}"),
                true,
                "en",
            )
            .await
        }
    };
    assert_eq!(done(ids[0]).await.0, StatusCode::OK);
    assert_eq!(done(ids[0]).await.0, StatusCode::OK, "twice is fine");
    let (status, second) = lesson(&state, ids[1], true, "en").await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["previous_id"], ids[0]);

    // Coming back: the outline and the library both point at lesson 2, with one done.
    let outline = course(&state, true).await;
    assert_eq!(outline["resume_lesson_id"], ids[1]);
    let done_flags: Vec<bool> = outline["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["completed"].as_bool().unwrap())
        .collect();
    assert_eq!(done_flags, [true, false, false]);
    let items = library(&state).await;
    let progress = &items[0]["course"];
    assert_eq!(progress["done"], 1);
    assert_eq!(progress["total"], 3);
    assert_eq!(
        progress["resume_title"],
        "Lesson 2: Trust nothing from the client"
    );

    // A lesson of another course is not this course's.
    let (status, _) = done(ids[2] + 1000).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // A refund ends access but keeps the progress for when it comes back.
    server::on_db!(&state.db, |pool| sqlx::query(
        "UPDATE entitlements SET revoked_at = unixepoch() WHERE user_id = $1"
    )
    .bind(BUYER)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    assert_eq!(
        lesson(&state, ids[1], true, "en").await.0,
        StatusCode::CONFLICT
    );
    let kept: i64 = server::on_db!(&state.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM lesson_progress WHERE user_id = $1"
    )
    .bind(BUYER)
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn markup_is_downloaded_as_bytes_in_a_sandbox_and_long_ranges_are_refused() {
    let (_dir, state, config) = shop().await;
    grant(&state, "pocket-guide-to-rust").await;
    let url = library(&state).await[0]["files"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    // A creator's "book" that is really a page with a script, typed as sniffed (text/html).
    let page = b"<!DOCTYPE html><script>alert(document.cookie)</script>";
    std::fs::write(
        config
            .files_dir()
            .join("private/content/pocket-guide-to-rust/pocket-guide-to-rust.pdf"),
        page,
    )
    .unwrap();
    server::on_db!(&state.db, |pool| sqlx::query(
        "UPDATE product_files SET mime_type = 'text/html' WHERE storage_key LIKE '%pocket-guide-to-rust.pdf'"
    )
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();

    let (status, headers, body) = send(&state, get(&url)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, page);
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::CONTENT_SECURITY_POLICY], "sandbox");

    // One range is a few dozen bytes; a header of hundreds is no download manager.
    let ranges = (0..100).map(|i| format!("{i}-{i}")).collect::<Vec<_>>();
    let long = Request::get(&url)
        .header(header::RANGE, format!("bytes={}", ranges.join(",")))
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = send(&state, long).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
}

#[tokio::test]
async fn media_is_sandboxed_and_pages_carry_security_headers() {
    let (_dir, state, _) = shop().await;
    let (status, _, html) = send(&state, get("/p/lofi-sample-pack-vol-1")).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(html).unwrap();
    let media = html
        .split('"')
        .find(|s| s.starts_with("/media/"))
        .expect("the page links a cover or sample")
        .to_owned();
    let (status, headers, _) = send(&state, get(&media)).await;
    assert_eq!(status, StatusCode::OK, "{media}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::CONTENT_SECURITY_POLICY], "sandbox");

    let (_, headers, _) = send(&state, get("/")).await;
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(
        headers[header::REFERRER_POLICY],
        "strict-origin-when-cross-origin"
    );
    assert!(!headers.contains_key(header::CONTENT_SECURITY_POLICY));
}
