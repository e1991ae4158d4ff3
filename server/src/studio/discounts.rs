//! Discount codes and pay-what-you-want prices as creators set them: create, list and switch off
//! codes (`/api/studio/discounts`), and a product's minimum price
//! (`/api/studio/products/{id}/pwyw`). Checkout's side is in `payments::{discounts, pricing}`.

use super::roles::Caller;
use super::{products, StudioConfig, StudioError};
use crate::db::Db;
use crate::payments::discounts::{normalize, CODE_MAX, CODE_MIN};
use app::deals::{DiscountCode, DiscountCodeInput, PayWhatYouWant};
use app::text;
use app::texts::Text;
use clock::unix_now;

/// Why a code or a price setting cannot be saved; `Invalid` names the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum DealError {
    #[error("{message}")]
    Invalid { field: &'static str, message: Text },
    #[error(transparent)]
    Studio(#[from] StudioError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

fn invalid(field: &'static str, message: Text) -> DealError {
    DealError::Invalid { field, message }
}

#[derive(sqlx::FromRow)]
struct CodeListRow {
    id: i64,
    code: String,
    creator_id: i64,
    product_id: Option<i64>,
    product_title: Option<String>,
    percent_off: Option<i64>,
    stars_off: Option<i64>,
    max_uses: Option<i64>,
    used: i64,
    paid: i64,
    expires_at: Option<i64>,
    disabled_at: Option<i64>,
    created_at: i64,
}

impl From<CodeListRow> for DiscountCode {
    fn from(r: CodeListRow) -> Self {
        let small = |v: i64| u32::try_from(v).unwrap_or(0);
        DiscountCode {
            id: r.id,
            code: r.code,
            creator_id: r.creator_id,
            product_id: r.product_id,
            product_title: r.product_title,
            percent_off: r.percent_off.map(small),
            stars_off: r.stars_off.map(small),
            max_uses: r.max_uses.map(small),
            used: small(r.used),
            paid: small(r.paid),
            expires_at: r.expires_at,
            disabled_at: r.disabled_at,
            created_at: r.created_at,
        }
    }
}

const LIST_SQL: &str = "SELECT d.id, d.code, d.creator_id, d.product_id, p.title AS product_title,
        d.percent_off, d.stars_off, d.max_uses, d.used,
        (SELECT COUNT(*) FROM orders o
         WHERE o.discount_code_id = d.id AND o.status IN ('paid', 'refunded')) AS paid,
        d.expires_at, d.disabled_at, d.created_at
 FROM discount_codes d LEFT JOIN products p ON p.id = d.product_id";

/// The caller's codes (every creator's for an admin), newest first.
pub async fn list(db: &Db, caller: Caller) -> Result<Vec<DiscountCode>, DealError> {
    let rows: Vec<CodeListRow> = crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
        format!("{LIST_SQL} WHERE $1 OR d.creator_id = $2 ORDER BY d.id DESC")
    ))
    .bind(caller.is_admin())
    .bind(caller.user_id)
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().map(DiscountCode::from).collect())
}

async fn one(db: &Db, id: i64) -> Result<DiscountCode, DealError> {
    let row: Option<CodeListRow> = crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
        format!("{LIST_SQL} WHERE d.id = $1")
    ))
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    row.map(DiscountCode::from)
        .ok_or(DealError::Studio(StudioError::NotFound))
}

/// A new code, checked field by field. A product code belongs to the product's creator (an
/// admin may make one for any product); a code for all products belongs to the caller, who must
/// be a creator.
pub async fn create(
    db: &Db,
    caller: Caller,
    config: StudioConfig,
    input: &DiscountCodeInput,
    now: i64,
) -> Result<DiscountCode, DealError> {
    let code = normalize(&input.code).ok_or_else(|| {
        invalid(
            "code",
            text!(studio_errors.code_format, min = CODE_MIN, max = CODE_MAX),
        )
    })?;
    match (input.percent_off, input.stars_off) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "percent_off",
                text!(studio_errors.percent_or_stars_not_both),
            ))
        }
        (None, None) => {
            return Err(invalid(
                "percent_off",
                text!(studio_errors.percent_or_stars),
            ))
        }
        (Some(p), None) if !(1..=99).contains(&p) => {
            return Err(invalid("percent_off", text!(studio_errors.percent_range)))
        }
        (None, Some(s)) if s < 1 || s > config.max_price_stars => {
            return Err(invalid(
                "stars_off",
                text!(studio_errors.stars_off_range, max = config.max_price_stars),
            ))
        }
        _ => {}
    }
    if input.max_uses == Some(0) {
        return Err(invalid("max_uses", text!(studio_errors.limit_min)));
    }
    if input.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid("expires_at", text!(studio_errors.expiry_future)));
    }
    let creator_id = match input.product_id {
        Some(product_id) => {
            let row: Option<(i64, Option<i64>)> = crate::on_db!(db, |pool| sqlx::query_as(
                "SELECT creator_id, min_price_stars FROM products WHERE id = $1"
            )
            .bind(product_id)
            .fetch_optional(pool)
            .await)?;
            let Some((creator_id, min_price)) = row else {
                return Err(invalid("product_id", text!(studio_errors.no_product)));
            };
            caller
                .require_owner(creator_id)
                .map_err(|_| invalid("product_id", text!(studio_errors.not_yours)))?;
            if min_price.is_some() {
                return Err(invalid("product_id", text!(studio_errors.codes_not_pwyw)));
            }
            creator_id
        }
        None => {
            if !super::roles::is_creator(db, caller.user_id).await? {
                return Err(invalid("product_id", text!(studio_errors.pick_product)));
            }
            caller.user_id
        }
    };
    let id: Option<i64> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "INSERT INTO discount_codes
           (creator_id, product_id, code, percent_off, stars_off, max_uses, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (creator_id, code) DO NOTHING
         RETURNING id",
    )
    .bind(creator_id)
    .bind(input.product_id)
    .bind(&code)
    .bind(input.percent_off.map(i64::from))
    .bind(input.stars_off.map(i64::from))
    .bind(input.max_uses.map(i64::from))
    .bind(input.expires_at)
    .bind(now)
    .fetch_optional(pool)
    .await)?;
    let Some(id) = id else {
        return Err(invalid(
            "code",
            text!(studio_errors.code_exists, code = &code),
        ));
    };
    one(db, id).await
}

/// Switches a code off: new orders cannot use it, and pending orders made with it are declined
/// at pre-checkout. Switching off twice changes nothing.
pub async fn disable(
    db: &Db,
    caller: Caller,
    id: i64,
    now: i64,
) -> Result<DiscountCode, DealError> {
    let code = one(db, id).await?;
    caller.require_owner(code.creator_id)?;
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE discount_codes SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL"
    )
    .bind(now)
    .bind(id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    one(db, id).await
}

pub async fn pay_what_you_want(db: &Db, product_id: i64) -> Result<PayWhatYouWant, DealError> {
    let min: Option<i64> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT min_price_stars FROM products WHERE id = $1"
    )
    .bind(product_id)
    .fetch_optional(pool)
    .await)?
    .ok_or(DealError::Studio(StudioError::NotFound))?;
    Ok(PayWhatYouWant {
        min_price_stars: min.and_then(|m| u32::try_from(m).ok()),
    })
}

/// Turns pay-what-you-want on (a minimum, at most the product's price, which becomes the
/// suggested amount) or off (none).
pub async fn set_pay_what_you_want(
    db: &Db,
    caller: Caller,
    product_id: i64,
    input: &PayWhatYouWant,
) -> Result<PayWhatYouWant, DealError> {
    products::owned(db, caller, product_id).await?;
    let price: i64 = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT price_stars FROM products WHERE id = $1"
    )
    .bind(product_id)
    .fetch_one(pool)
    .await)?;
    if let Some(min) = input.min_price_stars {
        if min < 1 || i64::from(min) > price {
            return Err(invalid(
                "min_price_stars",
                text!(studio_errors.pwyw_min_range, price = price),
            ));
        }
    }
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE products SET min_price_stars = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(input.min_price_stars.map(i64::from))
    .bind(unix_now())
    .bind(product_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    pay_what_you_want(db, product_id).await
}
