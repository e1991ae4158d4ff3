//! Whole Telegram Stars. Stars have no fractions in invoices, so amounts are integers end to end:
//! no floats, no rounding, and a type that cannot be mixed up with ids or timestamps.

use std::fmt;

use super::PaymentError;

/// An amount of Telegram Stars (`XTR`), always positive: nothing sells for zero and Telegram
/// rejects invoices without a positive total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Stars(u32);

impl Stars {
    pub fn new(amount: u32) -> Result<Self, PaymentError> {
        if amount == 0 {
            return Err(PaymentError::InvalidAmount(0));
        }
        Ok(Stars(amount))
    }

    /// From an `INTEGER` column or a Bot API `Integer`; out-of-range values are errors, never
    /// truncated.
    pub fn from_i64(amount: i64) -> Result<Self, PaymentError> {
        u32::try_from(amount)
            .map_err(|_| PaymentError::InvalidAmount(amount))
            .and_then(Stars::new)
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// For SQL binds and the Bot API, whose integers are `i64`.
    pub fn as_i64(self) -> i64 {
        i64::from(self.0)
    }
}

impl fmt::Display for Stars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} XTR", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_positive_whole_stars_within_range() {
        assert_eq!(Stars::from_i64(250).unwrap().get(), 250);
        assert_eq!(Stars::from_i64(250).unwrap().as_i64(), 250);
        assert!(Stars::from_i64(0).is_err());
        assert!(Stars::from_i64(-5).is_err());
        assert!(Stars::from_i64(i64::from(u32::MAX) + 1).is_err());
        assert!(Stars::new(0).is_err());
        assert_eq!(Stars::new(7).unwrap().to_string(), "7 XTR");
    }
}
