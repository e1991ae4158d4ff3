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
}

/// How a price is used: shown as a quote, or charged by an order (which takes the code's use
/// itself, atomically, so the limit is not judged from a read here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Quote,
    Order,
}

/// Prices `product` for `choice` at `now`. `max_stars` caps a pay-what-you-want amount.
pub async fn price(
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

/// The product page's quote: what buying `slug` with `choice` would cost now.
pub async fn quote(
    db: &Db,
    slug: &str,
    choice: &PriceChoice,
    max_stars: u32,
    now: i64,
) -> Result<Quote, PaymentError> {
    let product = product(db, slug)
        .await?
        .ok_or_else(|| PaymentError::NotOnSale(slug.to_owned()))?;
    let priced = price(db, &product, choice, max_stars, now, Purpose::Quote).await?;
    Ok(Quote {
        list_stars: priced.list.get(),
        amount_stars: priced.charged.get(),
        code: priced.code.map(|c| c.code),
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
