//! The dev preview's WebApp stand-in: signed in as the chosen demo user, only in dev preview.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use server::config::DEV_BOT_TOKEN;
use server::telegram::init_data::Validator;
use tower::ServiceExt;

async fn webapp_js(state: &server::http::AppState, cookie: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get("/dev/webapp.js");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let res = server::http::router(state.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn dev_config(js: &str) -> serde_json::Value {
    let json = js
        .strip_prefix("window.__STARFRONT_DEV__ = ")
        .and_then(|rest| rest.split_once(";\n"))
        .map(|(json, _)| json)
        .expect("the preview's configuration comes first");
    serde_json::from_str(json).unwrap()
}

#[tokio::test]
async fn the_stand_in_signs_in_the_chosen_demo_user() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[])).await.unwrap();
    let validator = Validator::new(Some(DEV_BOT_TOKEN), None);

    let (status, js) = webapp_js(&state, Some("theme=dark; starfront_dev_user=2002")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.contains("openInvoice"), "the WebApp stand-in follows");
    let dev = dev_config(&js);
    let data = validator
        .validate(dev["initData"].as_str().unwrap(), server::auth::unix_now())
        .unwrap();
    assert_eq!(data.user.id, 2002);
    assert_eq!(data.user.language_code.as_deref(), Some("ru"));
    // The emulator now knows the user, as Telegram knows whoever opens the app.
    let emulator = state.emulator.as_ref().unwrap();
    assert_eq!(emulator.balance(2002).await.unwrap(), 2500);

    // No cookie: the first demo buyer. "none": nobody, like a browser outside Telegram.
    let (_, js) = webapp_js(&state, None).await;
    assert_eq!(dev_config(&js)["user"]["id"], 2001);
    let (_, js) = webapp_js(&state, Some("starfront_dev_user=none")).await;
    assert_eq!(dev_config(&js)["initData"], "");
}

#[tokio::test]
async fn without_dev_preview_there_is_no_stand_in() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(&dir, &[("DEV_PREVIEW", "0"), ("BOT_TOKEN", DEV_BOT_TOKEN)]);
    let state = server::prepare(&config).await.unwrap();
    let (status, _) = webapp_js(&state, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let page = server::http::router(state.clone())
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let html = String::from_utf8_lossy(&page);
    assert!(html.contains("telegram-web-app.js"), "{html}");
    assert!(!html.contains("/dev/webapp.js"));
}
