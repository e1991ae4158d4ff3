//! The catalog page (`/` with its kind, search and page) as rendered, kept in memory and served
//! again until the catalog changes. The page is the same for every viewer (Telegram's init data
//! reaches the server only with the app's own requests, never the first document), so rendering
//! it per request only repeated work whose cost is what limits the catalog's requests per second.
//!
//! Each kept page has an `ETag` (its body's hash), so a WebView that opens the catalog again
//! with the page still in its cache gets `304 Not Modified` and no body.
//!
//! The catalog's version comes from the database (`catalog_version`, bumped by triggers on every
//! change to products and to creators' names), read once per request: an edit on any replica,
//! or SQL by hand, retires every page cached before it.

use crate::db::Db;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Pages kept at most (kinds × searches × pages × languages); past it the cache starts over.
const MAX_PAGES: usize = 256;
/// A larger page is served but not kept.
const MAX_PAGE_BYTES: usize = 8 << 20;

/// What a catalog page's HTML depends on: the URL and the inputs of the page's language.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    path_and_query: String,
    locale_cookie: Option<String>,
    accept_language: Option<HeaderValue>,
}

#[derive(Clone)]
struct Page {
    headers: HeaderMap,
    etag: HeaderValue,
    body: Bytes,
}

impl Page {
    fn new(mut headers: HeaderMap, body: Bytes) -> Self {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(&body);
        let etag = HeaderValue::try_from(format!("\"{}\"", hex::encode(&hash[..12])))
            .expect("hex is a valid header value");
        headers.insert(header::ETAG, etag.clone());
        // Kept by the browser, asked again each time: a 304 while the catalog stands.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        Self {
            headers,
            etag,
            body,
        }
    }

    /// The page, or 304 when the browser holds this very page (`If-None-Match`).
    fn response(&self, if_none_match: Option<&HeaderValue>) -> Response {
        let matches = if_none_match
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|tag| tag.trim().trim_start_matches("W/") == self.etag)
            });
        if matches {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            let headers = response.headers_mut();
            headers.insert(header::ETAG, self.etag.clone());
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            return response;
        }
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.headers_mut() = self.headers.clone();
        response
    }
}

#[derive(Default)]
struct Pages {
    version: i64,
    pages: HashMap<Key, Page>,
}

/// Shared by the router's clones; one per process.
#[derive(Clone, Default)]
pub struct PageCache(Arc<Mutex<Pages>>);

/// The state the layer needs.
#[derive(Clone)]
pub struct CacheState {
    pub db: Db,
    pub cache: PageCache,
}

/// The catalog's current version (see the module's note).
pub async fn catalog_version(db: &Db) -> Result<i64, sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT version FROM catalog_version WHERE id = 1"
    )
    .fetch_one(pool)
    .await)
}

fn key(request: &Request) -> Option<Key> {
    if request.method() != Method::GET || request.uri().path() != "/" {
        return None;
    }
    let headers = request.headers();
    let locale_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == app::texts::LOCALE_COOKIE)
        .map(|(_, value)| value.to_owned());
    Some(Key {
        path_and_query: request.uri().path_and_query()?.as_str().to_owned(),
        locale_cookie,
        accept_language: headers.get(header::ACCEPT_LANGUAGE).cloned(),
    })
}

/// The layer: a catalog page from memory when the catalog has not changed since it was
/// rendered, else rendered and kept. Anything else passes through.
pub async fn serve(State(state): State<CacheState>, request: Request, next: Next) -> Response {
    let Some(key) = key(&request) else {
        return next.run(request).await;
    };
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    // Without the version the page is rendered as if there were no cache.
    let Ok(version) = catalog_version(&state.db).await else {
        return next.run(request).await;
    };
    {
        let mut pages = state.cache.0.lock().unwrap_or_else(|e| e.into_inner());
        if pages.version != version {
            pages.version = version;
            pages.pages.clear();
        }
        if let Some(page) = pages.pages.get(&key) {
            return page.response(if_none_match.as_ref());
        }
    }
    let response = next.run(request).await;
    // Only a whole, ordinary page: errors, redirects and anything setting a cookie are the
    // request's own.
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(body) => body,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let page = Page::new(parts.headers, body);
    let mut pages = state.cache.0.lock().unwrap_or_else(|e| e.into_inner());
    // A change meanwhile: this page may predate it, so it is not kept.
    if pages.version == version {
        if pages.pages.len() >= MAX_PAGES {
            pages.pages.clear();
        }
        pages.pages.insert(key, page.clone());
    }
    drop(pages);
    page.response(if_none_match.as_ref())
}
