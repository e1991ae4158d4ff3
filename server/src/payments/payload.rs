//! The invoice payload: what a Star charge pays for, parsed once where an update or a ledger
//! entry enters the shop.
//!
//! New payloads are `<kind>.<random>`: the random part is URL-safe base64 (`A-Z a-z 0-9 - _`),
//! which never holds a `.`, so a kind's prefix cannot be the start of another kind's random id.
//! Payloads made before kinds had prefixes are still read: a tip's was `tip_` and 43 random
//! characters (47 in all), an order's the 43 random characters alone (or, for hand-made rows,
//! anything else), so length tells a legacy tip from a legacy order whose id begins `tip_`.

/// Telegram's limit for an invoice payload, in bytes.
pub const MAX_LEN: usize = 128;

const ORDER: &str = "o.";
const TIP: &str = "t.";
const LEGACY_TIP: &str = "tip_";
/// Length of [`new_public_id`]'s output.
const RANDOM_LEN: usize = 43;

/// Which table a payload names a row of; bundles and gifts will add theirs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    /// A row of `orders`: a one-time purchase or a membership's subscribing order.
    Order,
    /// A row of `tips`.
    Tip,
}

/// A payload as the shop reads it: its kind and the row's public id (the payload itself).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Payload {
    pub kind: PayloadKind,
    raw: String,
}

impl Payload {
    /// Reads any payload; one the shop never made still parses (as an order) and then names no
    /// row, which the caller treats as unknown.
    pub fn parse(raw: &str) -> Self {
        let kind = if raw.starts_with(TIP) || is_legacy_tip(raw) {
            PayloadKind::Tip
        } else {
            PayloadKind::Order
        };
        Payload {
            kind,
            raw: raw.to_owned(),
        }
    }

    /// A fresh, unguessable payload of `kind`.
    pub fn new(kind: PayloadKind) -> Self {
        let prefix = match kind {
            PayloadKind::Order => ORDER,
            PayloadKind::Tip => TIP,
        };
        Payload {
            kind,
            raw: format!("{prefix}{}", new_public_id()),
        }
    }

    /// The payload as sent to Telegram, and the public id of its row.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn into_string(self) -> String {
        self.raw
    }
}

/// 32 random bytes as URL-safe text: 43 characters, far within the 128-byte payload limit and
/// too many to guess.
pub(crate) fn new_public_id() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    // An order id from a broken generator would be guessable; refuse to go on without one.
    getrandom::fill(&mut bytes).expect("the OS random number generator is unavailable");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn is_legacy_tip(raw: &str) -> bool {
    raw.len() == LEGACY_TIP.len() + RANDOM_LEN
        && raw.starts_with(LEGACY_TIP)
        && raw[LEGACY_TIP.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_are_long_random_and_payload_safe() {
        let a = new_public_id();
        let b = new_public_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn new_payloads_round_trip_and_fit_telegrams_limit() {
        for kind in [PayloadKind::Order, PayloadKind::Tip] {
            let payload = Payload::new(kind);
            assert!(payload.as_str().len() <= MAX_LEN);
            assert!((16..=64).contains(&payload.as_str().len()));
            assert_eq!(Payload::parse(payload.as_str()), payload);
        }
    }

    #[test]
    fn a_legacy_order_id_starting_with_tip_is_still_an_order() {
        // 43 random characters may well begin with "tip_": the old prefix check took such an
        // order for a tip.
        let order = format!("tip_{}", "A".repeat(RANDOM_LEN - 4));
        assert_eq!(Payload::parse(&order).kind, PayloadKind::Order);
        let tip = format!("tip_{}", "A".repeat(RANDOM_LEN));
        assert_eq!(Payload::parse(&tip).kind, PayloadKind::Tip);
        assert_eq!(
            Payload::parse(&"B".repeat(RANDOM_LEN)).kind,
            PayloadKind::Order
        );
        assert_eq!(Payload::parse("bench-pay-1").kind, PayloadKind::Order);
        assert_eq!(Payload::parse("t.x").kind, PayloadKind::Tip);
    }
}
