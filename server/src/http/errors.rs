//! Domain errors as the HTTP edge answers them: a status, a stable code and the text a person
//! reads. The domain modules return their own errors and know nothing of HTTP; this is where
//! each meets `ApiError`.

use crate::audio::AudioError;
use crate::auth::AuthError;
use crate::courses::CourseError;
use crate::downloads::DownloadError;
use crate::error::ApiError;
use crate::library::LibraryError;
use crate::licenses::LicenseError;
use crate::payments::gifts::GiftRefusal;
use crate::payments::PaymentError;
use crate::promotion::PromotionError;
use crate::reading::ReadingError;
use crate::reviews::ReviewError;
use crate::stamping::StampError;
use crate::storage::StorageError;
use crate::studio::discounts::DealError;
use crate::studio::StudioError;
use crate::support::SupportError;
use crate::telegram::init_data::InitDataError;
use crate::videos::VideoError;
use app::i18n::td_string;
use app::text;
use app::texts::Text;
use axum::http::StatusCode;

/// The answers most refusals share: a status and its stable code.
const NOT_FOUND: (StatusCode, &str) = (StatusCode::NOT_FOUND, "not_found");
const FORBIDDEN: (StatusCode, &str) = (StatusCode::FORBIDDEN, "forbidden");
const CONFLICT: (StatusCode, &str) = (StatusCode::CONFLICT, "conflict");
const INVALID: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "invalid");

impl From<InitDataError> for ApiError {
    fn from(err: InitDataError) -> Self {
        let status = match err {
            InitDataError::TooLong | InitDataError::TooManyFields => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            _ => StatusCode::UNAUTHORIZED,
        };
        // What to do, and what exactly was wrong (API clients and tests read it).
        let expired = matches!(err, InitDataError::Expired { .. });
        let detail = err.to_string();
        let text = Text::from_fn(move |locale| {
            let words = if expired {
                td_string!(locale, errors.session_expired)
            } else {
                td_string!(locale, errors.unauthorized)
            };
            format!("{words} ({detail})")
        });
        ApiError::new(status, err.code(), text).because(err)
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InitData(err) => err.into(),
            AuthError::Db(err) => err.into(),
        }
    }
}

impl From<DownloadError> for ApiError {
    fn from(err: DownloadError) -> Self {
        let (status, code, text) = match err {
            DownloadError::BadLink => (StatusCode::NOT_FOUND, "bad_link", text!(errors.bad_link)),
            DownloadError::Expired => {
                (StatusCode::GONE, "link_expired", text!(errors.link_expired))
            }
            DownloadError::NotEntitled => (
                StatusCode::FORBIDDEN,
                "not_entitled",
                text!(errors.not_entitled),
            ),
            DownloadError::Db(_) => return ApiError::internal(err),
        };
        ApiError::new(status, code, text).because(err)
    }
}

impl From<AudioError> for ApiError {
    fn from(err: AudioError) -> Self {
        match err {
            // A track with no preview (not WAV, or one the cut cannot read) is no preview to
            // anyone: the page never links it.
            AudioError::NoTrack(_) | AudioError::NotPreviewable { .. } => {
                ApiError::not_found().because(err)
            }
            AudioError::BadRange => ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "bad_range",
                text!(errors.not_found),
            )
            .because(err),
            AudioError::Storage(err) => err.into(),
            AudioError::Db(err) => err.into(),
        }
    }
}

/// A file that cannot be stamped reaches its buyer as uploaded (`stamping::copy_for`): what is
/// left to fail is ours, the store or the database.
impl From<CourseError> for ApiError {
    fn from(err: CourseError) -> Self {
        let (status, code, text) = match err {
            CourseError::NoLesson => (StatusCode::NOT_FOUND, "no_lesson", text!(errors.no_lesson)),
            CourseError::Locked => (
                StatusCode::FORBIDDEN,
                "lesson_locked",
                text!(errors.lesson_locked),
            ),
            CourseError::Db(err) => return err.into(),
        };
        ApiError::new(status, code, text).because(err)
    }
}

impl From<VideoError> for ApiError {
    fn from(err: VideoError) -> Self {
        let (status, code, text) = match err {
            VideoError::NoVideo | VideoError::NoSuchPart => {
                (StatusCode::NOT_FOUND, "no_video", text!(errors.no_video))
            }
            VideoError::Locked => (
                StatusCode::FORBIDDEN,
                "lesson_locked",
                text!(errors.lesson_locked),
            ),
            VideoError::NotYours => (
                StatusCode::FORBIDDEN,
                "stream_not_yours",
                text!(errors.stream_not_yours),
            ),
            VideoError::Storage(err) => return err.into(),
            VideoError::Db(err) => return err.into(),
            VideoError::Tool(_) | VideoError::Io(_) => return ApiError::internal(err),
        };
        ApiError::new(status, code, text).because(err)
    }
}

impl From<StampError> for ApiError {
    fn from(err: StampError) -> Self {
        match err {
            StampError::Storage(err) => err.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<LibraryError> for ApiError {
    fn from(err: LibraryError) -> Self {
        ApiError::internal(err)
    }
}

impl From<ReadingError> for ApiError {
    fn from(err: ReadingError) -> Self {
        let (status, code, text) = match err {
            ReadingError::NotReadable => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not_readable",
                text!(errors.not_readable),
            ),
            ReadingError::BadPosition => (INVALID.0, INVALID.1, text!(errors.bad_position)),
            ReadingError::Db(_) => return ApiError::internal(err),
        };
        ApiError::new(status, code, text).because(err)
    }
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        ApiError::internal(err)
    }
}

impl From<PaymentError> for ApiError {
    fn from(err: PaymentError) -> Self {
        use PaymentError as P;
        let (answer, text) = match &err {
            P::OrderNotFound => (NOT_FOUND, text!(errors.no_order)),
            P::NotOnSale(_) => (NOT_FOUND, text!(errors.not_on_sale)),
            P::Forbidden => (FORBIDDEN, text!(errors.refund_forbidden)),
            P::AlreadyOwned => (CONFLICT, text!(errors.already_owned)),
            P::NotRefundable(_) => (CONFLICT, text!(errors.not_refundable)),
            P::NotGrantable => (CONFLICT, text!(errors.not_grantable)),
            P::CheckoutInProgress => (
                (StatusCode::CONFLICT, "checkout_in_progress"),
                text!(errors.checkout_in_progress),
            ),
            P::Deal(refusal) => {
                let refusal = *refusal;
                let text = Text::from_fn(move |locale| refusal.in_locale(locale));
                ((StatusCode::CONFLICT, "refused"), text)
            }
            P::NotGiftable => (
                (StatusCode::CONFLICT, "not_giftable"),
                text!(errors.not_giftable),
            ),
            P::Gift(refusal) => match refusal {
                GiftRefusal::NotFound => (
                    (StatusCode::NOT_FOUND, "gift_not_found"),
                    text!(errors.gift_not_found),
                ),
                GiftRefusal::Claimed => (
                    (StatusCode::CONFLICT, "gift_claimed"),
                    text!(errors.gift_claimed),
                ),
                GiftRefusal::Cancelled => (
                    (StatusCode::GONE, "gift_cancelled"),
                    text!(errors.gift_cancelled),
                ),
                GiftRefusal::OwnGift => {
                    ((StatusCode::CONFLICT, "own_gift"), text!(errors.own_gift))
                }
                GiftRefusal::AlreadyOwned => (
                    (StatusCode::CONFLICT, "gift_owned"),
                    text!(errors.gift_owned),
                ),
            },
            _ => return ApiError::internal(err),
        };
        ApiError::new(answer.0, answer.1, text).because(err)
    }
}

impl From<StudioError> for ApiError {
    fn from(err: StudioError) -> Self {
        use StudioError as S;
        let err = match err {
            S::Payment(err) => return err.into(),
            other => other,
        };
        let (answer, text) = match &err {
            S::Forbidden(text) => (FORBIDDEN, text.clone()),
            S::NotFound => (NOT_FOUND, text!(errors.not_found)),
            S::Invalid(text) => (INVALID, text.clone()),
            S::TooLarge { limit } => {
                let limit = crate::studio::human_bytes(*limit);
                (
                    (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
                    text!(studio_errors.too_large, limit = limit),
                )
            }
            S::UnsupportedMedia(text) => (
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
                text.clone(),
            ),
            S::Conflict(text) => (CONFLICT, text.clone()),
            S::Payment(_) | S::Storage(_) | S::Io(_) | S::Db(_) => return ApiError::internal(err),
        };
        ApiError::new(answer.0, answer.1, text).because(err)
    }
}

impl From<DealError> for ApiError {
    fn from(err: DealError) -> Self {
        match err {
            DealError::Invalid { field, message } => ApiError::invalid(field, message),
            DealError::Studio(err) => err.into(),
            DealError::Db(err) => err.into(),
        }
    }
}

impl From<PromotionError> for ApiError {
    fn from(err: PromotionError) -> Self {
        match err {
            PromotionError::Invalid { field, message } => ApiError::invalid(field, message),
            PromotionError::Refused(text) => ApiError::new(CONFLICT.0, CONFLICT.1, text),
            PromotionError::Studio(err) => err.into(),
            PromotionError::Db(err) => err.into(),
            PromotionError::Bot(_) | PromotionError::Catalog(_) => ApiError::internal(err),
        }
    }
}

impl From<ReviewError> for ApiError {
    fn from(err: ReviewError) -> Self {
        match err {
            ReviewError::Invalid { field, message } => ApiError::invalid(field, message),
            ReviewError::Refused(text) => ApiError::new(CONFLICT.0, CONFLICT.1, text),
            ReviewError::NotFound => {
                ApiError::new(NOT_FOUND.0, NOT_FOUND.1, text!(errors.not_found))
            }
            ReviewError::Db(err) => err.into(),
        }
    }
}

impl From<LicenseError> for ApiError {
    fn from(err: LicenseError) -> Self {
        match err {
            LicenseError::Invalid { field, message } => ApiError::invalid(field, message),
            LicenseError::NotFound => {
                ApiError::new(NOT_FOUND.0, NOT_FOUND.1, text!(errors.not_found))
            }
            LicenseError::Studio(err) => err.into(),
            LicenseError::Db(err) => err.into(),
        }
    }
}

impl From<SupportError> for ApiError {
    fn from(err: SupportError) -> Self {
        use SupportError as R;
        let err = match err {
            R::Payment(err) => return err.into(),
            other => other,
        };
        let (answer, text) = match &err {
            R::NotFound => (NOT_FOUND, text!(errors.not_found)),
            R::EmptyReply | R::ReplyTooLong => (INVALID, text!(support_studio.reply_invalid)),
            R::Closed => (CONFLICT, text!(errors.request_closed)),
            R::NotRefundable => (CONFLICT, text!(support_studio.not_refundable)),
            R::Payment(_) | R::Bot(_) | R::Db(_) => return ApiError::internal(err),
        };
        ApiError::new(answer.0, answer.1, text).because(err)
    }
}
