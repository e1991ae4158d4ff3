//! Video lessons over HTTP: `GET /stream/{token}/{part}` serves a prepared video's playlists and
//! segments. The token (from the lesson page) names the viewer and the lesson and runs out;
//! every request under it must carry the same viewer's init data (the player sends it, as every
//! call of the Mini App does), and the viewer must still be allowed the lesson: a refund, or a
//! copied URL opened by someone else, stops the stream at the next segment.

use crate::courses;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::Area;
use crate::videos::{self, VideoError};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new().route("/stream/{token}/{*part}", get(stream))
}

async fn stream(
    State(state): State<AppState>,
    Path((token, part)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let (user_id, lesson_id) = state.signer.verify_stream(&token, now)?;
    if !videos::is_part(&part) {
        return Err(VideoError::NoSuchPart.into());
    }
    // 0: a visitor's token, which opens free previews only. The init data is only checked, not
    // recorded: a player asks every few seconds, and the lesson page already met the viewer.
    let viewer = if user_id == 0 {
        None
    } else if state.auth.verified_user_id(&headers) == Some(user_id) {
        Some(user_id)
    } else {
        return Err(VideoError::NotYours.into());
    };
    if !courses::may_open(&state.db, lesson_id, viewer, now).await? {
        return Err(VideoError::Locked.into());
    }
    let prefix = videos::prefix(&state.db, lesson_id).await?;
    let key = format!("{prefix}/{part}");
    let mut response = super::media::serve_stored(
        &state,
        Area::Private,
        &key,
        videos::part_type(&part),
        &headers,
    )
    .await;
    if response.status() == axum::http::StatusCode::NOT_FOUND {
        return Err(VideoError::NoSuchPart.into());
    }
    let out = response.headers_mut();
    // Under a URL that changes at every opening of the lesson: nothing for a shared cache, and
    // a segment is worth keeping only while this token lasts.
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if part.ends_with(".m3u8") {
            "private, no-store"
        } else {
            "private, max-age=600"
        }),
    );
    Ok(response)
}
