//! Orders: made when the buyer taps Buy, each with its own Stars invoice link whose payload is
//! the order's random public id.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use url::Url;

use super::payable;
use super::payload::{Payload, PayloadKind};
use super::pricing::{self, PricedProduct};
use super::{discounts, unix_now, PaymentError, Stars};
use crate::db::Db;
use crate::storage::Storage;
use crate::telegram::bot::Bot;
use app::deals::PriceChoice;

/// How long an unpaid order (and its invoice) stays payable.
pub const ORDER_TTL_SECS: i64 = 60 * 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    Refunded,
    Cancelled,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = PaymentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => OrderStatus::Pending,
            "paid" => OrderStatus::Paid,
            "refunded" => OrderStatus::Refunded,
            "cancelled" => OrderStatus::Cancelled,
            "expired" => OrderStatus::Expired,
            other => return Err(PaymentError::Corrupt(format!("order status {other:?}"))),
        })
    }
}

/// What the Mini App needs to open the payment sheet.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NewOrder {
    pub public_id: String,
    pub invoice_link: String,
    pub amount: Stars,
}

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: i64,
    creator_id: i64,
    min_price_stars: Option<i64>,
    title: String,
    description: String,
    price_stars: i64,
    status: String,
    cover_key: Option<String>,
    billing: String,
}

/// Creates a pending order for `buyer` at today's price and its Stars invoice link.
///
/// A buyer who taps Buy again while an earlier order for the same product and price is still
/// pending gets that order back, so one sheet at a time can be paid; concurrent Buys get the
/// same order and one invoice link.
/// `public_base` is the shop's public URL, used for the invoice photo (the product cover).
pub async fn create_order(
    db: &Db,
    bot: &Bot,
    buyer: i64,
    slug: &str,
    public_base: Option<&Url>,
) -> Result<NewOrder, PaymentError> {
    create_priced_order(
        db,
        bot,
        buyer,
        slug,
        &PriceChoice::default(),
        u32::MAX,
        public_base,
        unix_now(),
    )
    .await
}

/// [`create_order`] with the buyer's discount code or pay-what-you-want amount (`choice`, priced
/// by [`pricing::price`]; `max_stars` caps the amount). An order made with a code holds one use
/// of it until it is paid (kept) or expires or is cancelled (given back). `now` is the shop's
/// clock: the order's hour to be paid, and whether a membership still runs, are judged by it
/// (as pre-checkout judges them).
#[allow(clippy::too_many_arguments)]
pub async fn create_priced_order(
    db: &Db,
    bot: &Bot,
    buyer: i64,
    slug: &str,
    choice: &PriceChoice,
    max_stars: u32,
    public_base: Option<&Url>,
    now: i64,
) -> Result<NewOrder, PaymentError> {
    let product: ProductRow = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT id, creator_id, min_price_stars, title, description, price_stars, status, cover_key, billing
         FROM products WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await)?
    .filter(|p: &ProductRow| p.status == "published")
    .ok_or_else(|| PaymentError::NotOnSale(slug.to_owned()))?;
    let priced = pricing::price(
        db,
        &PricedProduct {
            id: product.id,
            creator_id: product.creator_id,
            price_stars: product.price_stars,
            min_price_stars: product.min_price_stars,
        },
        buyer,
        choice,
        max_stars,
        now,
        pricing::Purpose::Order,
    )
    .await?;
    let amount = priced.charged;
    let code_id = priced.code.as_ref().map(|c| c.id);
    let membership = product.billing == super::memberships::Billing::Monthly.as_str();
    if membership && choice.gift {
        // A membership renews from the payer's own Stars each month: it cannot be handed on.
        return Err(PaymentError::NotGiftable);
    }
    if membership && amount.get() > super::memberships::MAX_PRICE_STARS {
        // Telegram refuses such a subscription invoice; the studio does not let it be set.
        return Err(PaymentError::InvalidAmount(amount.as_i64()));
    }

    let (known, owned): (bool, bool) = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1),
                EXISTS (SELECT 1 FROM entitlements
                        WHERE user_id = $1 AND product_id = $2 AND revoked_at IS NULL
                          AND (expires_at IS NULL OR expires_at > $3))",
    )
    .bind(buyer)
    .bind(product.id)
    .bind(now)
    .fetch_one(pool)
    .await)?;
    if !known {
        return Err(PaymentError::UnknownBuyer(buyer));
    }
    // A buyer may give what they own.
    if !choice.gift && (owned || priced.credit.owns_all()) {
        return Err(PaymentError::AlreadyOwned);
    }

    let offer = Offer {
        buyer,
        product_id: product.id,
        amount: amount.as_i64(),
        code_id,
        gift: choice.gift,
    };
    let payload = Payload::new(PayloadKind::Order);
    let public_id = payload.as_str().to_owned();
    // One live order per buyer, product, amount, code and gift or not, and one held use per buyer and code:
    // both are unique indexes on pending orders, so of concurrent Buys one inserts and the others
    // wait for its invoice link instead of asking Telegram for their own.
    let waiting_since = std::time::Instant::now();
    let order_id = loop {
        if let Some((public_id, invoice_link)) = live_order(db, &offer, now).await? {
            return Ok(NewOrder {
                public_id,
                invoice_link,
                amount,
            });
        }
        if let Some(order_id) = insert_order(db, &offer, &priced, &public_id, now).await? {
            break order_id;
        }
        if waiting_since.elapsed() >= LINK_WAIT {
            return Err(PaymentError::CheckoutInProgress);
        }
        tokio::time::sleep(LINK_POLL).await;
    };

    let photo = photo_url(public_base, product.cover_key.as_deref());
    let invoice_link = payable::open_invoice(
        db,
        bot,
        &payload,
        order_id,
        amount.as_i64(),
        payable::InvoiceText {
            title: &product.title,
            description: &product.description,
            photo_url: photo.as_ref().map(Url::as_str),
            subscription_period: membership.then_some(super::memberships::PERIOD_SECS),
        },
    )
    .await?;
    Ok(NewOrder {
        public_id,
        invoice_link,
        amount,
    })
}

/// How long a buyer's last touch through a creator's link brings that creator's sales:
/// "last-touch attribution for 30 days" (the touches are `promotion`'s).
pub const ATTRIBUTION_SECS: i64 = 30 * 86_400;

/// How long a Buy waits for the invoice link of the same order being made by a concurrent Buy,
/// and how often it looks.
const LINK_WAIT: Duration = Duration::from_secs(20);
const LINK_POLL: Duration = Duration::from_millis(50);

/// A pending order left without an invoice link this long was abandoned mid-way (the server was
/// killed, or the request timed out, during `createInvoiceLink`): it no longer holds the buyer's
/// place. A Buy is a request, and no request outlives the request timeout (`REQUEST_TIMEOUT_SECS`,
/// 30 s by default), which drops it mid-call; a few seconds on top cover the clocks of replicas.
/// Waiting longer only locks the buyer out of the product after a crash.
const ABANDONED_AFTER_SECS: i64 = 35;

/// An order to be: what makes two Buys the same one.
struct Offer {
    buyer: i64,
    product_id: i64,
    amount: i64,
    code_id: Option<i64>,
    gift: bool,
}

/// The buyer's pending order for this offer whose invoice is ready and still has five minutes to
/// be paid.
async fn live_order(
    db: &Db,
    offer: &Offer,
    now: i64,
) -> Result<Option<(String, String)>, PaymentError> {
    Ok(crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT public_id, invoice_link FROM orders
         WHERE user_id = $1 AND product_id = $2 AND status = 'pending' AND amount_stars = $3
           AND COALESCE(discount_code_id, 0) = COALESCE($5, 0) AND gift = $6
           AND invoice_link IS NOT NULL AND expires_at > $4 + 300",
    )
    .bind(offer.buyer)
    .bind(offer.product_id)
    .bind(offer.amount)
    .bind(now)
    .bind(offer.code_id)
    .bind(offer.gift)
    .fetch_optional(pool)
    .await)?)
}

/// Inserts the pending order with its code's use, first retiring the buyer's pending order for
/// the same offer that can no longer be handed out (too close to its end, or abandoned without a
/// link). `None` when a pending order for this offer exists (another Buy is making it).
async fn insert_order(
    db: &Db,
    offer: &Offer,
    priced: &pricing::Priced,
    public_id: &str,
    now: i64,
) -> Result<Option<i64>, PaymentError> {
    crate::on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        let retired: Vec<Option<i64>> = sqlx::query_scalar(
            "UPDATE orders SET status = 'expired'
             WHERE user_id = $1 AND product_id = $2 AND status = 'pending' AND amount_stars = $3
               AND COALESCE(discount_code_id, 0) = COALESCE($5, 0) AND gift = $7
               AND (expires_at <= $4 + 300
                    OR (invoice_link IS NULL AND created_at <= $4 - $6))
             RETURNING discount_code_id",
        )
        .bind(offer.buyer)
        .bind(offer.product_id)
        .bind(offer.amount)
        .bind(now)
        .bind(offer.code_id)
        .bind(ABANDONED_AFTER_SECS)
        .bind(offer.gift)
        .fetch_all(&mut *tx)
        .await?;
        discounts::release(&mut tx, &retired).await?;
        if let Some(code_id) = offer.code_id {
            discounts::give_up_held(
                &mut tx,
                code_id,
                offer.buyer,
                offer.product_id,
                offer.amount,
            )
            .await?;
        }
        let order_id: Option<i64> = sqlx::query_scalar(
            // The buyer's last touch through a link of this product's creator, within the
            // attribution window, is the order's (`promotion`).
            "INSERT INTO orders (public_id, user_id, product_id, amount_stars, status, created_at,
                             expires_at, list_price_stars, discount_code_id, promo_link_id, gift)
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8,
                     (SELECT t.link_id FROM promo_touches t
                      JOIN products p ON p.creator_id = t.creator_id
                      WHERE t.user_id = $2 AND p.id = $3 AND t.touched_at >= $5 - $9), $10)
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(public_id)
        .bind(offer.buyer)
        .bind(offer.product_id)
        .bind(offer.amount)
        .bind(now)
        .bind(now + ORDER_TTL_SECS)
        .bind(priced.list.as_i64())
        .bind(offer.code_id)
        .bind(ATTRIBUTION_SECS)
        .bind(offer.gift)
        .fetch_optional(&mut *tx)
        .await?;
        // The code's use and the order that holds it are written together; the use is taken
        // only by the Buy that made the order, so a concurrent Buy of the same offer waits for
        // that order instead of being refused the code's last use.
        if let (Some(_), Some(code)) = (order_id, &priced.code) {
            discounts::reserve(&mut tx, code, offer.product_id, now).await?;
        }
        match order_id {
            Some(_) => tx.commit().await?,
            // What was retired or given up above stays as it was.
            None => tx.rollback().await?,
        }
        Ok::<_, PaymentError>(order_id)
    })
}

fn photo_url(base: Option<&Url>, cover_key: Option<&str>) -> Option<Url> {
    let path = Storage::public_url(cover_key?);
    base?.join(path.trim_start_matches('/')).ok()
}

/// The status of one of `buyer`'s orders; another buyer's order is "not found", never revealed.
pub async fn order_status(
    db: &Db,
    buyer: i64,
    public_id: &str,
) -> Result<OrderStatus, PaymentError> {
    let status: String = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT status FROM orders WHERE public_id = $1 AND user_id = $2"
    )
    .bind(public_id)
    .bind(buyer)
    .fetch_optional(pool)
    .await)?
    .ok_or(PaymentError::OrderNotFound)?;
    status.parse()
}

/// Moves pending orders (and tips) older than `max_age` to `expired`, giving back the discount
/// code uses the orders held; returns how many orders.
pub async fn expire_stale(db: &Db, max_age: Duration) -> Result<u64, PaymentError> {
    let age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    let cutoff = unix_now().saturating_sub(age);
    let expired: Vec<Option<i64>> = crate::on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        // Each order changes state once (the WHERE is re-checked under the row's lock), so each use
        // is given back once, however many replicas expire at the same time.
        let expired: Vec<Option<i64>> = sqlx::query_scalar(
            "UPDATE orders SET status = 'expired' WHERE status = 'pending' AND created_at <= $1
         RETURNING discount_code_id",
        )
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        discounts::release(&mut tx, &expired).await?;
        // Tips left unpaid stop being payable the same way.
        sqlx::query(
            "UPDATE tips SET status = 'expired' WHERE status = 'pending' AND created_at <= $1",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(expired)
    })?;
    Ok(u64::try_from(expired.len()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cover_becomes_an_absolute_photo_url() {
        let base = Url::parse("https://shop.example/").unwrap();
        assert_eq!(
            photo_url(Some(&base), Some("covers/a.svg"))
                .unwrap()
                .as_str(),
            "https://shop.example/media/covers/a.svg"
        );
        assert!(photo_url(None, Some("covers/a.svg")).is_none());
        assert!(photo_url(Some(&base), None).is_none());
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["pending", "paid", "refunded", "cancelled", "expired"] {
            assert_eq!(s.parse::<OrderStatus>().unwrap().as_str(), s);
        }
        assert!("lost".parse::<OrderStatus>().is_err());
    }
}
