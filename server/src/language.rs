//! The language a request is answered in, kept for the length of the request: the pages choose
//! theirs through Leptos, but an error or a chart made further down needs it too.

use app::i18n::Locale;
use app::texts::request_locale;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::cell::Cell;

tokio::task_local! {
    static REQUEST_LANGUAGE: Cell<Locale>;
}

/// Middleware: the request's language from its headers (the picker's cookie, `Accept-Language`).
pub async fn layer(request: Request, next: Next) -> Response {
    let locale = request_locale(request.headers(), None);
    REQUEST_LANGUAGE
        .scope(Cell::new(locale), next.run(request))
        .await
}

/// The signed-in user's Telegram language joins the choice once the request is authenticated.
pub fn learn_user(headers: &HeaderMap, language_code: Option<&str>) {
    let locale = request_locale(headers, language_code);
    let _ = REQUEST_LANGUAGE.try_with(|current| current.set(locale));
}

/// The current request's language; English outside a request.
pub fn current() -> Locale {
    REQUEST_LANGUAGE.try_with(Cell::get).unwrap_or_default()
}
