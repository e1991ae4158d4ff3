//! The creator studio's backend: who may use it (`roles`), products and lessons (`products`),
//! streamed uploads (`uploads`), Markdown (`markdown`), the sales dashboard (`sales`, `chart`),
//! supporters' tips (paid through `payments::tips`), and its HTTP surface (`routes`).

pub mod chart;
pub mod covers;
pub mod discounts;
pub mod markdown;
pub mod products;
pub mod roles;
pub mod sales;
pub mod uploads;

pub use roles::Caller;

use app::texts::Text;

/// The studio's limits, from configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StudioConfig {
    pub max_price_stars: u32,
    pub max_upload_bytes: u64,
}

impl Default for StudioConfig {
    fn default() -> Self {
        Self {
            max_price_stars: crate::config::DEFAULT_MAX_PRICE_STARS,
            max_upload_bytes: crate::config::DEFAULT_MAX_UPLOAD_BYTES,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StudioError {
    /// Not a creator (or not this product's creator); the message says what to do.
    #[error("{0}")]
    Forbidden(Text),
    #[error("not found")]
    NotFound,
    /// Input the studio cannot take; the message says why.
    #[error("{0}")]
    Invalid(Text),
    #[error("the file is larger than the limit of {} ({limit} bytes)", human_bytes(*limit))]
    TooLarge { limit: u64 },
    #[error("{0}")]
    UnsupportedMedia(Text),
    /// The product's state does not allow it (publishing an empty product, …).
    #[error("{0}")]
    Conflict(Text),
    #[error("storage error")]
    Storage(#[from] crate::storage::StorageError),
    #[error("file I/O failed")]
    Io(#[from] std::io::Error),
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Payment(#[from] crate::payments::PaymentError),
}

impl From<crate::payments::tips::TipError> for StudioError {
    fn from(err: crate::payments::tips::TipError) -> Self {
        use crate::payments::tips::TipError;
        match err {
            TipError::Invalid(message) => StudioError::Invalid(message),
            TipError::NotFound => StudioError::NotFound,
            TipError::Payment(err) => StudioError::Payment(err),
        }
    }
}

pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if value.fract() == 0.0 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn limits_read_like_people_write_them() {
        assert_eq!(super::human_bytes(2 * 1024 * 1024 * 1024), "2 GiB");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(100), "100 B");
    }
}
