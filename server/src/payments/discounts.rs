//! Discount codes at checkout: finding a buyer's code, the discounted price, and the uses a
//! code's limit counts.
//!
//! `discount_codes.used` counts the orders holding a use: pending (a reservation), paid and
//! refunded (a refund does not give a use back: the code was redeemed). Taking a use is one
//! conditional `UPDATE … WHERE used < max_uses RETURNING`, so concurrent orders never take more
//! uses than the limit on SQLite or PostgreSQL. A pending order that expires or is cancelled
//! gives its use back in the same transaction as its status change; if Telegram charges such an
//! order anyway (its pre-checkout said ok before it expired) the use is taken again, past the
//! limit if need be, because the buyer has paid.

use app::deals::Refusal;
use sqlx::Transaction;

use super::types::Decline;
use super::{PaymentError, Stars};
use crate::db::Db;

/// Longest and shortest code a creator may choose.
pub const CODE_MIN: usize = 3;
pub const CODE_MAX: usize = 32;

/// The stored form of a code as typed: trimmed and upper-case, so matching ignores case. None
/// when it cannot be a code at all (empty, too long, characters other than letters, digits,
/// `-` and `_`).
pub fn normalize(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    let fits = (CODE_MIN..=CODE_MAX).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    fits.then_some(code)
}

/// How much a code takes off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Off {
    Percent(u32),
    Stars(u32),
}

impl Off {
    /// The price with this discount: a percentage's discount is rounded down (the buyer pays
    /// the rounded-up rest), and nothing costs less than 1 Star, Telegram's minimum.
    pub fn apply(self, list_price: Stars) -> Stars {
        let list = list_price.get();
        let off = match self {
            Off::Percent(p) => {
                u32::try_from(u64::from(list) * u64::from(p.min(100)) / 100).unwrap_or(list)
            }
            Off::Stars(s) => s,
        };
        Stars::new(list.saturating_sub(off).max(1)).unwrap_or(list_price)
    }
}

/// A code as checkout reads it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeRow {
    pub id: i64,
    pub creator_id: i64,
    pub product_id: Option<i64>,
    pub code: String,
    pub percent_off: Option<i64>,
    pub stars_off: Option<i64>,
    pub max_uses: Option<i64>,
    pub used: i64,
    pub expires_at: Option<i64>,
    pub disabled_at: Option<i64>,
}

pub(crate) const CODE_COLUMNS: &str = "id, creator_id, product_id, code, percent_off, stars_off, \
                                       max_uses, used, expires_at, disabled_at";

impl CodeRow {
    pub fn off(&self) -> Result<Off, PaymentError> {
        let to_u32 =
            |v: i64| u32::try_from(v).map_err(|_| PaymentError::Corrupt(format!("discount {v}")));
        match (self.percent_off, self.stars_off) {
            (Some(p), None) => Ok(Off::Percent(to_u32(p)?)),
            (None, Some(s)) => Ok(Off::Stars(to_u32(s)?)),
            _ => Err(PaymentError::Corrupt(format!(
                "discount code {} has no single discount",
                self.id
            ))),
        }
    }

    /// Whether the code may be used now for `product_id` (its creator already matched), and,
    /// with `count_uses`, whether it has uses left.
    fn usable(&self, product_id: i64, now: i64, count_uses: bool) -> Result<(), Refusal> {
        if self.product_id.is_some_and(|p| p != product_id) {
            return Err(Refusal::OtherProduct);
        }
        if self.disabled_at.is_some() {
            return Err(Refusal::CodeDisabled);
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(Refusal::CodeExpired);
        }
        if count_uses && self.max_uses.is_some_and(|max| self.used >= max) {
            return Err(Refusal::CodeExhausted);
        }
        Ok(())
    }
}

/// The creator's code `typed` for buying `product_id` now, if it may be used (nothing is
/// reserved). A code of another creator's is unknown, like any other.
/// `count_uses` checks the limit too; an order leaves that to [`reserve`], which decides it in
/// the write (and a buyer's repeated Buy reuses the order that already holds a use).
pub async fn find_usable(
    db: &Db,
    creator_id: i64,
    product_id: i64,
    typed: &str,
    now: i64,
    count_uses: bool,
) -> Result<CodeRow, PaymentError> {
    let Some(code) = normalize(typed) else {
        return Err(Refusal::UnknownCode.into());
    };
    let row: Option<CodeRow> = crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
        format!("SELECT {CODE_COLUMNS} FROM discount_codes WHERE creator_id = $1 AND code = $2")
    ))
    .bind(creator_id)
    .bind(&code)
    .fetch_optional(pool)
    .await)?;
    // Another creator's code is as unknown here as a made-up one: telling them apart would let
    // anyone probe which codes other creators have.
    let Some(row) = row else {
        return Err(Refusal::UnknownCode.into());
    };
    row.usable(product_id, now, count_uses)?;
    Ok(row)
}

/// The moves of a code's uses, made in the transaction that changes the order holding them.
/// Implemented once per database's transaction type from the same bodies (as `on_db!` does for
/// single queries), so callers inside `on_db!` write `discounts::reserve(&mut tx, …)` on either.
pub(crate) trait CodeUses: Sized {
    /// Takes one use of `code` for an order being created in `tx`: only while the code is
    /// active, unexpired and under its limit, decided by the write itself. On refusal, says why.
    async fn reserve(
        tx: &mut Self,
        code: &CodeRow,
        product_id: i64,
        now: i64,
    ) -> Result<(), PaymentError>;
    /// A buyer holds at most one use of a code (a unique index on pending orders): their pending
    /// orders holding `code_id` for another product or amount are cancelled and the uses given
    /// back, so the order about to be made can hold it.
    async fn give_up_held(
        tx: &mut Self,
        code_id: i64,
        buyer: i64,
        product_id: i64,
        amount: i64,
    ) -> Result<(), sqlx::Error>;
    /// Gives back the uses held by orders that just stopped being pending without a payment
    /// (`code_ids` as the status change returned them, one entry per order).
    async fn release(tx: &mut Self, code_ids: &[Option<i64>]) -> Result<(), sqlx::Error>;
    /// Before an expired or cancelled order is marked paid (or refunded) after all: it gave its
    /// use back, so take it again, limit or not (the buyer's Stars were taken).
    async fn retake_if_released(tx: &mut Self, order_id: i64) -> Result<(), sqlx::Error>;
}

macro_rules! code_uses_for {
    ($database:ty) => {
        impl CodeUses for Transaction<'_, $database> {
            async fn reserve(
                tx: &mut Self,
                code: &CodeRow,
                product_id: i64,
                now: i64,
            ) -> Result<(), PaymentError> {
                let taken: Option<i64> = sqlx::query_scalar(
                    "UPDATE discount_codes SET used = used + 1
                     WHERE id = $1 AND disabled_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
                       AND (max_uses IS NULL OR used < max_uses)
                     RETURNING used",
                )
                .bind(code.id)
                .bind(now)
                .fetch_optional(&mut **tx)
                .await?;
                if taken.is_some() {
                    return Ok(());
                }
                // Lost the race (or the code changed since it was read): the current row says why.
                let current: CodeRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {CODE_COLUMNS} FROM discount_codes WHERE id = $1"
                )))
                .bind(code.id)
                .fetch_one(&mut **tx)
                .await?;
                Err(current
                    .usable(product_id, now, true)
                    .err()
                    .unwrap_or(Refusal::CodeExhausted)
                    .into())
            }

            async fn give_up_held(
                tx: &mut Self,
                code_id: i64,
                buyer: i64,
                product_id: i64,
                amount: i64,
            ) -> Result<(), sqlx::Error> {
                let cancelled: Vec<Option<i64>> = sqlx::query_scalar(
                    "UPDATE orders SET status = 'cancelled'
                     WHERE user_id = $1 AND discount_code_id = $2 AND status = 'pending'
                       AND NOT (product_id = $3 AND amount_stars = $4)
                     RETURNING discount_code_id",
                )
                .bind(buyer)
                .bind(code_id)
                .bind(product_id)
                .bind(amount)
                .fetch_all(&mut **tx)
                .await?;
                Self::release(tx, &cancelled).await
            }

            async fn release(
                tx: &mut Self,
                code_ids: &[Option<i64>],
            ) -> Result<(), sqlx::Error> {
                let mut counts = std::collections::BTreeMap::<i64, i64>::new();
                for id in code_ids.iter().flatten() {
                    *counts.entry(*id).or_default() += 1;
                }
                for (id, n) in counts {
                    sqlx::query(
                        "UPDATE discount_codes
                         SET used = CASE WHEN used >= $2 THEN used - $2 ELSE 0 END WHERE id = $1",
                    )
                    .bind(id)
                    .bind(n)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            async fn retake_if_released(
                tx: &mut Self,
                order_id: i64,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "UPDATE discount_codes SET used = used + 1
                     WHERE id = (SELECT discount_code_id FROM orders
                                 WHERE id = $1 AND status IN ('expired', 'cancelled'))",
                )
                .bind(order_id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }
    };
}
code_uses_for!(sqlx::Sqlite);
code_uses_for!(sqlx::Postgres);

pub(crate) async fn reserve<T: CodeUses>(
    tx: &mut T,
    code: &CodeRow,
    product_id: i64,
    now: i64,
) -> Result<(), PaymentError> {
    T::reserve(tx, code, product_id, now).await
}

pub(crate) async fn give_up_held<T: CodeUses>(
    tx: &mut T,
    code_id: i64,
    buyer: i64,
    product_id: i64,
    amount: i64,
) -> Result<(), sqlx::Error> {
    T::give_up_held(tx, code_id, buyer, product_id, amount).await
}

pub(crate) async fn release<T: CodeUses>(
    tx: &mut T,
    code_ids: &[Option<i64>],
) -> Result<(), sqlx::Error> {
    T::release(tx, code_ids).await
}

pub(crate) async fn retake_if_released<T: CodeUses>(
    tx: &mut T,
    order_id: i64,
) -> Result<(), sqlx::Error> {
    T::retake_if_released(tx, order_id).await
}

/// The pre-checkout check of an order made with a code: the code must still be active and
/// unexpired, for the order's product and creator, and the order's amount what the code gives
/// on its list price. (Its use is already held by the order, so the limit is not checked again.)
pub async fn check_pre_checkout(db: &Db, payload: &str, now: i64) -> Result<(), Decline> {
    #[derive(sqlx::FromRow)]
    struct Row {
        product_id: i64,
        creator_id: i64,
        list_price_stars: Option<i64>,
        amount_stars: i64,
        code_creator: i64,
        code_product: Option<i64>,
        percent_off: Option<i64>,
        stars_off: Option<i64>,
        expires_at: Option<i64>,
        disabled_at: Option<i64>,
    }
    let row: Row = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT o.product_id, p.creator_id, o.list_price_stars, o.amount_stars,
                d.creator_id AS code_creator, d.product_id AS code_product,
                d.percent_off, d.stars_off, d.expires_at, d.disabled_at
         FROM orders o JOIN products p ON p.id = o.product_id
         JOIN discount_codes d ON d.id = o.discount_code_id
         WHERE o.public_id = $1",
    )
    .bind(payload)
    .fetch_optional(pool)
    .await)
    .map_err(|err| {
        tracing::error!(error = %err, "discount pre-checkout lookup failed; declining");
        Decline::Unavailable
    })?
    .ok_or(Decline::UnknownOrder)?;
    if row.disabled_at.is_some() {
        return Err(Decline::CodeDisabled);
    }
    if row.expires_at.is_some_and(|at| at <= now) {
        return Err(Decline::CodeExpired);
    }
    if row.code_creator != row.creator_id || row.code_product.is_some_and(|p| p != row.product_id) {
        return Err(Decline::CodeOtherProduct);
    }
    let off = match (row.percent_off, row.stars_off) {
        (Some(p), None) => u32::try_from(p).ok().map(Off::Percent),
        (None, Some(s)) => u32::try_from(s).ok().map(Off::Stars),
        _ => None,
    };
    let list = row.list_price_stars.and_then(|l| Stars::from_i64(l).ok());
    match (off, list) {
        (Some(off), Some(list)) if off.apply(list).as_i64() == row.amount_stars => Ok(()),
        _ => Err(Decline::PriceChanged),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stars(n: u32) -> Stars {
        Stars::new(n).unwrap()
    }

    #[test]
    fn codes_ignore_case_and_spaces_and_refuse_odd_characters() {
        assert_eq!(normalize("  spring-25 ").as_deref(), Some("SPRING-25"));
        assert_eq!(normalize("Save_10").as_deref(), Some("SAVE_10"));
        assert_eq!(normalize("ab"), None);
        assert_eq!(normalize(&"A".repeat(33)), None);
        assert_eq!(normalize("NO SPACE"), None);
        assert_eq!(normalize("СКИДКА"), None);
    }

    #[test]
    fn discounts_round_for_the_buyer_and_never_go_below_one_star() {
        assert_eq!(Off::Percent(20).apply(stars(250)), stars(200));
        // 15 % of 99 is 14.85: 14 off, 85 to pay.
        assert_eq!(Off::Percent(15).apply(stars(99)), stars(85));
        assert_eq!(Off::Percent(99).apply(stars(1)), stars(1));
        assert_eq!(Off::Stars(50).apply(stars(120)), stars(70));
        assert_eq!(Off::Stars(500).apply(stars(120)), stars(1));
        assert_eq!(Off::Stars(119).apply(stars(120)), stars(1));
    }
}
