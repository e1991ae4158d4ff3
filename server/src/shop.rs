//! The server's implementation of the app's `Shop` port.

use crate::auth::Authenticator;
use crate::catalog;
use crate::db::Db;
use crate::downloads::{self, Signer};
use crate::error::ApiError;
use crate::payments::{self, OrderStatus, PaymentError};
use crate::telegram::bot::Bot;
use crate::telegram::init_data::InitData;
use app::api::{
    Checkout, LibraryItem, OrderState, ProductCard, ProductKind, ProductPage, Shop, ShopError,
    Viewer,
};
use url::Url;

#[derive(Clone)]
pub struct ShopBackend {
    db: Db,
    auth: Authenticator,
    signer: Signer,
    /// Present when a bot is configured: without one there is no one to create invoices.
    payments: Option<(Bot, Option<Url>)>,
}

impl ShopBackend {
    pub fn new(db: Db, auth: Authenticator, signer: Signer) -> Self {
        Self {
            db,
            auth,
            signer,
            payments: None,
        }
    }

    /// Lets buyers check out through `bot`; `public_base` is the shop's public URL (covers on
    /// invoices).
    pub fn with_payments(mut self, bot: Bot, public_base: Option<Url>) -> Self {
        self.payments = Some((bot, public_base));
        self
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

    async fn checkout(
        &self,
        headers: &axum::http::HeaderMap,
        slug: &str,
    ) -> Result<Checkout, ShopError> {
        let buyer = self.authenticate(headers).await?.user.id;
        let Some((bot, public_base)) = &self.payments else {
            return Err(ShopError::Refused(
                "Payments are not set up on this shop yet.".into(),
            ));
        };
        let order = payments::create_order(&self.db, bot, buyer, slug, public_base.as_ref())
            .await
            .map_err(refusal)?;
        Ok(Checkout {
            order_id: order.public_id,
            invoice_link: order.invoice_link,
            amount_stars: order.amount.get(),
        })
    }

    async fn order_state(
        &self,
        headers: &axum::http::HeaderMap,
        order_id: &str,
    ) -> Result<OrderState, ShopError> {
        let buyer = self.authenticate(headers).await?.user.id;
        let status = payments::order_status(&self.db, buyer, order_id)
            .await
            .map_err(refusal)?;
        Ok(match status {
            OrderStatus::Pending => OrderState::Pending,
            OrderStatus::Paid => OrderState::Paid,
            OrderStatus::Refunded => OrderState::Refunded,
            OrderStatus::Cancelled => OrderState::Cancelled,
            OrderStatus::Expired => OrderState::Expired,
        })
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

/// Business refusals become messages for the buyer; everything else is "unavailable".
fn refusal(err: PaymentError) -> ShopError {
    match err {
        PaymentError::AlreadyOwned => {
            ShopError::Refused("You already own this product. Find it in your library.".into())
        }
        PaymentError::NotOnSale(_) => {
            ShopError::Refused("This product is no longer on sale.".into())
        }
        PaymentError::OrderNotFound => ShopError::Refused("No such order.".into()),
        other => {
            tracing::error!(error = %other, "checkout failed");
            ShopError::Unavailable(Box::new(other))
        }
    }
}
