//! The studio's HTTP surface: `/api/studio/*` for creators and admins (every handler resolves the
//! caller's role on the server before anything else), and `/api/tips` for buyers.

use super::caller::{Studio, StudioCaller};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::payments::tips;
use crate::state::AppState;
use crate::storage::Area;
use crate::studio::roles;
use crate::studio::{covers, products, sales, uploads, StudioError};
use crate::telegram::links::Place;
use crate::videos;
use app::studio::types::{
    BundleInput, Invite, LessonInput, ProductInput, ProductStatus, SalesDashboard, StudioFile,
    StudioMe, StudioProduct, StudioProductRow, StudioVideo, TipCheckout, TipRequest,
};
use app::text;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    let uploads = Router::new()
        .route("/api/studio/products/{id}/files", post(upload_file))
        .route("/api/studio/products/{id}/cover", post(upload_cover))
        .route("/api/studio/lessons/{id}/video", post(upload_video))
        // The studio enforces its own limit while streaming.
        .layer(DefaultBodyLimit::disable());
    Router::new()
        .route("/api/studio/me", get(me))
        .route("/api/studio/products", get(list).post(create))
        .route("/api/studio/products/{id}", get(product).put(update))
        .route("/api/studio/products/{id}/publish", post(publish))
        .route("/api/studio/products/{id}/archive", post(archive))
        .route("/api/studio/products/{id}/bundle", put(set_bundle))
        .route("/api/studio/products/{id}/lessons", post(add_lesson))
        .route(
            "/api/studio/lessons/{id}",
            put(update_lesson).delete(delete_lesson),
        )
        .route("/api/studio/lessons/{id}/move", post(move_lesson))
        .route("/api/studio/lessons/{id}/video/status", get(video_status))
        .route("/api/studio/files/{id}", delete(delete_file))
        .route("/api/studio/sales", get(dashboard))
        .route("/api/studio/orders/{order_id}/refund", post(refund))
        .route("/api/studio/charges/held", get(held_charges))
        .route(
            "/api/studio/charges/{charge_id}/{action}",
            post(resolve_charge),
        )
        .route("/api/studio/creators", post(add_creator))
        .route("/api/studio/invites", post(invite))
        .route("/api/tips", post(tip))
        .route("/api/tips/{id}", get(tip_status))
        .merge(uploads)
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// A product as the studio shows it, with the t.me link that opens it from any chat.
async fn shown(state: &AppState, mut product: StudioProduct) -> ApiResult<StudioProduct> {
    if let Some(telegram) = &state.telegram {
        product.share_link = telegram.links.open(Place::Product(&product.slug)).await;
    }
    Ok(Json(product))
}

async fn me(
    State(state): State<AppState>,
    StudioCaller(caller): StudioCaller,
) -> ApiResult<StudioMe> {
    Ok(Json(StudioMe {
        user_id: caller.user_id,
        role: caller.role,
        display_name: roles::display_name(&state.db, caller.user_id).await?,
        max_price_stars: state.studio.max_price_stars,
        max_upload_bytes: state.studio.max_upload_bytes,
    }))
}

async fn list(
    State(state): State<AppState>,
    Studio(caller): Studio,
) -> ApiResult<Vec<StudioProductRow>> {
    Ok(Json(products::list(&state.db, caller).await?))
}

async fn create(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Json(input): Json<ProductInput>,
) -> ApiResult<StudioProduct> {
    shown(
        &state,
        products::create(&state.db, caller, state.studio, &input).await?,
    )
    .await
}

async fn product(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
) -> ApiResult<StudioProduct> {
    shown(&state, products::get(&state.db, caller, id).await?).await
}

async fn update(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Json(input): Json<ProductInput>,
) -> ApiResult<StudioProduct> {
    shown(
        &state,
        products::update(&state.db, caller, state.studio, id, &input).await?,
    )
    .await
}

async fn set_bundle(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Json(input): Json<BundleInput>,
) -> ApiResult<StudioProduct> {
    shown(
        &state,
        products::set_bundle(&state.db, caller, id, &input.product_ids).await?,
    )
    .await
}

async fn publish(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
) -> ApiResult<StudioProduct> {
    shown(
        &state,
        products::set_status(&state.db, caller, id, ProductStatus::Published).await?,
    )
    .await
}

async fn archive(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
) -> ApiResult<StudioProduct> {
    shown(
        &state,
        products::set_status(&state.db, caller, id, ProductStatus::Archived).await?,
    )
    .await
}

async fn add_lesson(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Json(input): Json<LessonInput>,
) -> ApiResult<StudioProduct> {
    shown(
        &state,
        products::add_lesson(&state.db, caller, id, &input).await?,
    )
    .await
}

async fn update_lesson(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Json(input): Json<LessonInput>,
) -> ApiResult<StudioProduct> {
    shown(
        &state,
        products::update_lesson(&state.db, caller, id, &input).await?,
    )
    .await
}

async fn delete_lesson(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
) -> ApiResult<StudioProduct> {
    shown(
        &state,
        products::delete_lesson(&state.db, caller, id).await?,
    )
    .await
}

#[derive(Deserialize)]
struct MoveQuery {
    dir: String,
}

async fn move_lesson(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Query(q): Query<MoveQuery>,
) -> ApiResult<StudioProduct> {
    let up = match q.dir.as_str() {
        "up" => true,
        "down" => false,
        _ => return Err(StudioError::Invalid(text!(studio_errors.bad_direction)).into()),
    };
    shown(
        &state,
        products::move_lesson(&state.db, caller, id, up).await?,
    )
    .await
}

async fn delete_file(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    products::delete_file(&state.db, caller, id).await?;
    Ok(Json(serde_json::json!({ "status": "deleted" })))
}

#[derive(Deserialize)]
struct FileQuery {
    /// `content` (default) or `sample`.
    role: Option<String>,
    /// A file of this product to replace with a new version.
    replace: Option<i64>,
}

/// Refuses a body that announces more than the limit before reading any of it (multipart adds a
/// little framing, hence the slack); bodies without a length are held to it while streaming.
fn check_announced_length(headers: &HeaderMap, limit: u64) -> Result<(), StudioError> {
    const FRAMING: u64 = 64 * 1024;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match announced {
        Some(n) if n > limit.saturating_add(FRAMING) => Err(StudioError::TooLarge { limit }),
        _ => Ok(()),
    }
}

/// The first part of a multipart body, which must be named `file` (the studio's forms send
/// nothing else).
async fn file_field(
    multipart: &mut Multipart,
) -> Result<axum::extract::multipart::Field<'_>, StudioError> {
    let field = multipart.next_field().await.map_err(|err| {
        tracing::info!(error = %err.body_text(), "unreadable upload");
        StudioError::Invalid(text!(studio_errors.bad_upload))
    })?;
    match field {
        Some(field) if field.name() == Some("file") => Ok(field),
        _ => Err(StudioError::Invalid(text!(studio_errors.one_file_part))),
    }
}

async fn upload_file(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Query(q): Query<FileQuery>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> ApiResult<StudioFile> {
    // Who and where are checked before a byte of the body is read.
    products::owned(&state.db, caller, id).await?;
    let (role, area) = match q.role.as_deref().unwrap_or("content") {
        "content" => ("content", Area::Private),
        "sample" => ("sample", Area::Public),
        _ => return Err(StudioError::Invalid(text!(studio_errors.bad_role)).into()),
    };
    let limit = state.studio.max_upload_bytes;
    check_announced_length(&headers, limit)?;
    let mut field = file_field(&mut multipart).await?;
    let name = field.file_name().unwrap_or("file").to_owned();
    let dir = format!("products/{id}");
    let upload = uploads::store(&state.storage, area, &dir, &name, &mut field, limit).await?;
    // Samples are served from the shop's own origin: markup there could run script.
    if area == Area::Public && uploads::extension_for(&upload.mime_type) == "bin" {
        discard(&state, area, &upload.key).await;
        return Err(StudioError::UnsupportedMedia(text!(studio_errors.sample_type)).into());
    }
    match products::attach_file(&state.db, id, role, q.replace, &upload).await {
        Ok(file) => {
            // Buyers' stamped copies of the earlier version go; the next request stamps this one.
            if file.version > 1 {
                if let Err(err) = crate::stamping::forget_earlier_versions(
                    &state.db,
                    &state.storage,
                    file.id,
                    file.version,
                )
                .await
                {
                    tracing::warn!(file = file.id, error = %err, "cannot remove old stamped copies");
                }
            }
            Ok(Json(file))
        }
        Err(err) => {
            discard(&state, area, &upload.key).await;
            Err(err.into())
        }
    }
}

/// A lesson's video: stored as uploaded, then queued for the worker that prepares it for
/// streaming. The lesson keeps playing what it played until that is done.
async fn upload_video(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(lesson_id): Path<i64>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> ApiResult<StudioVideo> {
    products::owned_lesson(&state.db, caller, lesson_id).await?;
    let limit = state.studio.max_upload_bytes;
    check_announced_length(&headers, limit)?;
    let mut field = file_field(&mut multipart).await?;
    let name = field.file_name().unwrap_or("video").to_owned();
    let dir = format!("videos/sources/lesson-{lesson_id}");
    let upload = uploads::store(
        &state.storage,
        Area::Private,
        &dir,
        &name,
        &mut field,
        limit,
    )
    .await?;
    if !upload.mime_type.starts_with("video/") {
        discard(&state, Area::Private, &upload.key).await;
        return Err(StudioError::UnsupportedMedia(text!(studio_errors.video_type)).into());
    }
    videos::enqueue(
        &state.db,
        lesson_id,
        &upload.key,
        upload.size_bytes,
        state.clock.now(),
    )
    .await
    .map_err(StudioError::from)?;
    state.video_wake.notify_one();
    video_status(State(state), Studio(caller), Path(lesson_id)).await
}

/// Where the lesson's latest video upload is: the studio asks while it prepares.
async fn video_status(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(lesson_id): Path<i64>,
) -> ApiResult<StudioVideo> {
    products::owned_lesson(&state.db, caller, lesson_id).await?;
    let video = videos::studio_state(&state.db, lesson_id)
        .await
        .map_err(StudioError::from)?
        .ok_or(StudioError::NotFound)?;
    Ok(Json(video))
}

/// Removes a stored upload the studio refused after all; a failure only leaves an orphan file.
async fn discard(state: &AppState, area: Area, key: &str) {
    if let Err(err) = state.storage.delete(area, key).await {
        tracing::warn!(key, error = %err, "cannot remove a refused upload");
    }
}

async fn upload_cover(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> ApiResult<StudioProduct> {
    products::owned(&state.db, caller, id).await?;
    check_announced_length(&headers, covers::COVER_MAX_BYTES)?;
    let mut field = file_field(&mut multipart).await?;
    let bytes = uploads::read_small(&mut field, covers::COVER_MAX_BYTES).await?;
    // Decoding and scaling are CPU work: off the async threads, a few at a time.
    let cover = covers::process_bounded(bytes).await?;
    let key = uploads::new_key("covers", cover.mime);
    state
        .storage
        .put(
            Area::Public,
            &key,
            &cover.bytes,
            &crate::storage::Headers::inline(cover.mime),
        )
        .await
        .map_err(StudioError::from)?;
    products::set_cover(&state.db, id, &key).await?;
    shown(&state, products::get(&state.db, caller, id).await?).await
}

#[derive(Deserialize)]
struct SalesQuery {
    creator: Option<i64>,
}

async fn dashboard(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Query(q): Query<SalesQuery>,
) -> ApiResult<SalesDashboard> {
    let scope = sales::scope(caller, q.creator)?;
    // The shop's clock: a membership counts as active until its paid period ends.
    Ok(Json(
        sales::dashboard(
            &state.db,
            scope,
            state.clock.now(),
            crate::language::current(),
        )
        .await?,
    ))
}

/// The dashboard's refund button: the product's creator or an admin.
async fn refund(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(order_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let bot = &state.telegram.as_ref().ok_or(ApiError::not_found())?.bot;
    let actor = crate::payments::Actor {
        user_id: caller.user_id,
        is_admin: caller.is_admin(),
    };
    let outcome = crate::payments::refund(&state.db, bot, order_id.as_str(), actor).await?;
    let status = match outcome {
        crate::payments::RefundOutcome::Refunded => "refunded",
        crate::payments::RefundOutcome::AlreadyRefunded => "already_refunded",
    };
    Ok(Json(serde_json::json!({ "status": status })))
}

/// Charges held for review that the caller may settle: a creator's own products and tips, every
/// one for an admin.
async fn held_charges(
    State(state): State<AppState>,
    Studio(caller): Studio,
) -> ApiResult<Vec<crate::payments::HeldCharge>> {
    let scope = (!caller.is_admin()).then_some(caller.user_id);
    Ok(Json(crate::payments::ledger::held(&state.db, scope).await?))
}

/// Settles a held charge: `refund` returns the Stars, `grant` grants what it paid for.
async fn resolve_charge(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path((charge_id, action)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let resolution = match action.as_str() {
        "refund" => crate::payments::Resolution::Refund,
        "grant" => crate::payments::Resolution::Grant,
        _ => return Err(ApiError::not_found()),
    };
    let bot = &state.telegram.as_ref().ok_or(ApiError::not_found())?.bot;
    let actor = crate::payments::Actor {
        user_id: caller.user_id,
        is_admin: caller.is_admin(),
    };
    let applied =
        crate::payments::ledger::resolve(&state.db, bot, &charge_id, actor, resolution).await?;
    let status = match applied {
        crate::payments::Applied::Granted { .. } => "granted",
        _ => "refunded",
    };
    Ok(Json(serde_json::json!({ "status": status })))
}

#[derive(Deserialize)]
struct NewCreator {
    user_id: i64,
}

async fn add_creator(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Json(body): Json<NewCreator>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require_admin()?;
    if !roles::grant_creator(&state.db, body.user_id).await? {
        return Err(StudioError::Invalid(text!(studio_errors.user_unknown)).into());
    }
    Ok(Json(
        serde_json::json!({ "status": "creator", "user_id": body.user_id }),
    ))
}

async fn invite(State(state): State<AppState>, Studio(caller): Studio) -> ApiResult<Invite> {
    caller.require_admin()?;
    let token = roles::create_invite(&state.db, caller.user_id).await?;
    let start_payload = format!("inv_{token}");
    let link = match &state.telegram {
        Some(telegram) => telegram.links.start(&start_payload).await,
        None => None,
    };
    Ok(Json(Invite {
        token,
        start_payload,
        link,
    }))
}

async fn tip(
    State(state): State<AppState>,
    AuthUser(data): AuthUser,
    Json(request): Json<TipRequest>,
) -> ApiResult<TipCheckout> {
    let Some(telegram) = &state.telegram else {
        return Err(StudioError::Conflict(text!(errors.no_payments)).into());
    };
    let checkout = tips::create(
        &state.db,
        &telegram.bot,
        data.user.id,
        &request,
        state.studio.max_price_stars,
        state.clock.now(),
    )
    .await
    .map_err(StudioError::from)?;
    Ok(Json(checkout))
}

async fn tip_status(
    State(state): State<AppState>,
    AuthUser(data): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let status = tips::status(&state.db, data.user.id, &id)
        .await
        .map_err(StudioError::from)?;
    Ok(Json(serde_json::json!({ "status": status })))
}
