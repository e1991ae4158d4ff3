//! The HTTP surface: Leptos pages and server functions, static assets, media and health.

use crate::auth::AuthUser;
use crate::db::{self, Db};
use crate::downloads;
use crate::error::ApiError;
use crate::storage::Area;
use app::api::{LibraryItem, Viewer};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::path::PathBuf;
use subtle::ConstantTimeEq;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

mod audio;
mod caller;
mod discounts;
mod errors;
mod licenses;
pub mod media;
mod promotion;
mod reader;
mod reviews;
pub mod studio;
mod support;
mod videos;

pub use crate::state::{AppState, TelegramState};

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
    let assets = state.assets.clone();
    let fallback_assets = assets.clone();
    let pkg_dir = PathBuf::from(&*leptos.site_root).join(&*leptos.site_pkg_dir);

    let pkg = crate::assets::router(pkg_dir);
    // Public files on this disk are served by tower-http; from a bucket, by `media::public`.
    let media = match state.storage.local_public_dir() {
        Some(dir) => Router::new().fallback_service(ServeDir::new(dir)),
        None => Router::new().fallback(media::public),
    };
    let media = media
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ))
        // Creators upload samples: see FILE_HEADERS.
        .layer(SetResponseHeaderLayer::overriding(
            FILE_HEADERS[0].0.clone(),
            HeaderValue::from_static(FILE_HEADERS[0].1),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            FILE_HEADERS[1].0.clone(),
            HeaderValue::from_static(FILE_HEADERS[1].1),
        ));

    // The reader's frame and the viewers it loads (scripts/build.sh copies them there, with a
    // `.br`/`.gz` beside each: the PDF.js worker alone is a megabyte raw). Not named by content,
    // so browsers ask again (`no-cache`) and get a 304 while they are current.
    let reader = Router::new()
        .fallback_service(
            ServeDir::new(PathBuf::from(&*leptos.site_root).join("reader"))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(READER_CSP),
        ));

    #[cfg(feature = "dev-preview")]
    let emulator = state.emulator.clone();
    let turns = state.turns.clone();
    let page_cache = crate::page_cache::CacheState {
        db: state.db.clone(),
        cache: state.page_cache.clone(),
    };
    let router = Router::new();
    // Answers 404 unless the dev preview runs.
    #[cfg(feature = "dev-preview")]
    let router = router
        .route("/dev/webapp.js", get(crate::dev_preview::webapp_js))
        .route("/dev/boot", get(crate::dev_preview::boot));
    let router = router
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::render))
        .route("/api/me", get(me))
        .route("/api/library", get(library))
        .route("/api/orders/{order_id}/refund", post(refund))
        .route("/download/{token}", get(download))
        .route("/telegram/webhook", post(webhook))
        .merge(audio::router())
        .merge(studio::router())
        .merge(discounts::router())
        .merge(promotion::router())
        .merge(reviews::router())
        .merge(reader::router())
        .merge(licenses::router())
        .merge(support::router())
        .merge(videos::router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(shop.clone());
                provide_context(dev_preview);
                provide_context(assets.clone());
            },
            move || app::shell(leptos.clone()),
        )
        .nest("/pkg", pkg)
        .nest("/media", media)
        .nest("/reader", reader)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || {
                provide_context(dev_preview);
                provide_context(fallback_assets.clone());
            },
            app::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            page_cache,
            crate::page_cache::serve,
        ))
        .layer(axum::middleware::from_fn(bound_range))
        .layer(axum::middleware::from_fn_with_state(
            state.rate_limits.clone(),
            crate::rate_limit::limit,
        ))
        // Outermost: whatever answers below, a refusal or an error, knows the request's language.
        .layer(axum::middleware::from_fn(crate::language::layer))
        .with_state(state);
    // Outside every layer of the shop's own (a cached page waits its turn too, briefly), and
    // inside the dev preview's emulator nest: the emulator plays Telegram, whose long polls must
    // not hold the shop's turns.
    let router = router.layer(axum::middleware::from_fn_with_state(turns, take_turns));
    let router = security_headers(router).layer(TraceLayer::new_for_http().make_span_with(
        |request: &axum::http::Request<_>| {
            // Download and stream links carry their signed token in the path: keep it out of the
            // logs.
            let path = request.uri().path();
            let path = if path.starts_with("/download/") {
                "/download/…"
            } else if path.starts_with("/stream/") {
                "/stream/…"
            } else {
                path
            };
            tracing::info_span!("request", method = %request.method(), path)
        },
    ));
    #[cfg(feature = "dev-preview")]
    if let Some(emulator) = emulator {
        return router.nest("/emulator", emulator.router());
    }
    router
}

/// Headers every response carries unless its handler set them (files set stricter ones). No
/// `X-Frame-Options`: the Mini App runs in Telegram Web's iframe.
fn security_headers(router: Router) -> Router {
    [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ]
    .into_iter()
    .fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

/// Refuses an over-long `Range` header (416) before any file service parses it.
async fn bound_range(request: Request, next: axum::middleware::Next) -> Response {
    match request.headers().get(header::RANGE) {
        Some(range) if range.len() > MAX_RANGE_HEADER_BYTES => {
            StatusCode::RANGE_NOT_SATISFIABLE.into_response()
        }
        _ => next.run(request).await,
    }
}

/// An upload streams for as long as the file takes: it is bounded by its size, not by time or
/// by a turn.
fn is_streaming_upload(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// Requests someone is waiting on against a clock: Telegram's webhook (a buyer's payment sheet
/// cancels after 10 s without the pre-checkout answer) and a load balancer's health check.
fn is_urgent(request: &Request) -> bool {
    matches!(
        request.uri().path(),
        "/telegram/webhook" | "/healthz" | "/metrics"
    )
}

/// Lets at most `slots` requests be worked on at once; the rest wait for a turn, which costs no
/// CPU, instead of crowding the runtime's queue. Urgent requests ([`is_urgent`]) never wait, so
/// under any load of pages a pre-checkout is answered in about its own time.
pub async fn take_turns(
    State(slots): State<std::sync::Arc<tokio::sync::Semaphore>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    if is_urgent(&request) || is_streaming_upload(&request) {
        return next.run(request).await;
    }
    // The semaphore is never closed.
    let _turn = slots.acquire().await;
    next.run(request).await
}

/// Answers 408 when a request takes longer than `limit` (its handler is dropped). Uploads stream
/// for as long as the file takes and are bounded by their size instead.
pub async fn request_timeout(
    State(limit): State<std::time::Duration>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    if is_streaming_upload(&request) {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            (
                StatusCode::REQUEST_TIMEOUT,
                Json(serde_json::json!({
                    "error": "timeout",
                    "message": format!("the request took longer than {} s", limit.as_secs()),
                })),
            )
                .into_response()
        }
    }
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
        crate::library::library(&state.db, &state.signer, data.user.id, state.clock.now()).await?,
    ))
}

/// Refunds an order: its product's creator or an admin may.
async fn refund(
    State(state): State<AppState>,
    AuthUser(data): AuthUser,
    Path(order_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let bot = &state.telegram.as_ref().ok_or(ApiError::not_found())?.bot;
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

/// On every creator file (downloads and `/media`): browsers take the type the server names and
/// never guess one, and whatever a file holds runs in a sandbox without the shop's origin.
const FILE_HEADERS: [(header::HeaderName, &str); 2] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::CONTENT_SECURITY_POLICY, "sandbox"),
];

/// The reader's frame (`/reader/frame.html`) shows creators' EPUBs, whose pages foliate-js
/// renders from `blob:` URLs of this origin in iframes it must let run scripts (a WebKit bug):
/// those pages take this policy from the frame, so no script in a book runs (`script-src` has
/// no `'unsafe-inline'` and no `blob:`), and only the viewers' own files do. PDF.js runs its
/// worker from here and may compile its image decoders to wasm; books bring their styles, fonts
/// and images as `blob:` and `data:` URLs.
pub const READER_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    worker-src 'self'; style-src 'self' 'unsafe-inline' blob:; img-src 'self' blob: data:; \
    font-src 'self' blob: data:; connect-src 'self' blob: data:; frame-src blob:; \
    object-src 'none'; base-uri 'none'; form-action 'none'";

/// Longest `Range` header accepted. One range is at most 41 bytes (`bytes=` and two 20-digit
/// numbers); a few ranges fit, a long list is no download manager and costs parsing.
pub const MAX_RANGE_HEADER_BYTES: usize = 256;

/// Read size for paid files (see `download`).
const DOWNLOAD_CHUNK: usize = 1 << 20;

/// A paid file by signed link: re-checked against the entitlement, served with byte ranges
/// (resumable on phones), as an attachment Telegram's `downloadFile` accepts, and logged.
async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let grant = state.signer.verify(&token, clock::unix_now())?;
    let mut file = downloads::entitled_file(&state.db, &grant, state.clock.now()).await?;
    // A PDF or EPUB of a product that stamps copies: the buyer's own copy (made on their first
    // request, kept for the next), served and resumed like any stored file.
    if let Some(copy) = crate::stamping::copy_for(
        &state.db,
        &state.storage,
        grant.user_id,
        &file.stamping_source(grant.file_id),
    )
    .await?
    {
        file.storage_key = copy.storage_key;
    }
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // The reader's frame may fetch from the shop's own origin only: its links ask to be served
    // here even where the store is a bucket, whose pre-signed URL is elsewhere.
    let via_shop = request.uri().query() == Some(downloads::VIA_SHOP);
    if !via_shop {
        if let Some(response) =
            media::redirect_to_store(&state, &grant, &file, range.as_deref()).await?
        {
            return Ok(response);
        }
    }
    let mut response = match state.storage.local_path(Area::Private, &file.storage_key) {
        Some(path) => {
            // 1 MiB reads instead of tower-http's 64 KiB: each read is a hop to tokio's blocking
            // pool, and for files of hundreds of MiB those hops, not the disk, bounded the
            // throughput.
            let serve =
                tower_http::services::ServeFile::new(path).with_buf_chunk_size(DOWNLOAD_CHUNK);
            tower::ServiceExt::oneshot(serve, request)
                .await
                .map_err(ApiError::internal)?
                .into_response()
        }
        None => {
            let served_type = crate::studio::uploads::served_type(&file.mime_type);
            media::serve_stored(
                &state,
                Area::Private,
                &file.storage_key,
                served_type,
                request.headers(),
            )
            .await
        }
    };
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Err(ApiError::internal(format!(
            "stored file {} is missing",
            file.storage_key
        )));
    }
    let headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(crate::studio::uploads::served_type(&file.mime_type)) {
        headers.insert(header::CONTENT_TYPE, mime);
    }
    for (name, value) in FILE_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(disposition) =
        HeaderValue::from_str(&crate::storage::content_disposition(&file.file_name))
    {
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

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Largest webhook body read. Telegram's updates are a few KB; a message with a long text and
/// entities stays far below this.
pub const WEBHOOK_MAX_BYTES: usize = 1024 * 1024;

/// Telegram's webhook. 401 without the secret, checked before a byte of the body is read; for a
/// pre-checkout query, 200 with the answer as the reply's body (an `answerPreCheckoutQuery`
/// call); otherwise 200 once the update is safely recorded (its handling goes on in the
/// background) and for a body that is no update, so it cannot block the queue; 500 only when it
/// could not be recorded, so that Telegram delivers it again.
async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let Some(telegram) = state.telegram else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(SECRET_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if !bool::from(given.ct_eq(telegram.webhook_secret.as_bytes())) {
        tracing::warn!("webhook call with a wrong or missing secret token");
        metrics::counter!(crate::metrics::WEBHOOK_ERRORS, "reason" => "secret").increment(1);
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let body = match axum::body::to_bytes(body, WEBHOOK_MAX_BYTES).await {
        Ok(body) => body,
        Err(err) => {
            tracing::warn!(error = %err, "webhook body unreadable or over {WEBHOOK_MAX_BYTES} bytes");
            metrics::counter!(crate::metrics::WEBHOOK_ERRORS, "reason" => "body").increment(1);
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
    };
    match telegram.inbox.ingest_webhook(&body).await {
        Ok(answer) => {
            tracing::debug!(outcome = ?answer.outcome, "webhook update");
            match answer.reply {
                Some(call) => Json(call).into_response(),
                None => StatusCode::OK.into_response(),
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot record a webhook update");
            metrics::counter!(crate::metrics::WEBHOOK_ERRORS, "reason" => "record").increment(1);
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
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
