//! The server's implementation of the app's `Shop` port.

use crate::auth::Authenticator;
use crate::catalog;
use crate::db::Db;
use crate::downloads::{self, Signer};
use crate::error::ApiError;
use crate::telegram::init_data::InitData;
use app::api::{LibraryItem, ProductCard, ProductKind, ProductPage, Shop, ShopError, Viewer};

#[derive(Clone)]
pub struct ShopBackend {
    db: Db,
    auth: Authenticator,
    signer: Signer,
}

impl ShopBackend {
    pub fn new(db: Db, auth: Authenticator, signer: Signer) -> Self {
        Self { db, auth, signer }
    }

    async fn authenticate(&self, headers: &axum::http::HeaderMap) -> Result<InitData, ShopError> {
        match self.auth.authenticate(headers).await {
            Ok(data) => Ok(data),
            Err(ApiError::Unauthorized(err)) => Err(ShopError::Unauthorized(err.to_string())),
            Err(err) => Err(ShopError::Unavailable(Box::new(err))),
        }
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
        Ok(Viewer::from(self.authenticate(headers).await?.user))
    }

    async fn library(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Result<Vec<LibraryItem>, ShopError> {
        let user = self.authenticate(headers).await?.user;
        downloads::library(&self.db, &self.signer, user.id)
            .await
            .map_err(|err| ShopError::Unavailable(Box::new(err)))
    }
}
