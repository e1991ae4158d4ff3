//! Identifiers Telegram hands out: they must be unguessable (invoice slugs are bearer links) and
//! look enough like the real ones that logs and fixtures read naturally.

const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // Without OS randomness slugs would be guessable, which would make every test meaningless.
    getrandom::fill(&mut bytes).expect("the OS random number generator is unavailable");
    bytes
}

fn random_string(alphabet: &[u8], len: usize) -> String {
    // Rejection sampling keeps the distribution uniform for alphabets that do not divide 256.
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in random_bytes::<32>() {
            if (byte as usize) < limit && out.len() < len {
                out.push(alphabet[byte as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// The part after `https://t.me/$` of an invoice link.
pub fn invoice_slug() -> String {
    random_string(URL_SAFE, 22)
}

/// Prepared inline message ids are short opaque tokens.
pub fn prepared_message_id() -> String {
    random_string(ALNUM, 16)
}

/// Stars charge ids in production start with `stx` followed by a long opaque token.
pub fn charge_id() -> String {
    format!("stx{}", random_string(ALNUM, 61))
}

/// Pre-checkout and inline query ids are decimal 64-bit numbers in string form.
pub fn query_id() -> String {
    u64::from_le_bytes(random_bytes::<8>()).to_string()
}

/// The first update_id after a week without updates: random, positive, with room to count on.
pub fn restarted_update_id() -> i64 {
    1 + i64::from(u32::from_le_bytes(random_bytes::<4>()) >> 1)
}

/// Document file ids share the `BQACAgIAAxkDAAI` prefix in production.
pub fn document_file_id() -> String {
    format!("BQACAgIAAxkDAAI{}", random_string(URL_SAFE, 56))
}

/// Telegram keeps one `file_unique_id` per distinct file, so it is derived from the content hash.
pub fn file_unique_id(sha256_hex: &str) -> String {
    format!("AgAD{}", &sha256_hex[..12])
}

pub fn random_file_unique_id() -> String {
    format!("AgAD{}", random_string(ALNUM, 12))
}

pub use clock::unix_now;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe_and_distinct() {
        let a = invoice_slug();
        let b = invoice_slug();
        assert_eq!(a.len(), 22);
        assert!(a.bytes().all(|c| URL_SAFE.contains(&c)));
        assert_ne!(a, b);
    }

    #[test]
    fn charge_ids_look_like_telegrams() {
        let id = charge_id();
        assert!(id.starts_with("stx"));
        assert_eq!(id.len(), 64);
        assert_ne!(id, charge_id());
        assert!(query_id().parse::<u64>().is_ok());
    }
}
