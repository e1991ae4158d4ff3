//! The server's implementation of the app's `Shop` port.

use crate::auth::{AuthError, Authenticator};
use crate::catalog;
use crate::clock::Clock;
use crate::courses;
use crate::db::Db;
use crate::downloads::Signer;
use crate::error::ApiError;
use crate::payments::gifts::{self, GiftRefusal};
use crate::payments::memberships::{self, RenewalError};
use crate::payments::{self, OrderStatus, PaymentError};
use crate::promotion;
use crate::reviews;
use crate::storage::Storage;
use crate::telegram::bot::Bot;
use crate::telegram::init_data::InitData;
use crate::telegram::links::{Links, Place};
use crate::telegram::share;
use app::api::{
    CatalogPage, CatalogQuery, Checkout, CourseView, GiftView, LessonView, LibraryItem, Membership,
    MyReview, OrderState, ProductPage, SentGift, Share, Shop, ShopError, Viewer,
};
use app::deals::{PriceChoice, Quote};
use app::i18n::Locale;
use app::text;
use app::texts::request_locale;
use axum::http::HeaderMap;
use url::Url;

#[derive(Clone)]
pub struct ShopBackend {
    db: Db,
    auth: Authenticator,
    signer: Signer,
    /// Present when a bot is configured: without one there is no one to create invoices.
    payments: Option<(Bot, Option<Url>)>,
    /// Links into the Mini App, for sharing; present with a bot.
    links: Option<Links>,
    catalog_page_size: u32,
    /// Now for memberships' access (advanceable in the dev preview and tests).
    clock: Clock,
    /// The most a buyer may pay for a pay-what-you-want product (`MAX_PRICE_STARS`).
    max_price_stars: u32,
}

impl ShopBackend {
    pub fn new(db: Db, auth: Authenticator, signer: Signer) -> Self {
        Self {
            db,
            auth,
            signer,
            payments: None,
            links: None,
            catalog_page_size: 24,
            clock: Clock::default(),
            max_price_stars: crate::config::DEFAULT_MAX_PRICE_STARS,
        }
    }

    /// The clock memberships' access is judged by (shared with the dev preview's emulator).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The most a buyer may pay for a pay-what-you-want product.
    pub fn with_max_price_stars(mut self, max: u32) -> Self {
        self.max_price_stars = max;
        self
    }

    /// Products per catalog page (`CATALOG_PAGE_SIZE`).
    pub fn with_catalog_page_size(mut self, size: u32) -> Self {
        self.catalog_page_size = size.max(1);
        self
    }

    /// Lets buyers check out through `bot`; `public_base` is the shop's public URL (covers on
    /// invoices).
    pub fn with_payments(mut self, bot: Bot, public_base: Option<Url>) -> Self {
        self.payments = Some((bot, public_base));
        self
    }

    /// Lets users share products through the bot's links and prepared messages.
    pub fn with_links(mut self, links: Links) -> Self {
        self.links = Some(links);
        self
    }

    async fn authenticate(&self, headers: &HeaderMap) -> Result<InitData, ShopError> {
        match self.auth.authenticate(headers).await {
            Ok(data) => Ok(data),
            Err(AuthError::InitData(err)) => Err(ShopError::Unauthorized(format!(
                "{} ({err})",
                text!(errors.unauthorized).in_locale(request_locale(headers, None))
            ))),
            Err(err) => Err(ShopError::Unavailable(Box::new(err))),
        }
    }

    /// The signed-in user when the request carries init data, nobody when it carries none;
    /// forged or stale init data is still refused.
    async fn maybe_authenticate(&self, headers: &HeaderMap) -> Result<Option<InitData>, ShopError> {
        if headers.contains_key(axum::http::header::AUTHORIZATION) {
            self.authenticate(headers).await.map(Some)
        } else {
            Ok(None)
        }
    }
}

/// The language to answer this user in.
fn locale(headers: &HeaderMap, user: Option<&InitData>) -> Locale {
    request_locale(headers, user.and_then(|u| u.user.language_code.as_deref()))
}

fn unavailable(err: catalog::CatalogError) -> ShopError {
    tracing::error!(error = ?err, "catalog query failed");
    ShopError::Unavailable(Box::new(err))
}

#[async_trait::async_trait]
impl Shop for ShopBackend {
    async fn catalog(&self, query: CatalogQuery) -> Result<CatalogPage, ShopError> {
        catalog::list_published(&self.db, &query, self.catalog_page_size)
            .await
            .map_err(unavailable)
    }

    async fn product(&self, slug: &str) -> Result<Option<ProductPage>, ShopError> {
        catalog::published_product(&self.db, slug)
            .await
            .map_err(unavailable)
    }

    async fn viewer(&self, headers: &HeaderMap) -> Result<Viewer, ShopError> {
        Ok(Viewer::from(self.authenticate(headers).await?.user))
    }

    async fn checkout(&self, headers: &HeaderMap, slug: &str) -> Result<Checkout, ShopError> {
        self.checkout_with(headers, slug, PriceChoice::default())
            .await
    }

    async fn checkout_with(
        &self,
        headers: &HeaderMap,
        slug: &str,
        choice: PriceChoice,
    ) -> Result<Checkout, ShopError> {
        let init = self.authenticate(headers).await?;
        let locale = locale(headers, Some(&init));
        let Some((bot, public_base)) = &self.payments else {
            return Err(ShopError::Refused(
                text!(errors.no_payments).in_locale(locale),
            ));
        };
        let order = payments::create_priced_order(
            &self.db,
            bot,
            init.user.id,
            slug,
            &choice,
            self.max_price_stars,
            public_base.as_ref(),
            self.clock.now(),
        )
        .await
        .map_err(|err| refused(err, locale))?;
        Ok(Checkout {
            order_id: order.public_id,
            invoice_link: order.invoice_link,
            amount_stars: order.amount.get(),
        })
    }

    async fn quote(
        &self,
        headers: &HeaderMap,
        slug: &str,
        choice: PriceChoice,
    ) -> Result<Quote, ShopError> {
        // Only for a signed-in buyer: the quote tells which codes work, so it is not for crawlers.
        let viewer = self.authenticate(headers).await?;
        let buyer = viewer.user.id;
        let viewer = Some(viewer);
        payments::pricing::quote(
            &self.db,
            slug,
            buyer,
            &choice,
            self.max_price_stars,
            clock::unix_now(),
        )
        .await
        .map_err(|err| refused(err, locale(headers, viewer.as_ref())))
    }

    async fn order_state(
        &self,
        headers: &HeaderMap,
        order_id: &str,
    ) -> Result<OrderState, ShopError> {
        let init = self.authenticate(headers).await?;
        let status = payments::order_status(&self.db, init.user.id, order_id)
            .await
            .map_err(|err| refused(err, locale(headers, Some(&init))))?;
        Ok(match status {
            OrderStatus::Pending => OrderState::Pending,
            OrderStatus::Paid => OrderState::Paid,
            OrderStatus::Refunded => OrderState::Refunded,
            OrderStatus::Cancelled => OrderState::Cancelled,
            OrderStatus::Expired => OrderState::Expired,
        })
    }

    async fn library(&self, headers: &HeaderMap) -> Result<Vec<LibraryItem>, ShopError> {
        let user = self.authenticate(headers).await?.user;
        crate::library::library(&self.db, &self.signer, user.id, self.clock.now())
            .await
            .map_err(|err| ShopError::Unavailable(Box::new(err)))
    }

    async fn course(
        &self,
        headers: &HeaderMap,
        slug: &str,
    ) -> Result<Option<CourseView>, ShopError> {
        let viewer = self.maybe_authenticate(headers).await?;
        let viewer_id = viewer.as_ref().map(|v| v.user.id);
        courses::outline(&self.db, slug, viewer_id, self.clock.now())
            .await
            .map_err(|err| refused(err, locale(headers, viewer.as_ref())))
    }

    async fn lesson(
        &self,
        headers: &HeaderMap,
        slug: &str,
        lesson_id: i64,
    ) -> Result<LessonView, ShopError> {
        let viewer = self.maybe_authenticate(headers).await?;
        courses::open_lesson(
            &self.db,
            &self.signer,
            slug,
            lesson_id,
            viewer.as_ref().map(|v| v.user.id),
            self.clock.now(),
        )
        .await
        .map_err(|err| refused(err, locale(headers, viewer.as_ref())))
    }

    async fn complete_lesson(
        &self,
        headers: &HeaderMap,
        slug: &str,
        lesson_id: i64,
    ) -> Result<(), ShopError> {
        let init = self.authenticate(headers).await?;
        courses::complete(&self.db, slug, lesson_id, init.user.id, self.clock.now())
            .await
            .map_err(|err| refused(err, locale(headers, Some(&init))))
    }

    async fn save_video_position(
        &self,
        headers: &HeaderMap,
        slug: &str,
        lesson_id: i64,
        seconds: u32,
    ) -> Result<(), ShopError> {
        let init = self.authenticate(headers).await?;
        courses::save_video_position(
            &self.db,
            slug,
            lesson_id,
            init.user.id,
            seconds,
            self.clock.now(),
        )
        .await
        .map_err(|err| refused(err, locale(headers, Some(&init))))
    }

    async fn set_membership_renewal(
        &self,
        headers: &HeaderMap,
        slug: &str,
        renew: bool,
    ) -> Result<Membership, ShopError> {
        let init = self.authenticate(headers).await?;
        let locale = locale(headers, Some(&init));
        let Some((bot, _)) = &self.payments else {
            return Err(ShopError::Refused(
                text!(errors.no_payments).in_locale(locale),
            ));
        };
        let state =
            memberships::set_renewal(&self.db, bot, init.user.id, slug, renew, self.clock.now())
                .await
                .map_err(|err| match err {
                    RenewalError::NotMember => {
                        ShopError::Refused(text!(errors.not_member).in_locale(locale))
                    }
                    RenewalError::Ended => {
                        ShopError::Refused(text!(errors.membership_ended).in_locale(locale))
                    }
                    RenewalError::Payment(err) => refused(err, locale),
                })?;
        Ok(Membership {
            expires_at: state.expires_at,
            canceled: state.canceled,
            reenable_in_telegram: state.reenable_in_telegram,
        })
    }

    async fn share(&self, headers: &HeaderMap, slug: &str) -> Result<Share, ShopError> {
        let init = self.authenticate(headers).await?;
        let locale = locale(headers, Some(&init));
        let (Some((bot, _)), Some(links)) = (&self.payments, &self.links) else {
            return Err(ShopError::Refused(
                text!(errors.no_sharing).in_locale(locale),
            ));
        };
        let Some(page) = catalog::published_product(&self.db, slug)
            .await
            .map_err(unavailable)?
        else {
            return Err(ShopError::Refused(
                text!(errors.not_on_sale).in_locale(locale),
            ));
        };
        let prepared = share::prepare(bot, links, init.user.id, locale, &page.card).await;
        Ok(Share {
            prepared_message_id: prepared.message_id,
            link: prepared.link,
            title: page.card.title,
        })
    }

    async fn follow_link(&self, headers: &HeaderMap) -> Result<Option<String>, ShopError> {
        let init = self.authenticate(headers).await?;
        let Some(code) = init.start_param.as_deref().and_then(promotion::code_of) else {
            return Ok(None);
        };
        let landing = promotion::record_visit(&self.db, code, init.user.id, init.auth_date)
            .await
            .map_err(|err| ShopError::Unavailable(Box::new(err)))?;
        Ok(landing.map(|slug| match slug {
            Some(slug) => format!("/p/{slug}"),
            None => "/".to_owned(),
        }))
    }

    async fn my_review(&self, headers: &HeaderMap, slug: &str) -> Result<MyReview, ShopError> {
        let init = self.authenticate(headers).await?;
        reviews::mine(&self.db, init.user.id, slug)
            .await
            .map_err(|err| refused(err, locale(headers, Some(&init))))
    }

    async fn gift(&self, headers: &HeaderMap, code: &str) -> Result<GiftView, ShopError> {
        let init = self.authenticate(headers).await?;
        let locale = locale(headers, Some(&init));
        let gift = gifts::find(&self.db, code)
            .await
            .map_err(|err| refused(err, locale))?
            .ok_or_else(|| refused(PaymentError::from(GiftRefusal::NotFound), locale))?;
        Ok(gift_view(gift, init.user.id))
    }

    async fn claim_gift(&self, headers: &HeaderMap, code: &str) -> Result<GiftView, ShopError> {
        let init = self.authenticate(headers).await?;
        let gift = gifts::claim(&self.db, code, init.user.id, self.clock.now())
            .await
            .map_err(|err| refused(err, locale(headers, Some(&init))))?;
        Ok(gift_view(gift, init.user.id))
    }

    async fn sent_gifts(&self, headers: &HeaderMap) -> Result<Vec<SentGift>, ShopError> {
        let init = self.authenticate(headers).await?;
        let rows = gifts::sent_by(&self.db, init.user.id)
            .await
            .map_err(|err| refused(err, locale(headers, Some(&init))))?;
        let mut sent = Vec::with_capacity(rows.len());
        for row in rows {
            let link = match &self.links {
                Some(links) => links.open(Place::Gift(&row.code)).await,
                None => None,
            };
            sent.push(SentGift {
                link,
                code: row.code,
                title: row.title,
                claimed_by: row.claimed_by,
                cancelled: row.cancelled,
            });
        }
        Ok(sent)
    }

    async fn write_review(
        &self,
        headers: &HeaderMap,
        slug: &str,
        rating: u8,
        body: String,
    ) -> Result<MyReview, ShopError> {
        let init = self.authenticate(headers).await?;
        reviews::write(
            &self.db,
            init.user.id,
            slug,
            rating,
            &body,
            clock::unix_now(),
        )
        .await
        .map_err(|err| refused(err, locale(headers, Some(&init))))
    }
}

fn gift_view(gift: gifts::Gift, viewer: i64) -> GiftView {
    GiftView {
        state: gift.state_for(viewer),
        code: gift.code,
        slug: gift.slug,
        title: gift.title,
        cover_url: gift.cover_key.as_deref().map(Storage::public_url),
        from: gift.from,
    }
}

/// A domain refusal as a page shows it: the one mapping of domain errors (`http/errors.rs`),
/// in the reader's language.
fn refused(err: impl Into<ApiError>, locale: Locale) -> ShopError {
    err.into().for_page(locale)
}
