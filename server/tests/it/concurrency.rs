//! Routers built and pages rendered at the same time, as parallel tests and busy servers do.

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::time::Duration;
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_routers_and_renders_finish() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(&common::config(&dir, &[("DEV_PREVIEW", "0")]))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        // A fresh router per request: building one used to hang when done concurrently.
        let app = server::http::router(state.clone());
        let (uri, status) = if i % 2 == 0 {
            ("/", StatusCode::OK)
        } else {
            ("/p/no-such-product", StatusCode::NOT_FOUND)
        };
        tasks.push(tokio::spawn(async move {
            let res = app
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(res.status(), status, "{uri}");
            res.into_body().collect().await.unwrap();
        }));
    }
    let all = async {
        for task in tasks {
            task.await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("every request finishes");
}
