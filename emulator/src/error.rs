//! The two failure vocabularies of the emulator: Bot API errors, which must look exactly like
//! Telegram's so the shop's client code sees what production would send, and control errors,
//! which only the tests and the dev preview read.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

/// An error answered by the emulated Bot API, rendered as Telegram's error envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("Bad Request: {0}")]
    BadRequest(String),
    #[error("Unauthorized")]
    Unauthorized,
    #[error("Not Found")]
    NotFound,
    #[error("Conflict: {0}")]
    Conflict(String),
    #[error("Too Many Requests: retry after {0}")]
    TooManyRequests(u64),
}

impl ApiError {
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::BadRequest(description.into())
    }

    pub fn error_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized => 401,
            Self::NotFound => 404,
            Self::Conflict(_) => 409,
            Self::TooManyRequests(_) => 429,
        }
    }

    /// The body Telegram sends; `parameters` only exists when the client can act on it.
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "ok": false,
            "error_code": self.error_code(),
            "description": self.to_string(),
        });
        if let Self::TooManyRequests(retry_after) = self {
            body["parameters"] = json!({ "retry_after": retry_after });
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}

/// A failed control operation (driving the emulated users, not the bot).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("unknown user {0}; create it with POST /control/users first")]
    UnknownUser(i64),
    #[error("unknown invoice {0:?}")]
    UnknownInvoice(String),
    #[error("unknown inline query {0:?}")]
    UnknownInlineQuery(String),
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::UnknownUser(_) | Self::UnknownInvoice(_) | Self::UnknownInlineQuery(_) => {
                StatusCode::NOT_FOUND
            }
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}
