//! The one place where backend errors become HTTP responses: a JSON body with a stable `error`
//! code and a message for people; causes go to the log, never to the client.

use crate::downloads::DownloadError;
use crate::telegram::init_data::InitDataError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Unauthorized(#[from] InitDataError),
    #[error("{0}")]
    BadRequest(String),
    /// Input refused because of one field; the response names it (`"field"`).
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error(transparent)]
    Payment(#[from] crate::payments::PaymentError),
    #[error(transparent)]
    Studio(#[from] crate::studio::StudioError),
    #[error(transparent)]
    Support(crate::support::SupportError),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<crate::downloads::LibraryError> for ApiError {
    fn from(err: crate::downloads::LibraryError) -> Self {
        ApiError::Internal(Box::new(err))
    }
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(err: crate::storage::StorageError) -> Self {
        ApiError::Internal(Box::new(err))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::Internal(Box::new(err))
    }
}

impl ApiError {
    fn payment_status(err: &crate::payments::PaymentError) -> (StatusCode, &'static str) {
        use crate::payments::PaymentError as P;
        match err {
            P::OrderNotFound | P::NotOnSale(_) => (StatusCode::NOT_FOUND, "not_found"),
            P::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            P::AlreadyOwned | P::NotRefundable(_) | P::NotGrantable => {
                (StatusCode::CONFLICT, "conflict")
            }
            P::Deal(_) => (StatusCode::CONFLICT, "refused"),
            P::CheckoutInProgress => (StatusCode::CONFLICT, "checkout_in_progress"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized(
                err @ (InitDataError::TooLong | InitDataError::TooManyFields),
            ) => (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, err.code()),
            ApiError::Unauthorized(err) => (StatusCode::UNAUTHORIZED, err.code()),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Payment(err) => ApiError::payment_status(err),
            ApiError::Download(err) => match err {
                DownloadError::BadLink => (StatusCode::NOT_FOUND, "bad_link"),
                DownloadError::Expired => (StatusCode::GONE, "link_expired"),
                DownloadError::NotEntitled => (StatusCode::FORBIDDEN, "not_entitled"),
                DownloadError::Db(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            },
            ApiError::Studio(err) => {
                use crate::studio::StudioError as S;
                match err {
                    S::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
                    S::NotFound => (StatusCode::NOT_FOUND, "not_found"),
                    S::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
                    S::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
                    S::UnsupportedMedia(_) => {
                        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
                    }
                    S::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
                    S::Payment(err) => ApiError::payment_status(err),
                    S::Storage(_) | S::Io(_) | S::Db(_) => {
                        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
                    }
                }
            }
            ApiError::Support(err) => {
                use crate::support::SupportError as S;
                match err {
                    S::NotFound => (StatusCode::NOT_FOUND, "not_found"),
                    S::EmptyReply | S::ReplyTooLong => (StatusCode::BAD_REQUEST, "invalid"),
                    S::Closed | S::NotRefundable => (StatusCode::CONFLICT, "conflict"),
                    S::Payment(err) => ApiError::payment_status(err),
                    S::Bot(_) | S::Db(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
                }
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The cause is for the log; the user gets what to do.
            let cause = std::error::Error::source(&self)
                .map(ToString::to_string)
                .unwrap_or_default();
            tracing::error!(error = %self, %cause, "request failed");
            "Something went wrong on our side; please try again.".to_owned()
        } else {
            self.to_string()
        };
        let mut body = serde_json::json!({ "error": code, "message": message });
        if let ApiError::Invalid { field, .. } = &self {
            body["field"] = serde_json::Value::from(*field);
        }
        (status, Json(body)).into_response()
    }
}
