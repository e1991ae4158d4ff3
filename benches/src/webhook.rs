//! Telegram's side of payments, played against the server's webhook: `pre_checkout_query` at a
//! fixed offered rate (open loop: a slow answer does not slow the arrivals, as with Telegram),
//! and `successful_payment` as fast as the server takes them.

use crate::seed::PendingOrder;
use crate::stub::Stub;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The webhook as Telegram calls it.
#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
    pub http: reqwest::Client,
    next_update_id: Arc<AtomicU64>,
}

impl Webhook {
    pub fn new(url: String, secret: String) -> Self {
        Self {
            url,
            secret,
            http: reqwest::Client::new(),
            next_update_id: Arc::new(AtomicU64::new(1_000_000)),
        }
    }

    fn update_id(&self) -> u64 {
        self.next_update_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Posts an update; returns the method call the webhook answered with, if any.
    async fn post(&self, update: &Value) -> Result<Option<Value>, String> {
        let res = self
            .http
            .post(&self.url)
            .header("X-Telegram-Bot-Api-Secret-Token", &self.secret)
            .json(update)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !res.status().is_success() {
            return Err(format!("webhook answered {}", res.status()));
        }
        let body = res.bytes().await.map_err(|e| e.to_string())?;
        Ok(serde_json::from_slice::<Value>(&body)
            .ok()
            .filter(|call| call.get("method").is_some()))
    }
}

fn user(id: i64) -> Value {
    json!({ "id": id, "is_bot": false, "first_name": "Buyer", "language_code": "en" })
}

#[derive(Debug, Default)]
pub struct PreCheckoutReport {
    pub offered_rate: f64,
    pub sent: usize,
    pub answered_ok: usize,
    pub answered_no: usize,
    pub unanswered: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// Offers one `pre_checkout_query` per pending order at `rate` per second, and measures from
/// sending the update to the server until its answer reaches Telegram: the webhook's reply (an
/// `answerPreCheckoutQuery` call as its body), or else the call the server makes to the Bot API
/// stub.
pub async fn pre_checkout(
    hook: &Webhook,
    stub: &Stub,
    orders: &[PendingOrder],
    rate: u32,
) -> PreCheckoutReport {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(orders.len());
    for order in orders {
        tick.tick().await;
        let hook = hook.clone();
        let update_id = hook.update_id();
        let query_id = format!("bench-pcq-{update_id}");
        let update = json!({
            "update_id": update_id,
            "pre_checkout_query": {
                "id": query_id,
                "from": user(order.user_id),
                "currency": "XTR",
                "total_amount": order.amount,
                "invoice_payload": order.public_id,
            }
        });
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let posted = hook.post(&update).await;
            (query_id, sent, posted, Instant::now())
        }));
    }
    let offered_rate = orders.len() as f64 / started.elapsed().as_secs_f64();
    let mut sent = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(result) = task.await {
            sent.push(result);
        }
    }
    let mut report = PreCheckoutReport {
        offered_rate,
        sent: sent.len(),
        ..Default::default()
    };
    let mut latencies = Vec::with_capacity(sent.len());
    for (query_id, at, posted, replied_at) in &sent {
        let in_reply = match posted {
            Ok(Some(call))
                if call["method"] == "answerPreCheckoutQuery"
                    && call["pre_checkout_query_id"] == query_id.as_str() =>
            {
                Some((*replied_at, call["ok"] == true))
            }
            _ => None,
        };
        match (posted, in_reply.or_else(|| stub.answer(query_id))) {
            (Ok(_), Some((answered, ok))) => {
                latencies.push(answered.saturating_duration_since(*at));
                if ok {
                    report.answered_ok += 1;
                } else {
                    report.answered_no += 1;
                }
            }
            _ => report.unanswered += 1,
        }
    }
    latencies.sort_unstable();
    report.p50 = percentile(&latencies, 0.50);
    report.p99 = percentile(&latencies, 0.99);
    report.max = latencies.last().copied().unwrap_or_default();
    report
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

#[derive(Debug, Default)]
pub struct PaymentsReport {
    pub sent: usize,
    pub failed: usize,
    pub elapsed: Duration,
}

/// Sends one `successful_payment` per order from `concurrency` connections, each waiting for
/// the webhook's answer (which comes once the update is recorded; the payment is applied in the
/// background).
pub async fn payments(
    hook: &Webhook,
    orders: Arc<Vec<PendingOrder>>,
    concurrency: usize,
) -> PaymentsReport {
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (hook, orders, next, failed) =
            (hook.clone(), orders.clone(), next.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(order) = orders.get(i) else { break };
                let update_id = hook.update_id();
                let update = json!({
                    "update_id": update_id,
                    "message": {
                        "message_id": update_id,
                        "date": clock::unix_now(),
                        "chat": { "id": order.user_id, "type": "private", "first_name": "Buyer" },
                        "from": user(order.user_id),
                        "successful_payment": {
                            "currency": "XTR",
                            "total_amount": order.amount,
                            "invoice_payload": order.public_id,
                            "telegram_payment_charge_id": format!("bench-charge-{i}"),
                            "provider_payment_charge_id": "",
                        }
                    }
                });
                if let Err(err) = hook.post(&update).await {
                    if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("bench: a successful_payment failed: {err}");
                    }
                }
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    PaymentsReport {
        sent: orders.len(),
        failed: failed.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}
