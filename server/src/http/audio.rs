//! `GET /audio/{file_id}/preview`: a track's preview for anyone (see `crate::audio`), with byte
//! ranges, since players seek and browsers fetch media in ranges. Buyers' whole tracks are their
//! signed download links (`/download/{token}`), not a route of this file.

use super::media::parse_range;
use super::FILE_HEADERS;
use crate::audio::{self, AudioError};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::{stream, StreamExt, TryStreamExt};

pub fn router() -> Router<AppState> {
    Router::new().route("/audio/{file_id}/preview", get(preview))
}

async fn preview(
    State(state): State<AppState>,
    Path(file_id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let range = match headers.get(header::RANGE).map(parse_range) {
        None => None,
        Some(Some(range)) => Some(range),
        Some(None) => return Err(AudioError::BadRange.into()),
    };
    let ranged = range.is_some();
    let got = audio::preview(&state.db, &state.storage, file_id, range).await?;
    let served = got.served.clone();
    let head = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(got.header)) });
    let body = match got.audio {
        Some(audio) => head
            .chain(audio.into_stream().map_err(std::io::Error::other))
            .boxed(),
        None => head.boxed(),
    };
    let mut response = Body::from_stream(body).into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    out.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(served.end - served.start),
    );
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Public like a sample, but short-lived: the creator may replace the file.
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    for (name, value) in FILE_HEADERS {
        out.insert(name, HeaderValue::from_static(value));
    }
    if ranged {
        let content_range = format!("bytes {}-{}/{}", served.start, served.end - 1, got.total);
        if let Ok(value) = HeaderValue::from_str(&content_range) {
            out.insert(header::CONTENT_RANGE, value);
        }
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(response)
}
