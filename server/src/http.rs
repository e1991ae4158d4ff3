//! The HTTP surface: Leptos pages and server functions, static assets, media and health.

use crate::auth::{AuthUser, Authenticator};
use crate::db::{self, Db};
use crate::shop::ShopBackend;
use crate::telegram::updates::Inbox;
use app::api::{ShopHandle, Viewer};
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::path::PathBuf;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos: LeptosOptions,
    pub db: Db,
    pub shop: ShopHandle,
    /// Served under `/media`: covers and free samples.
    pub public_media: PathBuf,
    pub auth: Authenticator,
    /// Present when a bot is configured.
    pub telegram: Option<TelegramState>,
    /// The in-process Bot API emulator (dev preview), mounted at `/emulator`.
    pub emulator: Option<crate::telegram::emulator::Emulator>,
}

/// What the webhook needs.
#[derive(Clone)]
pub struct TelegramState {
    pub inbox: Inbox,
    pub webhook_secret: String,
    pub bot: crate::telegram::bot::Bot,
}

impl AppState {
    pub fn new(leptos: LeptosOptions, db: Db, public_media: PathBuf, auth: Authenticator) -> Self {
        let shop: ShopHandle = Arc::new(ShopBackend::new(db.clone(), auth.clone()));
        Self {
            leptos,
            db,
            shop,
            public_media,
            auth,
            telegram: None,
            emulator: None,
        }
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let shop = state.shop.clone();
    let leptos = state.leptos.clone();
    let pkg_dir = PathBuf::from(&*leptos.site_root).join(&*leptos.site_pkg_dir);

    // The bundle is rebuilt under the same names, so browsers must revalidate it.
    let pkg = Router::new()
        .fallback_service(ServeDir::new(pkg_dir))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));
    let media = Router::new()
        .fallback_service(ServeDir::new(&state.public_media))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ));

    let emulator = state.emulator.clone();
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/api/me", get(me))
        .route("/telegram/webhook", post(webhook))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(shop.clone()),
            move || app::shell(leptos.clone()),
        )
        .nest("/pkg", pkg)
        .nest("/media", media)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    match emulator {
        Some(emulator) => router.nest("/emulator", emulator.router()),
        None => router,
    }
}

/// The authenticated user, for clients and checks.
async fn me(AuthUser(data): AuthUser) -> Json<Viewer> {
    Json(Viewer::from(data.user))
}

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Telegram's webhook. 401 without the secret; 200 once the update is handled or safely recorded
/// (and for a body that is no update, so it cannot block the queue); 500 only when it could not be
/// recorded, so that Telegram delivers it again.
async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some(telegram) = state.telegram else {
        return StatusCode::NOT_FOUND;
    };
    let given = headers
        .get(SECRET_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if !bool::from(given.ct_eq(telegram.webhook_secret.as_bytes())) {
        tracing::warn!("webhook call with a wrong or missing secret token");
        return StatusCode::UNAUTHORIZED;
    }
    match telegram.inbox.ingest_json(&body).await {
        Ok(outcome) => {
            tracing::debug!(?outcome, "webhook update");
            StatusCode::OK
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot record a webhook update");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// 200 while the database answers, 503 otherwise, so a load balancer can take a replica out.
async fn healthz(State(db): State<Db>) -> impl IntoResponse {
    match db::ping(&db).await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))),
        Err(err) => {
            tracing::error!(error = %err, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    serde_json::json!({ "status": "unavailable", "error": "database unreachable" }),
                ),
            )
        }
    }
}
