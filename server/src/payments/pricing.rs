//! What an order costs: the list price, a discount code, or the buyer's own amount for a
//! pay-what-you-want product. The same function prices the quote on the product page and the
//! order itself, so the buyer is shown what the invoice will ask.

use app::deals::{PriceChoice, Quote, Refusal};

use super::discounts::{self, CodeRow};
use super::{PaymentError, Stars};
use crate::db::Db;

/// What pricing needs of a product.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PricedProduct {
    pub id: i64,
    pub creator_id: i64,
    pub price_stars: i64,
    pub min_price_stars: Option<i64>,
}

/// A price worked out for one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priced {
    /// The product's price (for pay-what-you-want, the suggested amount).
    pub list: Stars,
    /// What the invoice asks.
    pub charged: Stars,
    /// The code that lowered it; its use is not taken yet.
    pub code: Option<CodeRow>,
    /// For a bundle: what the buyer already paid for the parts they own, taken off the price
    /// (which stays at least 1 Star), and how many parts they own.
    pub credit: BundleCredit,
}

/// What a buyer's owned parts take off a bundle's price.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BundleCredit {
    pub stars: u32,
    pub owned_parts: u32,
    /// The bundle's parts; 0 for a product that is not a bundle.
    pub parts: u32,
}

impl BundleCredit {
    /// The buyer owns every part: the bundle has nothing left to give them.
    pub fn owns_all(self) -> bool {
        self.parts > 0 && self.owned_parts == self.parts
    }
}

impl BundleCredit {
    fn apply(self, price: Stars) -> Stars {
        Stars::new(price.get().saturating_sub(self.stars).max(1)).unwrap_or(price)
    }
}

/// What `buyer` paid, by orders of the parts themselves still paid and granting them, for the
/// parts of bundle `bundle_id` they own; nothing for a product that is not a bundle. A part
/// owned through another bundle counts as owned but brings no credit: what was paid for it
/// alone is not known.
pub async fn bundle_credit(
    db: &Db,
    bundle_id: i64,
    buyer: i64,
    now: i64,
) -> Result<BundleCredit, sqlx::Error> {
    let (stars, owned, parts): (i64, i64, i64) = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN o.product_id = bi.product_id AND o.status = 'paid'
                                            AND NOT o.gift
                                       THEN o.amount_stars ELSE 0 END), 0) AS BIGINT),
                COUNT(e.id),
                (SELECT COUNT(*) FROM bundle_items WHERE bundle_id = $1)
         FROM bundle_items bi
         JOIN entitlements e ON e.user_id = $2 AND e.product_id = bi.product_id
                            AND e.revoked_at IS NULL
                            AND (e.expires_at IS NULL OR e.expires_at > $3)
         LEFT JOIN orders o ON o.id = e.order_id
         WHERE bi.bundle_id = $1",
    )
    .bind(bundle_id)
    .bind(buyer)
    .bind(now)
    .fetch_one(pool)
    .await)?;
    Ok(BundleCredit {
        stars: u32::try_from(stars).unwrap_or(u32::MAX),
        owned_parts: u32::try_from(owned).unwrap_or(0),
        parts: u32::try_from(parts).unwrap_or(0),
    })
}

/// How a price is used: shown as a quote, or charged by an order (which takes the code's use
/// itself, atomically, so the limit is not judged from a read here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Quote,
    Order,
}

/// Prices `product` for `buyer`'s `choice` at `now`. `max_stars` caps a pay-what-you-want
/// amount; a bundle costs the buyer less what they paid for the parts they own (unless it is
/// a gift).
pub async fn price(
    db: &Db,
    product: &PricedProduct,
    buyer: i64,
    choice: &PriceChoice,
    max_stars: u32,
    now: i64,
    purpose: Purpose,
) -> Result<Priced, PaymentError> {
    let mut priced = price_for_anyone(db, product, choice, max_stars, now, purpose).await?;
    // A gift is for somebody else: what the payer owns takes nothing off.
    if !choice.gift {
        priced.credit = bundle_credit(db, product.id, buyer, now).await?;
    }
    priced.charged = priced.credit.apply(priced.charged);
    Ok(priced)
}

async fn price_for_anyone(
    db: &Db,
    product: &PricedProduct,
    choice: &PriceChoice,
    max_stars: u32,
    now: i64,
    purpose: Purpose,
) -> Result<Priced, PaymentError> {
    let list = Stars::from_i64(product.price_stars)?;
    let code = choice
        .code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    match product.min_price_stars {
        Some(min) => {
            if code.is_some() {
                return Err(Refusal::NotForPayWhatYouWant.into());
            }
            let min = Stars::from_i64(min)?;
            let charged = match choice.amount_stars {
                // The suggested amount, unless the price was lowered below the minimum since.
                None => list.max(min),
                Some(amount) => pay_what_you_want(amount, min, max_stars)?,
            };
            Ok(Priced {
                list,
                charged,
                code: None,
                credit: BundleCredit::default(),
            })
        }
        None => {
            if choice.amount_stars.is_some_and(|a| a != list.get()) {
                return Err(Refusal::FixedPrice.into());
            }
            let Some(typed) = code else {
                return Ok(Priced {
                    list,
                    charged: list,
                    code: None,
                    credit: BundleCredit::default(),
                });
            };
            let code = discounts::find_usable(
                db,
                product.creator_id,
                product.id,
                typed,
                now,
                purpose == Purpose::Quote,
            )
            .await?;
            Ok(Priced {
                list,
                charged: code.off()?.apply(list),
                code: Some(code),
                credit: BundleCredit::default(),
            })
        }
    }
}

/// A buyer's amount for a pay-what-you-want product, between its minimum and the shop's cap.
pub fn pay_what_you_want(amount: u32, min: Stars, max_stars: u32) -> Result<Stars, PaymentError> {
    if amount < min.get() {
        return Err(Refusal::BelowMinimum(min.get()).into());
    }
    if amount > max_stars.max(min.get()) {
        return Err(Refusal::AboveMaximum(max_stars.max(min.get())).into());
    }
    Stars::new(amount)
}

/// A published product's pricing facts by slug.
pub async fn product(db: &Db, slug: &str) -> Result<Option<PricedProduct>, sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT id, creator_id, price_stars, min_price_stars FROM products
         WHERE slug = $1 AND status = 'published'",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await)
}

/// The product page's quote: what buying `slug` with `choice` would cost `buyer` now.
pub async fn quote(
    db: &Db,
    slug: &str,
    buyer: i64,
    choice: &PriceChoice,
    max_stars: u32,
    now: i64,
) -> Result<Quote, PaymentError> {
    let product = product(db, slug)
        .await?
        .ok_or_else(|| PaymentError::NotOnSale(slug.to_owned()))?;
    let priced = price(db, &product, buyer, choice, max_stars, now, Purpose::Quote).await?;
    Ok(Quote {
        list_stars: priced.list.get(),
        amount_stars: priced.charged.get(),
        code: priced.code.map(|c| c.code),
        credit_stars: priced.credit.stars,
        owned_parts: priced.credit.owned_parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pay_what_you_want_keeps_between_the_minimum_and_the_cap() {
        let min = Stars::new(50).unwrap();
        assert_eq!(pay_what_you_want(50, min, 10_000).unwrap().get(), 50);
        assert_eq!(pay_what_you_want(777, min, 10_000).unwrap().get(), 777);
        assert!(matches!(
            pay_what_you_want(49, min, 10_000),
            Err(PaymentError::Deal(Refusal::BelowMinimum(50)))
        ));
        assert!(matches!(
            pay_what_you_want(10_001, min, 10_000),
            Err(PaymentError::Deal(Refusal::AboveMaximum(10_000)))
        ));
        assert!(matches!(
            pay_what_you_want(0, Stars::new(1).unwrap(), 10_000),
            Err(PaymentError::Deal(Refusal::BelowMinimum(1)))
        ));
    }
}
