//! A license key's life inside the shop's write transactions: made or drawn when the ledger
//! grants an order ([`issue`]), disabled when it refunds one ([`disable`]), given to orders that
//! waited when keys arrive ([`fill_waiting`]), and read for the bot's message ([`for_order`]).
//! Below both the ledger and the studio: it takes nothing from either.

use crate::db::Db;
use app::studio::types::LicenseMode;
use sqlx::Transaction;

/// What `X` in a pattern becomes: letters and digits without the look-alikes (0/O, 1/I).
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// The pattern a product gets when the creator picks none.
pub const DEFAULT_FORMAT: &str = "XXXX-XXXX-XXXX-XXXX";
/// A key in `format`: each `X` a random character of [`ALPHABET`], the rest kept.
pub fn generate(format: &str) -> String {
    let mut bytes = vec![0u8; format.len()];
    getrandom::fill(&mut bytes).expect("the OS random number generator is unavailable");
    format
        .chars()
        .zip(bytes)
        // 256 is a multiple of the alphabet's 32: no bias.
        .map(|(c, b)| match c {
            'X' => char::from(ALPHABET[usize::from(b) % ALPHABET.len()]),
            c => c,
        })
        .collect()
}

/// The key reads and writes inside a write transaction (the ledger's, or the studio's when it
/// fills waiting orders). Implemented once per database's transaction type from the same bodies.
pub(crate) trait KeyStore: Sized {
    /// Gives paid order `order_id` of `product_id` its key, unless it has one or the product
    /// issues none; with an empty pool, the order waits for one.
    async fn issue(
        tx: &mut Self,
        order_id: i64,
        product_id: i64,
        now: i64,
    ) -> Result<(), sqlx::Error>;
    /// Disables refunded order `order_id`'s key, and stops it waiting for one.
    async fn disable(tx: &mut Self, order_id: i64, now: i64) -> Result<(), sqlx::Error>;
    /// Issues keys to `product_id`'s waiting orders, oldest first, while keys last; returns
    /// the orders served.
    async fn fill_waiting(
        tx: &mut Self,
        product_id: i64,
        now: i64,
    ) -> Result<Vec<i64>, sqlx::Error>;
}

macro_rules! key_store_for {
    ($database:ty) => {
        impl KeyStore for Transaction<'_, $database> {
            async fn issue(
                tx: &mut Self,
                order_id: i64,
                product_id: i64,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                let (mode, format): (String, Option<String>) = sqlx::query_as(
                    "SELECT license_mode, license_format FROM products WHERE id = $1",
                )
                .bind(product_id)
                .fetch_one(&mut **tx)
                .await?;
                let mode = LicenseMode::parse(&mode).unwrap_or_default();
                if mode == LicenseMode::None {
                    return Ok(());
                }
                let has: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM license_keys WHERE order_id = $1)",
                )
                .bind(order_id)
                .fetch_one(&mut **tx)
                .await?;
                if has {
                    return Ok(());
                }
                if mode == LicenseMode::Generated {
                    let format = format.unwrap_or_else(|| DEFAULT_FORMAT.to_owned());
                    // A repeat of a key already made (vanishingly rare) draws again.
                    for _ in 0..8 {
                        let done = sqlx::query(
                            "INSERT INTO license_keys
                               (product_id, code, source, order_id, created_at, issued_at)
                             VALUES ($1, $2, 'generated', $3, $4, $4)
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(product_id)
                        .bind(generate(&format))
                        .bind(order_id)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                        if done.rows_affected() == 1 {
                            return Ok(());
                        }
                    }
                } else {
                    let drawn = sqlx::query(
                        "UPDATE license_keys SET order_id = $1, issued_at = $2
                         WHERE id = (SELECT id FROM license_keys
                                     WHERE product_id = $3 AND order_id IS NULL
                                     ORDER BY id LIMIT 1)
                           AND order_id IS NULL",
                    )
                    .bind(order_id)
                    .bind(now)
                    .bind(product_id)
                    .execute(&mut **tx)
                    .await?;
                    if drawn.rows_affected() == 1 {
                        sqlx::query("DELETE FROM license_waits WHERE order_id = $1")
                            .bind(order_id)
                            .execute(&mut **tx)
                            .await?;
                        return Ok(());
                    }
                }
                // No key to give now: the order waits, and is granted all the same.
                sqlx::query(
                    "INSERT INTO license_waits (order_id, product_id, since) VALUES ($1, $2, $3)
                     ON CONFLICT (order_id) DO NOTHING",
                )
                .bind(order_id)
                .bind(product_id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            async fn disable(tx: &mut Self, order_id: i64, now: i64) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "UPDATE license_keys SET disabled_at = $1
                     WHERE order_id = $2 AND disabled_at IS NULL",
                )
                .bind(now)
                .bind(order_id)
                .execute(&mut **tx)
                .await?;
                sqlx::query("DELETE FROM license_waits WHERE order_id = $1")
                    .bind(order_id)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            async fn fill_waiting(
                tx: &mut Self,
                product_id: i64,
                now: i64,
            ) -> Result<Vec<i64>, sqlx::Error> {
                let waiting: Vec<i64> = sqlx::query_scalar(
                    "SELECT w.order_id FROM license_waits w JOIN orders o ON o.id = w.order_id
                     WHERE w.product_id = $1 AND o.status = 'paid'
                     ORDER BY w.since, w.order_id",
                )
                .bind(product_id)
                .fetch_all(&mut **tx)
                .await?;
                let mut served = Vec::new();
                for order_id in waiting {
                    <Self as KeyStore>::issue(tx, order_id, product_id, now).await?;
                    let still: bool = sqlx::query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM license_waits WHERE order_id = $1)",
                    )
                    .bind(order_id)
                    .fetch_one(&mut **tx)
                    .await?;
                    if still {
                        break; // the pool ran dry
                    }
                    served.push(order_id);
                }
                Ok(served)
            }
        }
    };
}

key_store_for!(sqlx::Sqlite);
key_store_for!(sqlx::Postgres);

/// See [`KeyStore::issue`].
pub(crate) async fn issue<T: KeyStore>(
    tx: &mut T,
    order_id: i64,
    product_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    T::issue(tx, order_id, product_id, now).await
}

/// See [`KeyStore::disable`].
pub(crate) async fn disable<T: KeyStore>(
    tx: &mut T,
    order_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    T::disable(tx, order_id, now).await
}

/// See [`KeyStore::fill_waiting`].
pub(crate) async fn fill_waiting<T: KeyStore>(
    tx: &mut T,
    product_id: i64,
    now: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    T::fill_waiting(tx, product_id, now).await
}

/// What the public endpoint answers about a key.
/// An order's key as the buyer is told of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderKey {
    Issued(String),
    /// The pool was empty: the key comes when the creator adds some.
    Pending,
}

/// Order `order_id`'s key (enabled), or that it waits for one; `None` for a product without keys.
pub async fn for_order(db: &Db, order_id: i64) -> Result<Option<OrderKey>, sqlx::Error> {
    let (code, waiting): (Option<String>, bool) = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT (SELECT code FROM license_keys WHERE order_id = $1 AND disabled_at IS NULL),
                EXISTS (SELECT 1 FROM license_waits WHERE order_id = $1)",
    )
    .bind(order_id)
    .fetch_one(pool)
    .await)?;
    Ok(match (code, waiting) {
        (Some(code), _) => Some(OrderKey::Issued(code)),
        (None, true) => Some(OrderKey::Pending),
        (None, false) => None,
    })
}
