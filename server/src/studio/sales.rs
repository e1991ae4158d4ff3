//! The sales dashboard: totals, per product, per day (with the chart), the orders with their
//! downloads, and supporters. A creator sees their own; an admin everyone's, or one creator's.

use super::chart;
use super::roles::Caller;
use super::StudioError;
use crate::db::Db;
use app::studio::types::{
    DaySales, ProductSales, SalesDashboard, SalesTotals, StudioOrder, Supporter,
};

/// Days the chart covers, today included.
pub const CHART_DAYS: i64 = 30;
/// Orders listed, newest first.
const ORDERS_SHOWN: i64 = 200;
const SECONDS_PER_DAY: i64 = 86_400;

/// Whose sales: `None` is everyone's (admins only).
pub fn scope(caller: Caller, creator: Option<i64>) -> Result<Option<i64>, StudioError> {
    let caller = caller.require_studio()?;
    match creator {
        Some(id) if id != caller.user_id => {
            caller.require_admin()?;
            Ok(Some(id))
        }
        Some(id) => Ok(Some(id)),
        None if caller.is_admin() => Ok(None),
        None => Ok(Some(caller.user_id)),
    }
}

#[derive(sqlx::FromRow)]
struct TotalsRow {
    sales: i64,
    gross: i64,
    refunds: i64,
    refunded: i64,
}

impl From<TotalsRow> for SalesTotals {
    fn from(r: TotalsRow) -> Self {
        let gross = u64::try_from(r.gross).unwrap_or(0);
        let refunded = u64::try_from(r.refunded).unwrap_or(0);
        SalesTotals {
            sales: u32::try_from(r.sales).unwrap_or(0),
            gross_stars: gross,
            refunds: u32::try_from(r.refunds).unwrap_or(0),
            refunded_stars: refunded,
            net_stars: gross.saturating_sub(refunded),
        }
    }
}

/// An order counts as a sale once paid; a refund keeps the sale and counts against the net.
const TOTALS: &str = "count(o.id) AS sales,
        CAST(coalesce(sum(o.amount_stars), 0) AS BIGINT) AS gross,
        count(CASE WHEN o.status = 'refunded' THEN 1 END) AS refunds,
        CAST(coalesce(sum(CASE WHEN o.status = 'refunded' THEN o.amount_stars END), 0) AS BIGINT) AS refunded";

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: i64,
    slug: String,
    title: String,
    #[sqlx(flatten)]
    totals: TotalsRow,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    public_id: String,
    slug: String,
    title: String,
    buyer_id: i64,
    first_name: String,
    last_name: Option<String>,
    username: Option<String>,
    amount_stars: i64,
    status: String,
    created_at: i64,
    paid_at: Option<i64>,
    refunded_at: Option<i64>,
    downloads: i64,
    last_download_at: Option<i64>,
}

fn person(first: &str, last: Option<&str>, username: Option<&str>) -> String {
    let mut name = first.to_owned();
    if let Some(last) = last.filter(|l| !l.is_empty()) {
        name.push(' ');
        name.push_str(last);
    }
    if let Some(username) = username.filter(|u| !u.is_empty()) {
        name.push_str(&format!(" (@{username})"));
    }
    name
}

pub async fn dashboard(
    db: &Db,
    creator: Option<i64>,
    now: i64,
    locale: app::i18n::Locale,
) -> Result<SalesDashboard, StudioError> {
    let totals: TotalsRow =
        crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TOTALS} FROM orders o JOIN products p ON p.id = o.product_id
         WHERE o.status IN ('paid', 'refunded') AND ($1 IS NULL OR p.creator_id = $1)"
        )))
        .bind(creator)
        .fetch_one(pool)
        .await)?;

    let products: Vec<ProductRow> =
        crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT p.id, p.slug, p.title, {TOTALS}
         FROM products p
         LEFT JOIN orders o ON o.product_id = p.id AND o.status IN ('paid', 'refunded')
         WHERE ($1 IS NULL OR p.creator_id = $1)
         GROUP BY p.id ORDER BY gross DESC, p.id DESC"
        )))
        .bind(creator)
        .fetch_all(pool)
        .await)?;

    let today = now.div_euclid(SECONDS_PER_DAY);
    let first = today - (CHART_DAYS - 1);
    let paid: Vec<(i64, i64, i64)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT o.paid_at / 86400 AS day, count(*), CAST(sum(o.amount_stars) AS BIGINT)
         FROM orders o JOIN products p ON p.id = o.product_id
         WHERE o.status IN ('paid', 'refunded') AND o.paid_at >= $2
           AND ($1 IS NULL OR p.creator_id = $1)
         GROUP BY day",
    )
    .bind(creator)
    .bind(first * SECONDS_PER_DAY)
    .fetch_all(pool)
    .await)?;
    let refunded: Vec<(i64, i64)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT o.refunded_at / 86400 AS day, CAST(sum(o.amount_stars) AS BIGINT)
         FROM orders o JOIN products p ON p.id = o.product_id
         WHERE o.status = 'refunded' AND o.refunded_at >= $2
           AND ($1 IS NULL OR p.creator_id = $1)
         GROUP BY day",
    )
    .bind(creator)
    .bind(first * SECONDS_PER_DAY)
    .fetch_all(pool)
    .await)?;
    let days: Vec<DaySales> = (first..=today)
        .map(|day| {
            let (sales, gross) = paid
                .iter()
                .find(|(d, _, _)| *d == day)
                .map_or((0, 0), |(_, n, s)| (*n, *s));
            let back = refunded
                .iter()
                .find(|(d, _)| *d == day)
                .map_or(0, |(_, s)| *s);
            DaySales {
                day: app::format::civil_date(day),
                sales: u32::try_from(sales).unwrap_or(0),
                gross_stars: u64::try_from(gross).unwrap_or(0),
                refunded_stars: u64::try_from(back).unwrap_or(0),
            }
        })
        .collect();

    let orders: Vec<OrderRow> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT o.public_id, p.slug, p.title, o.user_id AS buyer_id, u.first_name, u.last_name,
                u.username, o.amount_stars, o.status, o.created_at, o.paid_at, o.refunded_at,
                (SELECT count(*) FROM downloads d
                  WHERE d.user_id = o.user_id AND d.product_id = o.product_id) AS downloads,
                (SELECT max(d.created_at) FROM downloads d
                  WHERE d.user_id = o.user_id AND d.product_id = o.product_id) AS last_download_at
         FROM orders o
         JOIN products p ON p.id = o.product_id
         JOIN users u ON u.id = o.user_id
         WHERE o.status IN ('paid', 'refunded') AND ($1 IS NULL OR p.creator_id = $1)
         ORDER BY coalesce(o.paid_at, o.created_at) DESC, o.id DESC
         LIMIT $2",
    )
    .bind(creator)
    .bind(ORDERS_SHOWN)
    .fetch_all(pool)
    .await)?;

    let (supporters, tips_stars) = supporters(db, creator).await?;
    Ok(SalesDashboard {
        totals: totals.into(),
        products: products
            .into_iter()
            .map(|p| ProductSales {
                product_id: p.id,
                slug: p.slug,
                title: p.title,
                totals: p.totals.into(),
            })
            .collect(),
        chart_svg: chart::draw(&days, locale),
        days,
        orders: orders
            .into_iter()
            .map(|o| StudioOrder {
                buyer_name: person(&o.first_name, o.last_name.as_deref(), o.username.as_deref()),
                order_id: o.public_id,
                product_slug: o.slug,
                product_title: o.title,
                buyer_id: o.buyer_id,
                amount_stars: u32::try_from(o.amount_stars).unwrap_or(0),
                status: o.status,
                created_at: o.created_at,
                paid_at: o.paid_at,
                refunded_at: o.refunded_at,
                downloads: u32::try_from(o.downloads).unwrap_or(0),
                last_download_at: o.last_download_at,
            })
            .collect(),
        supporters,
        tips_stars,
        memberships: crate::payments::memberships::stats(db, creator, now).await?,
    })
}

pub(crate) fn supporter_name(first: &str, last: Option<&str>, username: Option<&str>) -> String {
    person(first, last, username)
}

pub(crate) fn to_supporter(
    user_id: i64,
    name: String,
    amount: i64,
    paid_at: i64,
    product_title: Option<String>,
) -> Supporter {
    Supporter {
        user_id,
        name,
        amount_stars: u32::try_from(amount).unwrap_or(0),
        paid_at,
        product_title,
    }
}

/// Paid tips for `creator` (everyone's with `None`), newest first, and their sum.
pub async fn supporters(
    db: &Db,
    creator: Option<i64>,
) -> Result<(Vec<Supporter>, u64), sqlx::Error> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        String,
        Option<String>,
        Option<String>,
        i64,
        i64,
        Option<String>,
    )> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT t.user_id, u.first_name, u.last_name, u.username, t.amount_stars, t.paid_at,
                    p.title
             FROM tips t JOIN users u ON u.id = t.user_id
             LEFT JOIN products p ON p.id = t.product_id
             WHERE t.status = 'paid' AND ($1 IS NULL OR t.creator_id = $1)
             ORDER BY t.paid_at DESC, t.id DESC LIMIT 200",
    )
    .bind(creator)
    .fetch_all(pool)
    .await)?;
    let total: i64 = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT CAST(coalesce(sum(amount_stars), 0) AS BIGINT) FROM tips
         WHERE status = 'paid' AND ($1 IS NULL OR creator_id = $1)",
    )
    .bind(creator)
    .fetch_one(pool)
    .await)?;
    let list = rows
        .into_iter()
        .map(|(user_id, first, last, username, amount, paid_at, title)| {
            to_supporter(
                user_id,
                supporter_name(&first, last.as_deref(), username.as_deref()),
                amount,
                paid_at,
                title,
            )
        })
        .collect();
    Ok((list, u64::try_from(total).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_days_become_calendar_dates() {}

    #[test]
    fn creators_see_their_own_and_admins_choose() {
        use app::studio::types::Role;
        let creator = Caller {
            user_id: 5,
            role: Role::Creator,
        };
        let admin = Caller {
            user_id: 9,
            role: Role::Admin,
        };
        let member = Caller {
            user_id: 7,
            role: Role::Member,
        };
        assert_eq!(scope(creator, None).unwrap(), Some(5));
        assert!(matches!(
            scope(creator, Some(6)),
            Err(StudioError::Forbidden(_))
        ));
        assert_eq!(scope(admin, None).unwrap(), None);
        assert_eq!(scope(admin, Some(6)).unwrap(), Some(6));
        assert!(matches!(
            scope(member, None),
            Err(StudioError::Forbidden(_))
        ));
    }
}
