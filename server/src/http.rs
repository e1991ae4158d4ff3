//! The HTTP surface: Leptos pages and server functions, static assets, media and health.

use crate::db::{self, Db};
use crate::shop::ShopBackend;
use app::api::ShopHandle;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::path::PathBuf;
use std::sync::Arc;
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
}

impl AppState {
    pub fn new(leptos: LeptosOptions, db: Db, public_media: PathBuf) -> Self {
        let shop: ShopHandle = Arc::new(ShopBackend::new(db.clone()));
        Self {
            leptos,
            db,
            shop,
            public_media,
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

    Router::new()
        .route("/healthz", get(healthz))
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
        .with_state(state)
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
