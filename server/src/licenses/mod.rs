//! License keys (issue #19): per product, none, generated from a pattern the creator picks, or
//! drawn from a pool the creator uploads. The ledger issues a granted order's one key inside its
//! grant transaction ([`keys::issue`]) and disables it inside the refund's ([`keys::disable`]); an order
//! granted while its pool is empty waits (`license_waits`) and gets its key when the creator adds
//! some ([`keys::fill_waiting`]): the purchase never fails for want of a key. Creators' own software
//! asks [`verify`] whether a key is good; every answer counts as one use.

pub mod keys;

use crate::db::{BeginWrite, Db};
use crate::studio::roles::Caller;
use crate::studio::StudioError;
use crate::telegram::bot::Bot;
use app::i18n::td_string;
use app::studio::types::{LicenseKeyState, LicenseMode, StudioLicenseKey, StudioLicenses};
use app::text;
use app::texts::fill;
use app::texts::Text;
use keys::fill_waiting;
pub use keys::{for_order, generate, OrderKey, ALPHABET, DEFAULT_FORMAT};
use tgbot::types::SendMessage;

/// A pattern's length bounds, and the random characters it needs at least (32⁸ ≈ 10¹²).
pub const FORMAT_MIN: usize = 4;
pub const FORMAT_MAX: usize = 64;
pub const FORMAT_MIN_RANDOM: usize = 8;
/// The longest key, uploaded or verified.
pub const KEY_MAX: usize = 200;
/// Keys one upload adds at most.
pub const POOL_ADD_MAX: usize = 10_000;
/// Fewer pool keys than this left, and the studio warns.
pub const POOL_LOW: i64 = 5;
/// Keys the studio lists per product, newest first.
const STUDIO_KEYS: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum LicenseError {
    #[error("{message}")]
    Invalid { field: &'static str, message: Text },
    #[error("no such product")]
    NotFound,
    #[error(transparent)]
    Studio(#[from] StudioError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

fn invalid(field: &'static str, message: Text) -> LicenseError {
    LicenseError::Invalid { field, message }
}

/// A pattern as stored: trimmed, [`FORMAT_MIN`]..=[`FORMAT_MAX`] characters of `X` (random),
/// ASCII letters, digits and dashes (kept as they are), with at least [`FORMAT_MIN_RANDOM`] `X`.
pub fn check_format(format: &str) -> Result<String, LicenseError> {
    let format = format.trim();
    let allowed = format
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    let random = format.chars().filter(|&c| c == 'X').count();
    if !allowed || !(FORMAT_MIN..=FORMAT_MAX).contains(&format.len()) || random < FORMAT_MIN_RANDOM
    {
        return Err(invalid(
            "format",
            text!(
                licenses.format_invalid,
                min = FORMAT_MIN_RANDOM,
                max = FORMAT_MAX
            ),
        ));
    }
    Ok(format.to_owned())
}

/// The keys of an upload: one per line, trimmed, blank lines and repeats dropped.
pub fn parse_pool(text: &str) -> Result<Vec<String>, LicenseError> {
    let mut keys: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        let key = line.trim();
        if key.is_empty() {
            continue;
        }
        if key.chars().count() > KEY_MAX {
            return Err(invalid("keys", text!(licenses.key_too_long, max = KEY_MAX)));
        }
        if seen.insert(key.to_owned()) {
            keys.push(key.to_owned());
        }
    }
    if keys.is_empty() {
        return Err(invalid("keys", text!(licenses.no_keys)));
    }
    if keys.len() > POOL_ADD_MAX {
        return Err(invalid(
            "keys",
            text!(licenses.too_many, max = POOL_ADD_MAX),
        ));
    }
    Ok(keys)
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    /// Issued for this product, not disabled, its order paid (and a membership's period
    /// running).
    pub valid: bool,
    /// Verifications of this key so far, this one included.
    pub uses: i64,
    /// `paid`, `refunded`, or `lapsed` (a membership whose paid period ended); none for a key
    /// this product never issued.
    pub order_state: Option<String>,
}

/// Checks `key` for product `slug` and counts the check. A key the product never issued (an
/// unknown one, another product's, one still in the pool) is simply not valid.
pub async fn verify(db: &Db, slug: &str, key: &str, now: i64) -> Result<Verification, sqlx::Error> {
    let key = key.trim();
    let unknown = Verification {
        valid: false,
        uses: 0,
        order_state: None,
    };
    if key.is_empty() || key.chars().count() > KEY_MAX || slug.len() > 200 {
        return Ok(unknown);
    }
    let counted: Option<(i64, i64, bool)> = crate::on_db!(db, |pool| sqlx::query_as(
        "UPDATE license_keys SET uses = uses + 1, last_verified_at = $3
         WHERE code = $2 AND order_id IS NOT NULL
           AND product_id = (SELECT id FROM products WHERE slug = $1)
         RETURNING uses, order_id, disabled_at IS NOT NULL",
    )
    .bind(slug)
    .bind(key)
    .bind(now)
    .fetch_optional(pool)
    .await)?;
    let Some((uses, order_id, disabled)) = counted else {
        return Ok(unknown);
    };
    let (status, membership_ends): (String, Option<i64>) = crate::on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT o.status, m.expires_at FROM orders o
             LEFT JOIN memberships m ON m.order_id = o.id WHERE o.id = $1",
        )
        .bind(order_id)
        .fetch_one(pool)
        .await
    })?;
    let lapsed = membership_ends.is_some_and(|ends| ends <= now);
    let order_state = match status.as_str() {
        "paid" if lapsed => "lapsed".to_owned(),
        _ => status,
    };
    Ok(Verification {
        valid: !disabled && order_state == "paid",
        uses,
        order_state: Some(order_state),
    })
}

/// Tells the buyers of `orders`, which waited, their new keys in the bot's chat, in their
/// language. Best effort, after the keys are committed: the library shows them either way.
pub async fn tell_served(db: &Db, bot: &Bot, orders: &[i64]) {
    for &order_id in orders {
        if let Err(err) = tell_one(db, bot, order_id).await {
            tracing::warn!(order_id, error = %err, "could not tell a buyer their license key");
        }
    }
}

async fn tell_one(db: &Db, bot: &Bot, order_id: i64) -> Result<(), Box<dyn std::error::Error>> {
    let Some(OrderKey::Issued(key)) = for_order(db, order_id).await? else {
        return Ok(());
    };
    // The friend who claimed a gift, else the buyer.
    const RECIPIENT: &str = concat!(
        "SELECT ",
        crate::grants::recipient!(),
        ", p.title FROM orders o JOIN products p ON p.id = o.product_id WHERE o.id = $1"
    );
    let (user_id, title): (i64, String) = crate::on_db!(db, |pool| sqlx::query_as(RECIPIENT)
        .bind(order_id)
        .fetch_one(pool)
        .await)?;
    let locale = crate::users::locale(db, user_id).await?;
    let text = fill(
        td_string!(locale, delivery.license_key_ready),
        &[("title", &title), ("key", &key)],
    );
    bot.call("sendMessage", SendMessage::new(user_id, text))
        .await
        .map(|_: tgbot::types::Message| ())?;
    Ok(())
}

/// Product `product_id` if the caller may manage it.
async fn owned_product(db: &Db, caller: Caller, product_id: i64) -> Result<(), LicenseError> {
    let creator: Option<i64> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT creator_id FROM products WHERE id = $1"
    )
    .bind(product_id)
    .fetch_optional(pool)
    .await)?;
    let creator = creator.ok_or(LicenseError::NotFound)?;
    caller.require_owner(creator)?;
    Ok(())
}

/// Sets product `product_id`'s key mode (and pattern, for generated keys; the default pattern
/// when none is given). Orders waiting for a key get one if the new mode can give it: returns
/// those orders, for [`tell_served`].
pub async fn configure(
    db: &Db,
    caller: Caller,
    product_id: i64,
    mode: LicenseMode,
    format: Option<&str>,
    now: i64,
) -> Result<Vec<i64>, LicenseError> {
    owned_product(db, caller, product_id).await?;
    if mode != LicenseMode::None {
        let in_a_bundle: bool = crate::on_db!(db, |pool| sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM bundle_items WHERE product_id = $1)"
        )
        .bind(product_id)
        .fetch_one(pool)
        .await)?;
        if in_a_bundle {
            return Err(invalid("mode", text!(studio_errors.bundle_keys)));
        }
    }
    let format = match (mode, format.map(str::trim).filter(|f| !f.is_empty())) {
        (LicenseMode::Generated, Some(format)) => Some(check_format(format)?),
        (LicenseMode::Generated, None) => Some(DEFAULT_FORMAT.to_owned()),
        _ => None,
    };
    crate::on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "UPDATE products SET license_mode = $1,
                 license_format = COALESCE($2, license_format)
             WHERE id = $3",
        )
        .bind(mode.as_str())
        .bind(&format)
        .bind(product_id)
        .execute(&mut *tx)
        .await?;
        let served = fill_waiting(&mut tx, product_id, now).await?;
        tx.commit().await?;
        Ok::<_, LicenseError>(served)
    })
}

/// Adds keys to product `product_id`'s pool (one per line; blank lines, repeats and keys the
/// product already has are skipped), then gives waiting orders theirs. Returns how many were new
/// and the orders served (for [`tell_served`]).
pub async fn add_to_pool(
    db: &Db,
    caller: Caller,
    product_id: i64,
    text: &str,
    now: i64,
) -> Result<(u64, Vec<i64>), LicenseError> {
    owned_product(db, caller, product_id).await?;
    let keys = parse_pool(text)?;
    crate::on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let mut added = 0;
        for key in &keys {
            added += sqlx::query(
                "INSERT INTO license_keys (product_id, code, source, created_at)
                 VALUES ($1, $2, 'pool', $3)
                 ON CONFLICT (product_id, code) DO NOTHING",
            )
            .bind(product_id)
            .bind(key)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        let served = fill_waiting(&mut tx, product_id, now).await?;
        tx.commit().await?;
        Ok::<_, LicenseError>((added, served))
    })
}

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: i64,
    slug: String,
    title: String,
    license_mode: String,
    license_format: Option<String>,
    available: i64,
    issued: i64,
    disabled: i64,
    waiting: i64,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    code: String,
    order_public_id: Option<String>,
    disabled: bool,
    uses: i64,
}

/// The caller's products (every product for an admin) with their key modes, counts and newest
/// keys.
pub async fn for_studio(db: &Db, caller: Caller) -> Result<Vec<StudioLicenses>, LicenseError> {
    let products: Vec<ProductRow> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT p.id, p.slug, p.title, p.license_mode, p.license_format,
                (SELECT COUNT(*) FROM license_keys k
                 WHERE k.product_id = p.id AND k.order_id IS NULL) AS available,
                (SELECT COUNT(*) FROM license_keys k
                 WHERE k.product_id = p.id AND k.order_id IS NOT NULL
                   AND k.disabled_at IS NULL) AS issued,
                (SELECT COUNT(*) FROM license_keys k
                 WHERE k.product_id = p.id AND k.disabled_at IS NOT NULL) AS disabled,
                (SELECT COUNT(*) FROM license_waits w WHERE w.product_id = p.id) AS waiting
         FROM products p WHERE $1 OR p.creator_id = $2
         ORDER BY p.id DESC",
    )
    .bind(caller.is_admin())
    .bind(caller.user_id)
    .fetch_all(pool)
    .await)?;
    let mut out = Vec::with_capacity(products.len());
    for product in products {
        let keys: Vec<KeyRow> = crate::on_db!(db, |pool| sqlx::query_as(
            "SELECT k.code, o.public_id AS order_public_id,
                    k.disabled_at IS NOT NULL AS disabled, k.uses
             FROM license_keys k LEFT JOIN orders o ON o.id = k.order_id
             WHERE k.product_id = $1
             ORDER BY k.id DESC LIMIT $2",
        )
        .bind(product.id)
        .bind(STUDIO_KEYS)
        .fetch_all(pool)
        .await)?;
        let mode = LicenseMode::parse(&product.license_mode).unwrap_or_default();
        out.push(StudioLicenses {
            product_id: product.id,
            product_slug: product.slug,
            product_title: product.title,
            mode,
            format: product.license_format,
            available: product.available,
            issued: product.issued,
            disabled: product.disabled,
            waiting: product.waiting,
            low: mode == LicenseMode::Pool && product.available < POOL_LOW,
            keys: keys
                .into_iter()
                .map(|key| StudioLicenseKey {
                    state: match (key.disabled, &key.order_public_id) {
                        (true, _) => LicenseKeyState::Disabled,
                        (false, Some(_)) => LicenseKeyState::Issued,
                        (false, None) => LicenseKeyState::Available,
                    },
                    code: key.code,
                    order: key.order_public_id,
                    uses: key.uses,
                })
                .collect(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_checked_and_filled_from_the_unambiguous_alphabet() {
        assert_eq!(check_format(" XXXX-XXXX ").unwrap(), "XXXX-XXXX");
        assert!(check_format("SF-XXXX-XXXX-2026").is_ok());
        for bad in [
            "XXXX",
            "xxxx-xxxx",
            "XXXX XXXX",
            "XXXX_XXXX",
            "ÄXXXXXXXX",
            "",
        ] {
            assert!(check_format(bad).is_err(), "{bad}");
        }
        assert!(check_format(&"X".repeat(FORMAT_MAX + 1)).is_err());
        let key = generate("SF-XXXX-XXXX");
        assert_eq!(key.len(), 12);
        assert!(key.starts_with("SF-"));
        assert_eq!(&key[7..8], "-");
        assert!(key
            .chars()
            .filter(|&c| c != '-')
            .skip(2)
            .all(|c| ALPHABET.contains(&(c as u8))));
        assert_ne!(generate(DEFAULT_FORMAT), generate(DEFAULT_FORMAT));
    }

    #[test]
    fn pools_are_read_one_key_a_line_without_blanks_or_repeats() {
        assert_eq!(
            parse_pool("A-1\n\n  B-2  \r\nA-1\nC-3").unwrap(),
            ["A-1", "B-2", "C-3"]
        );
        assert!(parse_pool(" \n ").is_err());
        assert!(parse_pool(&"k".repeat(KEY_MAX + 1)).is_err());
    }
}
