//! A minimal Bot API for the server under test: it timestamps every `answerPreCheckoutQuery`
//! (so the load generator can measure update-in to answer-out), counts delivered documents, and
//! answers everything else with a plausible success. Long polls simply wait.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct Stub {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// pre_checkout_query_id -> (when the answer arrived, whether it was ok).
    answers: Mutex<HashMap<String, (Instant, bool)>>,
    documents: AtomicU64,
    messages: AtomicU64,
}

impl Stub {
    /// Serves the stub on a free loopback port; returns its base URL.
    pub async fn start(&self) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/{bot}/{method}", post(call))
            .layer(DefaultBodyLimit::disable())
            .with_state(self.clone());
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("bench: the Bot API stub stopped: {err}");
            }
        });
        Ok(format!("http://{addr}"))
    }

    pub fn answer(&self, query_id: &str) -> Option<(Instant, bool)> {
        self.inner
            .answers
            .lock()
            .ok()
            .and_then(|a| a.get(query_id).copied())
    }

    pub fn documents(&self) -> u64 {
        self.inner.documents.load(Ordering::Relaxed)
    }
}

fn ok(result: Value) -> Json<Value> {
    Json(json!({ "ok": true, "result": result }))
}

fn sent_message(extra: Value) -> Value {
    let mut message = json!({
        "message_id": 1,
        "date": clock::unix_now(),
        "chat": { "id": 1, "type": "private", "first_name": "Buyer" },
        "from": { "id": 7_000_000_099_i64, "is_bot": true, "first_name": "Bench bot" },
    });
    if let (Some(message), Some(extra)) = (message.as_object_mut(), extra.as_object()) {
        message.extend(extra.clone());
    }
    message
}

async fn call(
    State(stub): State<Stub>,
    Path((_bot, method)): Path<(String, String)>,
    body: Bytes,
) -> Json<Value> {
    match method.as_str() {
        "answerPreCheckoutQuery" => {
            let at = Instant::now();
            let params: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let id = params["pre_checkout_query_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let is_ok = params["ok"].as_bool().unwrap_or(false);
            if let Ok(mut answers) = stub.inner.answers.lock() {
                answers.insert(id, (at, is_ok));
            }
            ok(json!(true))
        }
        "sendDocument" => {
            stub.inner.documents.fetch_add(1, Ordering::Relaxed);
            ok(sent_message(json!({
                "document": { "file_id": "bench-file", "file_unique_id": "bench-unique" }
            })))
        }
        "sendMessage" => {
            stub.inner.messages.fetch_add(1, Ordering::Relaxed);
            ok(sent_message(json!({ "text": "ok" })))
        }
        "getUpdates" => {
            // A long poll that never has anything: updates come through the webhook.
            tokio::time::sleep(Duration::from_secs(20)).await;
            ok(json!([]))
        }
        "getStarTransactions" => ok(json!({ "transactions": [] })),
        _ => ok(json!(true)),
    }
}
