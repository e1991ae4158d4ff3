//! The server's implementation of the app's `Shop` port.

use crate::auth::Authenticator;
use crate::catalog;
use crate::db::Db;
use crate::error::ApiError;
use app::api::{ProductCard, ProductKind, ProductPage, Shop, ShopError, Viewer};

#[derive(Clone)]
pub struct ShopBackend {
    db: Db,
    auth: Authenticator,
}

impl ShopBackend {
    pub fn new(db: Db, auth: Authenticator) -> Self {
        Self { db, auth }
    }
}

fn unavailable(err: catalog::CatalogError) -> ShopError {
    tracing::error!(error = ?err, "catalog query failed");
    ShopError::Unavailable(Box::new(err))
}

#[async_trait::async_trait]
impl Shop for ShopBackend {
    async fn catalog(&self, kind: Option<ProductKind>) -> Result<Vec<ProductCard>, ShopError> {
        catalog::list_published(&self.db, kind)
            .await
            .map_err(unavailable)
    }

    async fn product(&self, slug: &str) -> Result<Option<ProductPage>, ShopError> {
        catalog::published_product(&self.db, slug)
            .await
            .map_err(unavailable)
    }

    async fn viewer(&self, headers: &axum::http::HeaderMap) -> Result<Viewer, ShopError> {
        match self.auth.authenticate(headers).await {
            Ok(data) => Ok(Viewer::from(data.user)),
            Err(ApiError::Unauthorized(err)) => Err(ShopError::Unauthorized(err.to_string())),
            Err(err) => Err(ShopError::Unavailable(Box::new(err))),
        }
    }
}
