//! The server's implementation of the app's `Shop` port.

use crate::catalog;
use crate::db::Db;
use app::api::{ProductCard, ProductKind, ProductPage, Shop, ShopError};

#[derive(Clone)]
pub struct ShopBackend {
    db: Db,
}

impl ShopBackend {
    pub fn new(db: Db) -> Self {
        Self { db }
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
}
