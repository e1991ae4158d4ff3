//! Files kept in an object store rather than on this server's disk (`STORAGE=s3`): public files
//! streamed through the shop's own `/media` URLs, paid files handed over as a redirect to a
//! short-lived pre-signed URL once the download link and the entitlement have been checked.

use crate::downloads::{self, EntitledFile, Grant};
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::{Area, StorageError};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use object_store::GetRange;

/// The paid file as a `302` to the store when the store signs URLs; `None` when the server must
/// serve the bytes itself (local directory). The store answers ranges itself, so phones resume.
pub async fn redirect_to_store(
    state: &AppState,
    grant: &Grant,
    file: &EntitledFile,
    range: Option<&str>,
) -> Result<Option<Response>, ApiError> {
    let disposition = crate::storage::content_disposition(&file.file_name);
    let Some(url) = state
        .storage
        .signed_download_url(
            Area::Private,
            &file.storage_key,
            downloads::STORE_URL_TTL,
            crate::studio::uploads::served_type(&file.mime_type),
            &disposition,
        )
        .await?
    else {
        return Ok(None);
    };
    let location = HeaderValue::from_str(url.as_str()).map_err(ApiError::internal)?;
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("https://web.telegram.org"),
    );
    // The bytes go from the store straight to the buyer: how many is not known here.
    if let Err(err) = downloads::log(
        &state.db,
        grant,
        file.product_id,
        StatusCode::FOUND.as_u16(),
        range,
        0,
    )
    .await
    {
        tracing::error!(error = %err, "cannot log a download");
    }
    Ok(Some(response))
}

/// `GET /media/<key>` from the object store: covers and samples, with single byte ranges (audio
/// players seek with them).
pub async fn public(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let key = percent_encoding::percent_decode_str(uri.path().trim_start_matches('/'))
        .decode_utf8_lossy()
        .into_owned();
    let mime = mime_guess::from_path(&key).first_or_octet_stream();
    serve_stored(&state, Area::Public, &key, mime.as_ref(), &headers).await
}

/// A stored file streamed through the shop, with single byte ranges, after whatever checks the
/// caller made: public files, a video's parts, a paid file the reader must fetch from the shop's
/// own origin even where the store is a bucket.
pub async fn serve_stored(
    state: &AppState,
    area: Area,
    key: &str,
    content_type: &str,
    headers: &HeaderMap,
) -> Response {
    let range = match headers.get(header::RANGE).map(parse_range) {
        None => None,
        Some(Some(range)) => Some(range),
        Some(None) => return StatusCode::RANGE_NOT_SATISFIABLE.into_response(),
    };
    let ranged = range.is_some();
    let got = match state.storage.get(area, key, range).await {
        Ok(got) => got,
        Err(StorageError::NotFound(_) | StorageError::InvalidKey(_)) => {
            return StatusCode::NOT_FOUND.into_response()
        }
        Err(err) if ranged => {
            tracing::debug!(error = %err, "unsatisfiable range");
            return StatusCode::RANGE_NOT_SATISFIABLE.into_response();
        }
        Err(err) => return ApiError::from(err).into_response(),
    };
    let total = got.meta.size;
    let served = got.range.clone();
    let e_tag = got.meta.e_tag.clone();
    let mut response = Body::from_stream(got.into_stream()).into_response();
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        out.insert(header::CONTENT_TYPE, value);
    }
    out.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(served.end - served.start),
    );
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(value) = e_tag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        out.insert(header::ETAG, value);
    }
    if ranged {
        let content_range = format!(
            "bytes {}-{}/{total}",
            served.start,
            served.end.saturating_sub(1)
        );
        if let Ok(value) = HeaderValue::from_str(&content_range) {
            out.insert(header::CONTENT_RANGE, value);
        }
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    response
}

/// One range of `bytes=a-b`, `bytes=a-` or `bytes=-n`; anything else is refused (`None`).
pub(super) fn parse_range(value: &HeaderValue) -> Option<GetRange> {
    let spec = value.to_str().ok()?.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    match (start.is_empty(), end.is_empty()) {
        (false, true) => Some(GetRange::Offset(start.parse().ok()?)),
        (true, false) => Some(GetRange::Suffix(end.parse().ok().filter(|n| *n > 0)?)),
        (false, false) => {
            let (start, end): (u64, u64) = (start.parse().ok()?, end.parse().ok()?);
            (start <= end).then_some(GetRange::Bounded(start..end.checked_add(1)?))
        }
        (true, true) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_of_one_span_are_understood() {
        let range = |s: &str| parse_range(&HeaderValue::from_str(s).unwrap());
        assert_eq!(range("bytes=0-9"), Some(GetRange::Bounded(0..10)));
        assert_eq!(range("bytes=100-"), Some(GetRange::Offset(100)));
        assert_eq!(range("bytes=-5"), Some(GetRange::Suffix(5)));
        for bad in [
            "bytes=9-0",
            "bytes=-",
            "items=0-1",
            "bytes=0-1,4-5",
            "bytes=-0",
        ] {
            assert_eq!(range(bad), None, "{bad}");
        }
        // The last byte of the largest file there could be: no overflow, just refused.
        assert_eq!(range("bytes=0-18446744073709551615"), None);
    }

    proptest::proptest! {
        #[test]
        fn any_range_header_is_understood_or_refused_without_panic(
            spec in "(bytes|items)=[0-9]{0,21}-[0-9]{0,21}(,[0-9]{0,3}-[0-9]{0,3})?",
        ) {
            let _ = parse_range(&HeaderValue::from_str(&spec).unwrap());
        }

        /// Over the whole `u64` range: a span is read as the header says (RFC 9110 §14.1.2,
        /// `last-pos` inclusive), or refused when it is backwards, empty or past `u64::MAX`.
        #[test]
        fn one_span_is_read_as_written_or_refused(
            first in proptest::num::u64::ANY,
            last in proptest::num::u64::ANY,
            form in 0u8..3,
        ) {
            let (spec, want) = match form {
                0 => (
                    format!("bytes={first}-{last}"),
                    last.checked_add(1)
                        .filter(|_| first <= last)
                        .map(|end| GetRange::Bounded(first..end)),
                ),
                1 => (format!("bytes={first}-"), Some(GetRange::Offset(first))),
                _ => (format!("bytes=-{last}"), (last > 0).then_some(GetRange::Suffix(last))),
            };
            proptest::prop_assert_eq!(parse_range(&HeaderValue::from_str(&spec).unwrap()), want);
        }
    }
}
