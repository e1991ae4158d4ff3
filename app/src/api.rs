//! The contract between the UI and the backend: the types the pages show, the server functions
//! they call, and (on the server) the `Shop` port those functions reach through Leptos context.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a product is; decides how the shop presents and delivers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductKind {
    Ebook,
    Course,
    File,
}

impl ProductKind {
    pub const ALL: [ProductKind; 3] = [ProductKind::Ebook, ProductKind::Course, ProductKind::File];

    /// The stable identifier used in URLs and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductKind::Ebook => "ebook",
            ProductKind::Course => "course",
            ProductKind::File => "file",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProductKind::Ebook => "E-book",
            ProductKind::Course => "Course",
            ProductKind::File => "Files",
        }
    }

    pub fn label_plural(self) -> &'static str {
        match self {
            ProductKind::Ebook => "E-books",
            ProductKind::Course => "Courses",
            ProductKind::File => "Files",
        }
    }
}

impl fmt::Display for ProductKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown product kind {0:?} (expected ebook, course or file)")]
pub struct UnknownKind(pub String);

impl FromStr for ProductKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProductKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// A product as the catalog lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductCard {
    pub slug: String,
    pub title: String,
    pub kind: ProductKind,
    pub price_stars: u32,
    pub creator_name: String,
    pub cover_url: Option<String>,
}

/// A downloadable file anyone may fetch (a free sample).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicFile {
    pub name: String,
    pub url: String,
    pub size_bytes: u64,
}

/// Everything the product page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductPage {
    pub card: ProductCard,
    pub description: String,
    /// The Markdown description rendered and sanitised on the server.
    #[serde(default)]
    pub description_html: String,
    pub sample: Option<PublicFile>,
    /// Total size of what a buyer gets, in bytes.
    pub content_bytes: u64,
    pub content_files: u32,
}

/// A purchase in the buyer's library, with download links that work for a few minutes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LibraryItem {
    pub slug: String,
    pub title: String,
    pub kind: ProductKind,
    pub cover_url: Option<String>,
    pub files: Vec<LibraryFile>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LibraryFile {
    pub name: String,
    pub size_bytes: u64,
    pub url: String,
}

/// A started purchase: the order the server created and the Stars invoice to open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkout {
    pub order_id: String,
    pub invoice_link: String,
    pub amount_stars: u32,
}

/// Where an order stands (see the payment state machine in DESIGN.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderState {
    Pending,
    Paid,
    Refunded,
    Cancelled,
    Expired,
}

/// The signed-in Telegram user, as the Mini App's init data names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub is_premium: bool,
}

#[cfg(feature = "ssr")]
pub use port::*;

#[cfg(feature = "ssr")]
mod port {
    use super::*;
    use std::sync::Arc;

    /// Why the backend could not answer. Users see the message; logs get the cause.
    #[derive(Debug, thiserror::Error)]
    pub enum ShopError {
        #[error("the shop is temporarily unavailable")]
        Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
        /// The request's init data was missing, forged or stale; the message says which.
        #[error("{0}")]
        Unauthorized(String),
        /// A business rule said no (already owned, not on sale, …); the message says why.
        #[error("{0}")]
        Refused(String),
    }

    /// The backend as the pages see it. The server implements it over its database and storage.
    #[async_trait::async_trait]
    pub trait Shop: Send + Sync + 'static {
        /// Published products, newest first, optionally of one kind.
        async fn catalog(&self, kind: Option<ProductKind>) -> Result<Vec<ProductCard>, ShopError>;
        /// A published product by its slug.
        async fn product(&self, slug: &str) -> Result<Option<ProductPage>, ShopError>;
        /// Starts buying `slug` for the signed-in user.
        async fn checkout(
            &self,
            headers: &http::HeaderMap,
            slug: &str,
        ) -> Result<Checkout, ShopError>;
        /// The state of one of the signed-in user's orders.
        async fn order_state(
            &self,
            headers: &http::HeaderMap,
            order_id: &str,
        ) -> Result<OrderState, ShopError>;
        /// The user behind the request's `Authorization: tma <initData>`.
        async fn viewer(&self, headers: &http::HeaderMap) -> Result<Viewer, ShopError>;
        /// That user's purchases.
        async fn library(&self, headers: &http::HeaderMap) -> Result<Vec<LibraryItem>, ShopError>;
    }

    /// How the port travels through Leptos context.
    pub type ShopHandle = Arc<dyn Shop>;

    pub(crate) fn shop() -> Result<ShopHandle, ServerFnError> {
        use_context::<ShopHandle>()
            .ok_or_else(|| ServerFnError::new("the shop backend is not in context"))
    }

    pub(crate) fn to_server_error(err: ShopError) -> ServerFnError {
        let status = match &err {
            ShopError::Unauthorized(_) => Some(http::StatusCode::UNAUTHORIZED),
            ShopError::Refused(_) => Some(http::StatusCode::CONFLICT),
            ShopError::Unavailable(_) => None,
        };
        if let Some(status) = status {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(status);
            }
            return ServerFnError::new(err.to_string());
        }
        let source = std::error::Error::source(&err)
            .map(ToString::to_string)
            .unwrap_or_default();
        leptos::logging::error!("{err}: {source}");
        ServerFnError::new(err.to_string())
    }
}

#[server]
pub async fn list_products(kind: Option<ProductKind>) -> Result<Vec<ProductCard>, ServerFnError> {
    shop()?.catalog(kind).await.map_err(to_server_error)
}

#[server]
pub async fn get_product(slug: String) -> Result<Option<ProductPage>, ServerFnError> {
    shop()?.product(&slug).await.map_err(to_server_error)
}

/// Who the Mini App is signed in as; the same check as every API call.
#[server]
pub async fn whoami() -> Result<Viewer, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?.viewer(&headers).await.map_err(to_server_error)
}

/// Creates an order and its Stars invoice for the signed-in user.
#[server]
pub async fn start_checkout(slug: String) -> Result<Checkout, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .checkout(&headers, &slug)
        .await
        .map_err(to_server_error)
}

/// Polled by the product page after the invoice closes, until the order settles.
#[server]
pub async fn checkout_status(order_id: String) -> Result<OrderState, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?
        .order_state(&headers, &order_id)
        .await
        .map_err(to_server_error)
}

/// The signed-in user's purchases.
#[server]
pub async fn my_library() -> Result<Vec<LibraryItem>, ServerFnError> {
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    shop()?.library(&headers).await.map_err(to_server_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in ProductKind::ALL {
            assert_eq!(kind.as_str().parse::<ProductKind>(), Ok(kind));
        }
        assert_eq!(
            "video".parse::<ProductKind>(),
            Err(UnknownKind("video".into()))
        );
    }
}
