//! The HTTP surface: Leptos pages and server functions, static assets, media and health.

use crate::auth::{AuthUser, Authenticator};
use crate::db::{self, Db};
use crate::downloads::{self, Signer};
use crate::error::ApiError;
use crate::storage::{Area, Storage};
use crate::telegram::updates::Inbox;
use app::api::{LibraryItem, ShopHandle, Viewer};
use axum::body::Bytes;
use axum::extract::{FromRef, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
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
    pub auth: Authenticator,
    pub storage: Storage,
    pub signer: Signer,
    /// Users with every right in the shop (`ADMIN_IDS`).
    pub admin_ids: Arc<[i64]>,
    /// Present when a bot is configured.
    pub telegram: Option<TelegramState>,
    /// The in-process Bot API emulator (dev preview), mounted at `/emulator`.
    #[cfg(feature = "dev-preview")]
    pub emulator: Option<telegram_emulator::Emulator>,
    /// The creator studio's limits (prices, uploads).
    pub studio: crate::studio::StudioConfig,
    /// Now for memberships' access; the dev preview's emulator advances it.
    pub clock: crate::clock::Clock,
}

/// What the webhook needs.
#[derive(Clone)]
pub struct TelegramState {
    pub inbox: Inbox,
    pub webhook_secret: String,
    pub bot: crate::telegram::bot::Bot,
}

impl AppState {
    pub fn new(
        leptos: LeptosOptions,
        db: Db,
        storage: Storage,
        auth: Authenticator,
        signer: Signer,
        shop: ShopHandle,
    ) -> Self {
        Self {
            leptos,
            db,
            shop,
            auth,
            storage,
            signer,
            admin_ids: Arc::new([]),
            telegram: None,
            #[cfg(feature = "dev-preview")]
            emulator: None,
            studio: crate::studio::StudioConfig::default(),
            clock: crate::clock::Clock::default(),
        }
    }

    /// Whether the browser dev preview runs; never in a build without the `dev-preview` feature.
    pub fn dev_preview(&self) -> bool {
        #[cfg(feature = "dev-preview")]
        return self.emulator.is_some();
        #[cfg(not(feature = "dev-preview"))]
        false
    }
}

/// Leptos' routes, generated once per process: generating them renders the app in a special
/// mode that must not run twice at the same time (concurrent calls can hang).
fn leptos_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = leptos_routes();
    let shop = state.shop.clone();
    let leptos = state.leptos.clone();
    let dev_preview = app::DevPreview(state.dev_preview());
    let pkg_dir = PathBuf::from(&*leptos.site_root).join(&*leptos.site_pkg_dir);

    // The bundle is rebuilt under the same names, so browsers must revalidate it. scripts/build.sh
    // writes .br and .gz beside each file: phones get the wasm at a third of its size, and the
    // server compresses nothing per request.
    let pkg = Router::new()
        .fallback_service(
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));
    // Public files on this disk are served by tower-http; from a bucket, by `media::public`.
    let media = match state.storage.local_public_dir() {
        Some(dir) => Router::new().fallback_service(ServeDir::new(dir)),
        None => Router::new().fallback(crate::media::public),
    };
    let media = media
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ))
        // Creators upload samples: browsers must take the type the server names, never guess one.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));

    #[cfg(feature = "dev-preview")]
    let emulator = state.emulator.clone();
    let router = Router::new();
    // Answers 404 unless the dev preview runs.
    #[cfg(feature = "dev-preview")]
    let router = router.route("/dev/webapp.js", get(crate::dev_preview::webapp_js));
    let router = router
        .route("/healthz", get(healthz))
        .route("/api/me", get(me))
        .route("/api/library", get(library))
        .route("/api/orders/{order_id}/refund", post(refund))
        .route("/download/{token}", get(download))
        .route("/telegram/webhook", post(webhook))
        .merge(crate::studio::routes::router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(shop.clone());
                provide_context(dev_preview);
            },
            move || app::shell(leptos.clone()),
        )
        .nest("/pkg", pkg)
        .nest("/media", media)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(move || provide_context(dev_preview), app::shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    #[cfg(feature = "dev-preview")]
    if let Some(emulator) = emulator {
        return router.nest("/emulator", emulator.router());
    }
    router
}

/// The authenticated user, for clients and checks.
async fn me(AuthUser(data): AuthUser) -> Json<Viewer> {
    Json(Viewer::from(data.user))
}

/// The caller's purchases with fresh download links.
async fn library(
    State(state): State<AppState>,
    AuthUser(data): AuthUser,
) -> Result<Json<Vec<LibraryItem>>, ApiError> {
    Ok(Json(
        downloads::library(&state.db, &state.signer, data.user.id, state.clock.now()).await?,
    ))
}

/// Refunds an order: its product's creator or an admin may.
async fn refund(
    State(state): State<AppState>,
    AuthUser(data): AuthUser,
    Path(order_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let bot = &state.telegram.as_ref().ok_or(ApiError::NotFound)?.bot;
    let actor = crate::payments::Actor {
        user_id: data.user.id,
        is_admin: state.admin_ids.contains(&data.user.id),
    };
    let outcome = crate::payments::refund(&state.db, bot, order_id.as_str(), actor).await?;
    let status = match outcome {
        crate::payments::RefundOutcome::Refunded => "refunded",
        crate::payments::RefundOutcome::AlreadyRefunded => "already_refunded",
    };
    Ok(Json(serde_json::json!({ "status": status })))
}

/// Read size for paid files (see `download`).
const DOWNLOAD_CHUNK: usize = 1 << 20;

/// A paid file by signed link: re-checked against the entitlement, served with byte ranges
/// (resumable on phones), as an attachment Telegram's `downloadFile` accepts, and logged.
async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let grant = state.signer.verify(&token, crate::auth::unix_now())?;
    let file = downloads::entitled_file(&state.db, &grant, state.clock.now()).await?;
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(response) =
        crate::media::redirect_to_store(&state, &grant, &file, range.as_deref()).await?
    {
        return Ok(response);
    }
    let path = state
        .storage
        .local_path(Area::Private, &file.storage_key)
        .ok_or(ApiError::NotFound)?;
    // 1 MiB reads instead of tower-http's 64 KiB: each read is a hop to tokio's blocking pool,
    // and for files of hundreds of MiB those hops, not the disk, bounded the throughput.
    let serve = tower_http::services::ServeFile::new(path).with_buf_chunk_size(DOWNLOAD_CHUNK);
    let served = tower::ServiceExt::oneshot(serve, request)
        .await
        .map_err(|err| ApiError::Internal(Box::new(err)))?;
    let mut response = served.into_response();
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Err(ApiError::Internal(
            format!("stored file {} is missing", file.storage_key).into(),
        ));
    }
    let headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(&file.mime_type) {
        headers.insert(header::CONTENT_TYPE, mime);
    }
    if let Ok(disposition) = HeaderValue::from_str(&content_disposition(&file.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    // Telegram Web fetches the file for `WebApp.downloadFile` from its own origin.
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("https://web.telegram.org"),
    );
    if status.is_success() {
        let bytes = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if let Err(err) = downloads::log(
            &state.db,
            &grant,
            file.product_id,
            status.as_u16(),
            range.as_deref(),
            bytes,
        )
        .await
        {
            tracing::error!(error = %err, "cannot log a download");
        }
    }
    Ok(response)
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987).
pub(crate) fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
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
