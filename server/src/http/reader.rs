//! The reader over HTTP (`/read/<file id>` in the app): `GET /api/reader/{file_id}` opens a
//! bought PDF or EPUB (a fresh link to the buyer's stamped copy through `/download`, and where
//! they stopped), `PUT /api/reader/{file_id}/position` remembers where they are. Both ask the
//! download's own entitlement check first, so whoever may not download a file (another user, a
//! refunded buyer, a lapsed member) may not read it or keep a place in it either.

use crate::auth::AuthUser;
use crate::downloads::{self, EntitledFile, Grant};
use crate::error::ApiError;
use crate::reading::{self, ReadingError};
use crate::state::AppState;
use app::api::{BookFormat, ReaderFile, ReadingPosition};
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reader/{file_id}", get(open))
        .route("/api/reader/{file_id}/position", put(save_position))
}

/// The file, if the signed-in user may download it now and the reader reads its type.
async fn readable(
    state: &AppState,
    user_id: i64,
    file_id: i64,
) -> Result<(EntitledFile, BookFormat), ApiError> {
    let grant = Grant::signed_in(user_id, file_id);
    let file = downloads::entitled_file(&state.db, &grant, state.clock.now()).await?;
    let format = BookFormat::of_mime(&file.mime_type).ok_or(ReadingError::NotReadable)?;
    Ok((file, format))
}

async fn open(
    State(state): State<AppState>,
    AuthUser(data): AuthUser,
    Path(file_id): Path<i64>,
) -> Result<Json<ReaderFile>, ApiError> {
    let user_id = data.user.id;
    let (file, format) = readable(&state, user_id, file_id).await?;
    let position = reading::position(&state.db, user_id, file_id).await?;
    // Signed on the system clock, which `/download` checks links against.
    let token = state.signer.sign(user_id, file_id, clock::unix_now());
    Ok(Json(ReaderFile {
        name: file.file_name,
        format,
        url: format!("/download/{token}?{}", downloads::VIA_SHOP),
        position,
    }))
}

async fn save_position(
    State(state): State<AppState>,
    AuthUser(data): AuthUser,
    Path(file_id): Path<i64>,
    Json(body): Json<ReadingPosition>,
) -> Result<Json<ReadingPosition>, ApiError> {
    let user_id = data.user.id;
    readable(&state, user_id, file_id).await?;
    let now = state.clock.now();
    reading::save(&state.db, user_id, file_id, &body.position, now).await?;
    Ok(Json(body))
}
