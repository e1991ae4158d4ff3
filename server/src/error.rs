//! The one place where backend errors become HTTP responses: a JSON body with a stable `error`
//! code and a message for people, in their language (`app/locales`); causes go to the log, never
//! to the client.

use crate::downloads::DownloadError;
use crate::telegram::init_data::InitDataError;
use app::text;
use app::texts::Text;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Unauthorized(#[from] InitDataError),
    /// Input refused because of one field; the response names it (`"field"`).
    #[error("{message}")]
    Invalid { field: &'static str, message: Text },
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

impl ApiError {
    /// What the person is told; 500s say only that something went wrong.
    fn text(&self) -> Text {
        use crate::payments::PaymentError as P;
        use crate::studio::StudioError as S;
        let payment = |err: &P| match err {
            P::OrderNotFound => text!(errors.no_order),
            P::NotOnSale(_) => text!(errors.not_on_sale),
            P::Forbidden => text!(errors.refund_forbidden),
            P::AlreadyOwned => text!(errors.already_owned),
            P::NotRefundable(_) => text!(errors.not_refundable),
            P::NotGrantable => text!(errors.not_grantable),
            P::CheckoutInProgress => text!(errors.checkout_in_progress),
            P::Deal(refusal) => {
                let refusal = *refusal;
                Text::from_fn(move |locale| refusal.in_locale(locale))
            }
            _ => text!(errors.internal),
        };
        match self {
            ApiError::Unauthorized(err) => unauthorized(err),
            ApiError::Invalid { message, .. } => message.clone(),
            ApiError::NotFound => text!(errors.not_found),
            ApiError::Payment(err) => payment(err),
            ApiError::Download(err) => match err {
                DownloadError::BadLink => text!(errors.bad_link),
                DownloadError::Expired => text!(errors.link_expired),
                DownloadError::NotEntitled => text!(errors.not_entitled),
                DownloadError::Db(_) => text!(errors.internal),
            },
            ApiError::Studio(err) => match err {
                S::Forbidden(text)
                | S::Invalid(text)
                | S::UnsupportedMedia(text)
                | S::Conflict(text) => text.clone(),
                S::NotFound => text!(errors.not_found),
                S::TooLarge { limit } => {
                    text!(
                        studio_errors.too_large,
                        limit = crate::studio::human_bytes(*limit)
                    )
                }
                S::Payment(err) => payment(err),
                S::Storage(_) | S::Io(_) | S::Db(_) => text!(errors.internal),
            },
            ApiError::Support(err) => {
                use crate::support::SupportError as R;
                match err {
                    R::NotFound => text!(errors.not_found),
                    R::EmptyReply | R::ReplyTooLong => text!(support_studio.reply_invalid),
                    R::Closed => text!(errors.request_closed),
                    R::NotRefundable => text!(support_studio.not_refundable),
                    R::Payment(err) => payment(err),
                    R::Bot(_) | R::Db(_) => text!(errors.internal),
                }
            }
            ApiError::Internal(_) => text!(errors.internal),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The cause is for the log; the user gets what to do.
            let cause = std::error::Error::source(&self)
                .map(ToString::to_string)
                .unwrap_or_default();
            tracing::error!(error = %self, %cause, "request failed");
        }
        let message = self.text().in_locale(crate::language::current());
        let mut body = serde_json::json!({ "error": code, "message": message });
        if let ApiError::Invalid { field, .. } = &self {
            body["field"] = serde_json::Value::from(*field);
        }
        (status, Json(body)).into_response()
    }
}

/// What to do, and what exactly was wrong with the init data (API clients and tests read it).
fn unauthorized(err: &InitDataError) -> Text {
    let expired = matches!(err, InitDataError::Expired { .. });
    let detail = err.to_string();
    Text::from_fn(move |locale| {
        let words = if expired {
            app::i18n::td_string!(locale, errors.session_expired)
        } else {
            app::i18n::td_string!(locale, errors.unauthorized)
        };
        format!("{words} ({detail})")
    })
}
