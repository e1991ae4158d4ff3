//! The one error type of the HTTP edge, and the one place where it becomes a response: a JSON
//! body with a stable `error` code and a message for people, in their language (`app/locales`),
//! or, for a page's server function, a `ShopError` with the same message; causes go to the log,
//! never to the client. Domain errors become an `ApiError` where they reach
//! the edge (`http/errors.rs`): this module knows none of them.

use app::api::ShopError;
use app::i18n::Locale;
use app::text;
use app::texts::Text;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

type Cause = Box<dyn std::error::Error + Send + Sync>;

pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    text: Text,
    /// Input refused because of one field: the response names it (`"field"`).
    field: Option<&'static str>,
    cause: Option<Cause>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, text: Text) -> Self {
        Self {
            status,
            code,
            text,
            field: None,
            cause: None,
        }
    }

    /// Input refused because of `field`.
    pub fn invalid(field: &'static str, text: Text) -> Self {
        Self {
            field: Some(field),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid", text)
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", text!(errors.not_found))
    }

    /// Our failure: the cause is logged, the person is asked to try again.
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            text!(errors.internal),
        )
        .because(cause)
    }

    /// What led to it: logged with a 500, and the error's source.
    pub fn because(mut self, cause: impl Into<Cause>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.text)
    }
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("text", &self.text)
            .field("field", &self.field)
            .field("cause", &self.cause)
            .finish()
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::internal(err)
    }
}

impl ApiError {
    /// The same answer for a page's server function (the `Shop` port): the refusal's text in
    /// the reader's language, our own failure as "unavailable". One mapping from domain errors
    /// (`http/errors.rs`) serves both edges.
    pub fn for_page(self, locale: Locale) -> ShopError {
        if self.status == StatusCode::UNAUTHORIZED {
            ShopError::Unauthorized(self.text.in_locale(locale))
        } else if self.status.is_server_error() {
            self.log_failure();
            ShopError::Unavailable(Box::new(self))
        } else {
            ShopError::Refused(self.text.in_locale(locale))
        }
    }

    /// Our failures go to the log with their causes; the user gets what to do.
    fn log_failure(&self) {
        if self.status == StatusCode::INTERNAL_SERVER_ERROR {
            let mut chain = Vec::new();
            let mut next = std::error::Error::source(self);
            while let Some(err) = next {
                chain.push(err.to_string());
                next = err.source();
            }
            tracing::error!(code = self.code, cause = %chain.join(": "), "request failed");
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log_failure();
        let message = self.text.in_locale(crate::language::current());
        let mut body = serde_json::json!({ "error": self.code, "message": message });
        if let Some(field) = self.field {
            body["field"] = serde_json::Value::from(field);
        }
        (self.status, Json(body)).into_response()
    }
}
