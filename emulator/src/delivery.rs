//! Webhook delivery: one worker POSTs queued updates to the webhook (strictly in order, or up to
//! `webhook_connections` at once as Telegram does) and retries each until the bot answers 2xx, backing off so a dead endpoint costs little. An
//! update leaves the queue only after a successful delivery, which is what makes emulated drops
//! eventually delivered, as with Telegram.

use std::{
    collections::HashSet,
    sync::{atomic::Ordering, Arc, Weak},
    time::Duration,
};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::{ids::unix_now, Emulator, Inner, State};

pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(3);
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub url: String,
    pub secret_token: Option<String>,
    pub max_connections: i64,
}

/// What happened to webhook deliveries so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryStats {
    pub delivered: u64,
    pub failed: u64,
    /// Upcoming delivery attempts that will be dropped on purpose.
    pub pending_drops: u32,
    /// Updates the webhook gave up on after `webhook_max_attempts` failed deliveries.
    pub given_up: u64,
    pub last_error_date: Option<i64>,
    pub last_error_message: Option<String>,
    /// Method calls the bot made in its webhook answers (Bot API: "you can perform a request to
    /// the Bot API while sending an answer to the webhook").
    pub replied_calls: u64,
}

struct Job {
    update_id: i64,
    body: Value,
    url: String,
    secret_token: Option<String>,
    dropped: bool,
}

enum Attempt {
    Delivered,
    Failed(String),
}

impl Emulator {
    /// Starts the delivery worker unless it runs already. It needs a Tokio runtime, which is
    /// only guaranteed once a webhook is actually set, hence the lazy start.
    pub(super) fn ensure_delivery_worker(&self) {
        let first = self
            .inner
            .worker_started
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if first {
            let weak = Arc::downgrade(&self.inner);
            let changes = self.inner.changes.subscribe();
            tokio::spawn(run_worker(weak, changes));
        }
    }

    /// Makes the next `count` delivery attempts fail without sending anything.
    pub async fn drop_next_webhook_deliveries(&self, count: u32) -> DeliveryStats {
        let mut state = self.state().await;
        state.delivery.pending_drops = state.delivery.pending_drops.saturating_add(count);
        state.delivery.clone()
    }

    pub async fn delivery_stats(&self) -> DeliveryStats {
        self.state().await.delivery.clone()
    }
}

/// Holds only a weak reference between attempts so a dropped emulator stops its worker. Up to
/// `webhook_connections` deliveries run at once, each a different queued update; an update leaves
/// the queue when its delivery succeeded. With one connection this is strictly in order.
async fn run_worker(emulator: Weak<Inner>, mut changes: watch::Receiver<u64>) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(i64, Attempt)>();
    let mut in_flight: HashSet<i64> = HashSet::new();
    let mut backoff = FIRST_BACKOFF;
    loop {
        let Some(inner) = emulator.upgrade() else {
            return;
        };
        changes.borrow_and_update();
        let connections = inner.config.webhook_connections.max(1);
        while in_flight.len() < connections {
            let Some(job) = next_job(&inner, &in_flight).await else {
                break;
            };
            in_flight.insert(job.update_id);
            let emulator = Emulator {
                inner: inner.clone(),
            };
            let done = done_tx.clone();
            tokio::spawn(async move {
                let attempt = if job.dropped {
                    Attempt::Failed("Connection timed out".into())
                } else {
                    send(&emulator, &job).await
                };
                let _ = done.send((job.update_id, attempt));
            });
        }
        drop(inner);
        let idle = in_flight.is_empty();
        tokio::select! {
            Some((update_id, attempt)) = done_rx.recv() => {
                in_flight.remove(&update_id);
                let Some(inner) = emulator.upgrade() else {
                    return;
                };
                let mut state = inner.state.lock().await;
                match attempt {
                    Attempt::Delivered => {
                        delivered(&mut state, update_id);
                        backoff = FIRST_BACKOFF;
                    }
                    Attempt::Failed(message) => {
                        record_failure(&inner, &mut state, update_id, message);
                        drop(state);
                        drop(inner);
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        // Deliveries that failed alongside this one met the same outage: they
                        // count, but do not each add a wait, or a bot down for a moment would
                        // be left alone for seconds per connection that was in flight.
                        let Some(inner) = emulator.upgrade() else {
                            return;
                        };
                        let mut state = inner.state.lock().await;
                        while let Ok((update_id, attempt)) = done_rx.try_recv() {
                            in_flight.remove(&update_id);
                            match attempt {
                                Attempt::Delivered => delivered(&mut state, update_id),
                                Attempt::Failed(message) => {
                                    record_failure(&inner, &mut state, update_id, message)
                                }
                            }
                        }
                    }
                }
            }
            changed = changes.changed(), if in_flight.len() < connections => {
                if changed.is_err() && idle {
                    return;
                }
            }
        }
    }
}

fn delivered(state: &mut State, update_id: i64) {
    state.delivery.delivered += 1;
    if let Some(at) = state.updates.iter().position(|u| u.id == update_id) {
        state.updates.remove(at);
    }
}

/// Counts a failed delivery; the update is given up after `webhook_max_attempts` of them.
fn record_failure(inner: &Inner, state: &mut State, update_id: i64, message: String) {
    state.delivery.failed += 1;
    let max = inner.config.webhook_max_attempts.max(1);
    if let Some(at) = state.updates.iter().position(|u| u.id == update_id) {
        let update = &mut state.updates[at];
        update.failed_deliveries += 1;
        if update.failed_deliveries >= max {
            state.updates.remove(at);
            state.delivery.given_up += 1;
        }
    }
    state.delivery.last_error_date = Some(unix_now());
    state.delivery.last_error_message = Some(message);
}

impl Emulator {
    /// Makes the method call a webhook answered with, as if the bot had called it.
    async fn call_from_reply(&self, method: &str, fields: Value) {
        self.state().await.delivery.replied_calls += 1;
        let params = super::params::Params::from_json(fields);
        // Telegram does not tell the bot how such a call went, so neither does the emulator.
        let _ = self.dispatch(&method.to_ascii_lowercase(), &params).await;
    }
}

/// The oldest queued update not being delivered already, if a webhook is set.
async fn next_job(inner: &Inner, in_flight: &HashSet<i64>) -> Option<Job> {
    let mut state = inner.state.lock().await;
    let webhook = state.webhook.clone()?;
    state.drop_expired();
    state.discard_disallowed();
    let update = state
        .updates
        .iter()
        .find(|u| !in_flight.contains(&u.id))?
        .clone();
    let dropped = state.delivery.pending_drops > 0;
    if dropped {
        state.delivery.pending_drops -= 1;
    }
    Some(Job {
        update_id: update.id,
        body: update.body,
        url: webhook.url,
        secret_token: webhook.secret_token,
        dropped,
    })
}

async fn send(emulator: &Emulator, job: &Job) -> Attempt {
    let mut request = emulator.inner.http.post(&job.url).json(&job.body);
    if let Some(secret) = &job.secret_token {
        request = request.header(SECRET_HEADER, secret);
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => {
            // A webhook may answer with one method call as its JSON body; Telegram makes that
            // call and, as here, tells the bot nothing of its result.
            let is_json = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            if is_json {
                if let Ok(Value::Object(mut call)) = response.json::<Value>().await {
                    if let Some(Value::String(method)) = call.remove("method") {
                        emulator.call_from_reply(&method, Value::Object(call)).await;
                    }
                }
            }
            Attempt::Delivered
        }
        Ok(response) => Attempt::Failed(format!(
            "Wrong response from the webhook: {}",
            response.status()
        )),
        Err(err) if err.is_timeout() => Attempt::Failed("Connection timed out".into()),
        Err(_) => Attempt::Failed("Connection refused".into()),
    }
}
