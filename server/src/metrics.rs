//! Prometheus metrics at `GET /metrics`: what this process measured (update handling time, the
//! pre-checkout answer's latency, webhook errors, rate-limited requests) and, read from the
//! database at each scrape so that every replica reports the same totals, the money side
//! (payments applied, refunds, the delivery backlog).
//!
//! `/metrics` answers only on loopback, or to `Authorization: Bearer <METRICS_TOKEN>` when that
//! is set: the totals are the shop's sales.

use crate::db::Db;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;
use subtle::ConstantTimeEq;

pub const PRE_CHECKOUT_SECONDS: &str = "starfront_pre_checkout_seconds";
pub const UPDATE_SECONDS: &str = "starfront_update_seconds";
pub const WEBHOOK_ERRORS: &str = "starfront_webhook_errors_total";
pub const RATE_LIMITED: &str = "starfront_rate_limited_total";

/// Telegram waits 10 s for a pre-checkout answer; the buckets resolve the fast end.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process's recorder, installed on first use (one per process, shared by every shop a
/// test starts).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            .expect("the buckets are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder (a test's) may already be installed: this one still renders what
        // it records through `handle`, and the facade macros go to the installed one.
        if let Err(err) = metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %err, "a metrics recorder was already installed");
        }
        handle
    })
}

/// Drains histogram samples into their buckets now and then, so memory stays flat between
/// scrapes.
pub async fn upkeep_loop() {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        handle().run_upkeep();
    }
}

/// Who may read `/metrics`.
#[derive(Clone, Debug, Default)]
pub struct MetricsAccess {
    pub token: Option<String>,
}

pub async fn render(
    State(access): State<MetricsAccess>,
    State(db): State<Db>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
) -> Response {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>();
    let allowed = match &access.token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.as_bytes()))),
        None => peer.is_some_and(|ConnectInfo(addr)| addr.ip().is_loopback()),
    };
    if !allowed {
        return StatusCode::NOT_FOUND.into_response();
    }
    let handle = handle();
    handle.run_upkeep();
    let mut body = handle.render();
    match totals(&db).await {
        Ok(totals) => body.push_str(&totals),
        Err(err) => tracing::warn!(error = %err, "cannot read totals for /metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The database's totals in Prometheus' text format.
async fn totals(db: &Db) -> Result<String, sqlx::Error> {
    let (paid, refunded): (i64, i64) = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT
             CAST(COALESCE(SUM(CASE WHEN paid_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT),
             CAST(COALESCE(SUM(CASE WHEN status = 'refunded' THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM orders WHERE status IN ('paid', 'refunded')"
    )
    .fetch_one(pool)
    .await)?;
    let (backlog,): (i64,) = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"
    )
    .fetch_one(pool)
    .await)?;
    let mut out = String::new();
    for (name, help, kind, value) in [
        (
            "starfront_payments_applied",
            "Orders ever paid (refunded ones included), from the database.",
            "gauge",
            paid,
        ),
        (
            "starfront_refunds",
            "Orders refunded, from the database.",
            "gauge",
            refunded,
        ),
        (
            "starfront_delivery_backlog",
            "Deliveries waiting to be sent, from the database.",
            "gauge",
            backlog,
        ),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    Ok(out)
}
