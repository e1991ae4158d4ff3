//! Per-user and per-address rate limits on what costs the bot's API quota or grows tables:
//! checkout and quotes (each checkout makes an order and a `createInvoiceLink` call), tips, and
//! studio writes, and the public license-key check (creators' software calls it; each call is a
//! write, and the limit keeps keys from being guessed). Keyed by the Telegram user when the
//! request carries valid init data, by the peer's address otherwise; answered `429` with
//! `Retry-After`. GCRA buckets from `governor`, one per kind of request, so a busy studio session
//! does not block a purchase.
//!
//! Which requests count is decided by method and path in [`classify`], in front of the router,
//! because the checkout and quote server functions share `/api/*` with the rest.

use crate::auth::Authenticator;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Requests allowed a minute (and at once, as a burst), per user or address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Checkouts, quotes and tips (`RATE_LIMIT_CHECKOUT_PER_MIN`).
    pub checkout_per_min: u32,
    /// Studio writes and refunds (`RATE_LIMIT_STUDIO_PER_MIN`).
    pub studio_per_min: u32,
    /// License-key checks (`RATE_LIMIT_VERIFY_PER_MIN`).
    pub verify_per_min: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            checkout_per_min: 20,
            studio_per_min: 120,
            verify_per_min: 60,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Checkout,
    Studio,
    Verify,
}

/// Who a request counts against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Caller {
    User(i64),
    Address(IpAddr),
    /// No init data and no peer address (in-process calls): one shared bucket.
    Unknown,
}

/// The limiters, shared by every request of the process.
#[derive(Clone)]
pub struct RateLimits {
    checkout: Arc<DefaultKeyedRateLimiter<Caller>>,
    studio: Arc<DefaultKeyedRateLimiter<Caller>>,
    verify: Arc<DefaultKeyedRateLimiter<Caller>>,
    auth: Authenticator,
}

impl RateLimits {
    pub fn new(config: RateLimitConfig, auth: Authenticator) -> Self {
        let per_minute = |n: u32| {
            let n = NonZeroU32::new(n.max(1)).expect("at least one");
            Arc::new(RateLimiter::keyed(Quota::per_minute(n)))
        };
        Self {
            checkout: per_minute(config.checkout_per_min),
            studio: per_minute(config.studio_per_min),
            verify: per_minute(config.verify_per_min),
            auth,
        }
    }

    /// Forgets callers whose buckets are full again, so the maps do not grow without bound.
    pub fn forget_idle(&self) {
        self.checkout.retain_recent();
        self.studio.retain_recent();
        self.verify.retain_recent();
    }
}

/// Paths of the server functions that make orders or quote prices.
fn checkout_functions() -> [&'static str; 2] {
    use leptos::server_fn::ServerFn;
    [
        <app::api::StartCheckout as ServerFn>::PATH,
        <app::api::QuotePrice as ServerFn>::PATH,
    ]
}

/// The public license-key check.
pub const VERIFY_PATH: &str = "/api/licenses/verify";

fn classify(method: &Method, path: &str) -> Option<Kind> {
    if *method == Method::POST && (path == "/api/tips" || checkout_functions().contains(&path)) {
        return Some(Kind::Checkout);
    }
    if path == VERIFY_PATH {
        return Some(Kind::Verify);
    }
    let writes = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if writes && (path.starts_with("/api/studio/") || path.ends_with("/refund")) {
        return Some(Kind::Studio);
    }
    None
}

/// The middleware: counts the request against its caller's bucket, or answers 429.
pub async fn limit(State(limits): State<RateLimits>, request: Request, next: Next) -> Response {
    let Some(kind) = classify(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let caller = match limits.auth.verified_user_id(request.headers()) {
        Some(id) => Caller::User(id),
        None => match request.extensions().get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(addr)) => Caller::Address(addr.ip()),
            None => Caller::Unknown,
        },
    };
    let limiter = match kind {
        Kind::Checkout => &limits.checkout,
        Kind::Studio => &limits.studio,
        Kind::Verify => &limits.verify,
    };
    match limiter.check_key(&caller) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            too_many(kind, wait)
        }
    }
}

fn too_many(kind: Kind, wait: Duration) -> Response {
    // Whole seconds, rounded up: `Retry-After: 0` would invite an immediate retry.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let what = match kind {
        Kind::Checkout => "checkout",
        Kind::Studio => "studio",
        Kind::Verify => "verify",
    };
    metrics::counter!(crate::metrics::RATE_LIMITED, "kind" => what).increment(1);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(serde_json::json!({
            "error": "rate_limited",
            "message": app::text!(errors.rate_limited, secs = secs)
                .in_locale(crate::language::current()),
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_costly_requests_are_counted() {
        let [checkout, quote] = checkout_functions();
        assert!(checkout.starts_with("/api/start_checkout"), "{checkout}");
        assert_eq!(classify(&Method::POST, checkout), Some(Kind::Checkout));
        assert_eq!(classify(&Method::POST, quote), Some(Kind::Checkout));
        assert_eq!(classify(&Method::POST, "/api/tips"), Some(Kind::Checkout));
        assert_eq!(
            classify(&Method::PUT, "/api/studio/products/3"),
            Some(Kind::Studio)
        );
        assert_eq!(
            classify(&Method::POST, "/api/orders/x/refund"),
            Some(Kind::Studio)
        );
        assert_eq!(
            classify(&Method::GET, "/api/licenses/verify"),
            Some(Kind::Verify)
        );
        assert_eq!(classify(&Method::GET, "/api/studio/products"), None);
        assert_eq!(classify(&Method::GET, "/api/tips/4"), None);
        assert_eq!(classify(&Method::GET, "/"), None);
        assert_eq!(classify(&Method::POST, "/telegram/webhook"), None);
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        for (wait, expected) in [(0, "1"), (200, "1"), (1000, "1"), (1500, "2")] {
            let response = too_many(Kind::Checkout, Duration::from_millis(wait));
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(response.headers()[header::RETRY_AFTER], expected, "{wait}");
        }
    }
}
