//! Discount codes and pay-what-you-want prices: what the product page sends with Buy (a code, an
//! amount), the quote the server gives before buying, the studio's code types, and the refusals
//! in the buyer's language.
//!
//! Rules (decided here, enforced on the server):
//! - A code belongs to a creator, for one of their products or for all of them; it takes a
//!   percentage (1–99, the discount rounded down, so the buyer pays the rounded-up rest) or whole
//!   Stars off the list price. The price never goes below 1 Star, Telegram's minimum.
//! - Codes are matched case-insensitively (stored upper-case) and are unique per creator.
//! - A code's limit counts paid (and later refunded) orders plus live reservations: creating an
//!   order takes a use, and the order expiring or being cancelled gives it back.
//! - Codes do not apply to pay-what-you-want products: the buyer already picks the price there.
//!
//! Plain types and their words only: the server function that asks for a quote (`quote_price`)
//! is in `api` with the others, which carry these types, so this module never imports `api`.

use serde::{Deserialize, Serialize};

/// What the buyer chose on the product page besides the product.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceChoice {
    /// A discount code as typed (any case, spaces trimmed).
    pub code: Option<String>,
    /// Pay what you want: the amount picked.
    pub amount_stars: Option<u32>,
    /// Bought for somebody else, who claims it from a gift link.
    #[serde(default)]
    pub gift: bool,
}

impl PriceChoice {
    pub fn is_empty(&self) -> bool {
        self.code.as_deref().is_none_or(|c| c.trim().is_empty())
            && self.amount_stars.is_none()
            && !self.gift
    }
}

/// The price the buyer would pay, as the server computes it at order time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The product's price before the code (the suggested price for pay-what-you-want).
    pub list_stars: u32,
    /// What the invoice would ask.
    pub amount_stars: u32,
    /// The code that applies, as stored (upper-case).
    pub code: Option<String>,
    /// For a bundle: what the buyer paid for the parts they own, taken off the price.
    #[serde(default)]
    pub credit_stars: u32,
    /// For a bundle: how many of its parts the buyer owns.
    #[serde(default)]
    pub owned_parts: u32,
}

/// Why the server refused a code or an amount. Each has its message in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    UnknownCode,
    OtherCreator,
    OtherProduct,
    CodeExpired,
    CodeExhausted,
    CodeDisabled,
    NotForPayWhatYouWant,
    BelowMinimum(u32),
    AboveMaximum(u32),
    FixedPrice,
}

/// In English, for logs; people read `in_locale`.
impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.in_locale(crate::i18n::Locale::en))
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    pub fn in_locale(self, locale: crate::i18n::Locale) -> String {
        use crate::i18n::*;
        match self {
            Refusal::UnknownCode => td_string!(locale, deals.unknown_code).to_string(),
            Refusal::OtherCreator => td_string!(locale, deals.other_creator).to_string(),
            Refusal::OtherProduct => td_string!(locale, deals.other_product).to_string(),
            Refusal::CodeExpired => td_string!(locale, deals.code_expired).to_string(),
            Refusal::CodeExhausted => td_string!(locale, deals.code_exhausted).to_string(),
            Refusal::CodeDisabled => td_string!(locale, deals.code_disabled).to_string(),
            Refusal::NotForPayWhatYouWant => td_string!(locale, deals.not_for_pwyw).to_string(),
            Refusal::BelowMinimum(min) => {
                crate::texts::fill(td_string!(locale, deals.below_minimum), &[("min", &min)])
            }
            Refusal::AboveMaximum(max) => {
                crate::texts::fill(td_string!(locale, deals.above_maximum), &[("max", &max)])
            }
            Refusal::FixedPrice => td_string!(locale, deals.fixed_price).to_string(),
        }
    }
}

/// A discount code as the creator makes it in the studio.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountCodeInput {
    pub code: String,
    /// One product; none: every product of the creator.
    pub product_id: Option<i64>,
    pub percent_off: Option<u32>,
    pub stars_off: Option<u32>,
    pub max_uses: Option<u32>,
    /// Unix seconds; none: no expiry.
    pub expires_at: Option<i64>,
}

/// A discount code in the studio's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountCode {
    pub id: i64,
    pub code: String,
    pub creator_id: i64,
    pub product_id: Option<i64>,
    pub product_title: Option<String>,
    pub percent_off: Option<u32>,
    pub stars_off: Option<u32>,
    pub max_uses: Option<u32>,
    /// Paid and refunded orders plus pending reservations.
    pub used: u32,
    /// Of those, paid (or later refunded) orders.
    pub paid: u32,
    pub expires_at: Option<i64>,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
}

/// A product's pay-what-you-want setting: a minimum turns it on (its price becomes the suggested
/// amount), none turns it off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayWhatYouWant {
    pub min_price_stars: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_choice_is_a_plain_purchase() {
        assert!(PriceChoice::default().is_empty());
        assert!(PriceChoice {
            code: Some("  ".into()),
            amount_stars: None,
            gift: false,
        }
        .is_empty());
        assert!(!PriceChoice {
            code: Some("SAVE10".into()),
            amount_stars: None,
            gift: false,
        }
        .is_empty());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn refusals_read_in_both_languages() {
        use crate::i18n::Locale;
        assert_eq!(
            Refusal::BelowMinimum(50).in_locale(Locale::en),
            "The minimum for this product is 50 Stars."
        );
        assert_eq!(
            Refusal::BelowMinimum(50).in_locale(Locale::ru),
            "Минимальная цена этого товара: ⭐ 50."
        );
        assert_eq!(
            Refusal::CodeExhausted.in_locale(Locale::en),
            Refusal::CodeExhausted.to_string()
        );
    }
}
