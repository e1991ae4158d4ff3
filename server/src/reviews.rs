//! Reviews from verified buyers (issue #19): who may write one, what counts, and the creator's
//! side (one reply, hiding). A review counts while it is not hidden and its author still has a
//! paid order of the product; the counted figures are kept on the product by
//! [`ratings::RECOUNT`], run after every change here and by the ledger when a refund or a
//! purchase changes who paid.

use crate::db::Db;
use crate::ratings::{paid_by_author, paid_for, RECOUNT, RESCORE};
use crate::studio::markdown;
use crate::studio::roles::Caller;
use app::api::{MyReview, Rating, Review, Reviews};
use app::studio::types::StudioReview;
use app::text;
use app::texts::Text;

/// The most a review's or a reply's text may hold, in characters.
pub const TEXT_MAX: usize = 2_000;
/// Reviews a product page shows.
const NEWEST: i64 = 10;
/// Reviews the studio lists, newest first.
const STUDIO_LIST: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// A rule said no; the text says which.
    #[error("{0}")]
    Refused(Text),
    #[error("{message}")]
    Invalid { field: &'static str, message: Text },
    #[error("no such review")]
    NotFound,
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

fn invalid(field: &'static str, message: Text) -> ReviewError {
    ReviewError::Invalid { field, message }
}

/// The rating a card or page shows from a product's kept counts.
pub fn rating_of(count: i64, score: i64) -> Option<Rating> {
    (count > 0).then(|| Rating {
        count: u32::try_from(count).unwrap_or(u32::MAX),
        average_x100: u32::try_from(score).unwrap_or(0),
    })
}

/// A text as stored: trimmed, within [`TEXT_MAX`].
fn checked_text(text: &str, field: &'static str) -> Result<String, ReviewError> {
    let text = text.trim();
    if text.chars().count() > TEXT_MAX {
        return Err(invalid(field, text!(reviews.too_long, max = TEXT_MAX)));
    }
    Ok(text.to_owned())
}

async fn recount(db: &Db, product_id: i64) -> Result<(), sqlx::Error> {
    crate::on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(RECOUNT)
            .bind(product_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(RESCORE)
            .bind(product_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    })
}

#[derive(sqlx::FromRow)]
struct MineRow {
    product_id: i64,
    eligible: bool,
    rating: Option<i64>,
    body: Option<String>,
    hidden: Option<bool>,
    reply_html: Option<String>,
}

async fn mine_row(db: &Db, user_id: i64, slug: &str) -> Result<Option<MineRow>, sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_as(concat!(
        "SELECT p.id AS product_id, (",
        paid_for!("$1", "p.id"),
        ") AS eligible, r.rating, r.body, r.hidden_at IS NOT NULL AS hidden, r.reply_html
         FROM products p LEFT JOIN reviews r ON r.product_id = p.id AND r.user_id = $1
         WHERE p.slug = $2"
    ))
    .bind(user_id)
    .bind(slug)
    .fetch_optional(pool)
    .await)
}

fn no_product() -> ReviewError {
    ReviewError::Refused(text!(errors.not_on_sale))
}

/// `user_id`'s review of `slug` and whether they may write one.
pub async fn mine(db: &Db, user_id: i64, slug: &str) -> Result<MyReview, ReviewError> {
    let row = mine_row(db, user_id, slug).await?.ok_or_else(no_product)?;
    Ok(MyReview {
        eligible: row.eligible,
        rating: row.rating.and_then(|r| u8::try_from(r).ok()),
        body: row.body.unwrap_or_default(),
        hidden: row.hidden.unwrap_or(false),
        reply_html: row.reply_html,
    })
}

/// Writes or rewrites `user_id`'s review of `slug`: only a buyer who paid and was not refunded,
/// 1 to 5 stars, a text of at most [`TEXT_MAX`] characters. A hidden review stays hidden when
/// edited; the creator's reply stays.
pub async fn write(
    db: &Db,
    user_id: i64,
    slug: &str,
    rating: u8,
    body: &str,
    now: i64,
) -> Result<MyReview, ReviewError> {
    if !(1..=5).contains(&rating) {
        return Err(invalid("rating", text!(reviews.pick_rating)));
    }
    let body = checked_text(body, "body")?;
    let row = mine_row(db, user_id, slug).await?.ok_or_else(no_product)?;
    if !row.eligible {
        return Err(ReviewError::Refused(text!(reviews.not_eligible)));
    }
    let body_html = markdown::render(&body);
    crate::on_db!(db, |pool| sqlx::query(
        "INSERT INTO reviews (product_id, user_id, rating, body, body_html, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (product_id, user_id) DO UPDATE
           SET rating = excluded.rating, body = excluded.body, body_html = excluded.body_html,
               updated_at = excluded.updated_at",
    )
    .bind(row.product_id)
    .bind(user_id)
    .bind(i64::from(rating))
    .bind(&body)
    .bind(&body_html)
    .bind(now)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    recount(db, row.product_id).await?;
    mine(db, user_id, slug).await
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    author: String,
    rating: i64,
    body_html: String,
    updated_at: i64,
    reply_html: Option<String>,
}

/// What product `product_id`'s page shows of its reviews; `count` and `score` are the kept
/// figures read with the product.
pub async fn summary(
    db: &Db,
    product_id: i64,
    count: i64,
    score: i64,
) -> Result<Reviews, sqlx::Error> {
    let rating = rating_of(count, score);
    if rating.is_none() {
        return Ok(Reviews::default());
    }
    macro_rules! counted {
        () => {
            concat!(
                "r.product_id = $1 AND r.hidden_at IS NULL AND ",
                paid_by_author!()
            )
        };
    }
    let per_stars: Vec<(i64, i64)> = crate::on_db!(db, |pool| sqlx::query_as(concat!(
        "SELECT r.rating, COUNT(*) FROM reviews r WHERE ",
        counted!(),
        " GROUP BY r.rating"
    ))
    .bind(product_id)
    .fetch_all(pool)
    .await)?;
    let mut distribution = [0u32; 5];
    for (stars, n) in per_stars {
        if let Some(slot) = usize::try_from(stars - 1)
            .ok()
            .and_then(|i| distribution.get_mut(i))
        {
            *slot = u32::try_from(n).unwrap_or(u32::MAX);
        }
    }
    let rows: Vec<ReviewRow> = crate::on_db!(db, |pool| sqlx::query_as(concat!(
        "SELECT u.first_name AS author, r.rating, r.body_html, r.updated_at, r.reply_html
         FROM reviews r JOIN users u ON u.id = r.user_id
         WHERE ",
        counted!(),
        " ORDER BY r.created_at DESC, r.id DESC LIMIT $2"
    ))
    .bind(product_id)
    .bind(NEWEST)
    .fetch_all(pool)
    .await)?;
    Ok(Reviews {
        rating,
        distribution,
        newest: rows
            .into_iter()
            .map(|row| Review {
                author: row.author,
                rating: u8::try_from(row.rating).unwrap_or(0),
                body_html: row.body_html,
                written_at: row.updated_at,
                reply_html: row.reply_html,
            })
            .collect(),
    })
}

#[derive(sqlx::FromRow)]
struct StudioRow {
    id: i64,
    product_id: i64,
    product_title: String,
    author: String,
    rating: i64,
    body_html: String,
    updated_at: i64,
    hidden: bool,
    counted: bool,
    reply_html: Option<String>,
}

/// The reviews of the caller's products (every product for an admin), newest first, hidden
/// ones included.
pub async fn for_studio(db: &Db, caller: Caller) -> Result<Vec<StudioReview>, ReviewError> {
    let rows: Vec<StudioRow> = crate::on_db!(db, |pool| sqlx::query_as(concat!(
        "SELECT r.id, r.product_id, p.title AS product_title, u.first_name AS author, r.rating,
                r.body_html, r.updated_at, r.hidden_at IS NOT NULL AS hidden, (",
        paid_by_author!(),
        ") AS counted, r.reply_html
         FROM reviews r JOIN products p ON p.id = r.product_id JOIN users u ON u.id = r.user_id
         WHERE $1 OR p.creator_id = $2
         ORDER BY r.created_at DESC, r.id DESC LIMIT $3"
    ))
    .bind(caller.is_admin())
    .bind(caller.user_id)
    .bind(STUDIO_LIST)
    .fetch_all(pool)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|row| StudioReview {
            id: row.id,
            product_id: row.product_id,
            product_title: row.product_title,
            author: row.author,
            rating: u8::try_from(row.rating).unwrap_or(0),
            body_html: row.body_html,
            written_at: row.updated_at,
            hidden: row.hidden,
            refunded: !row.counted,
            reply_html: row.reply_html,
        })
        .collect())
}

/// The review `id` if it is of one of the caller's products (any, for an admin): its product.
async fn owned_review(db: &Db, caller: Caller, id: i64) -> Result<i64, ReviewError> {
    let product: Option<i64> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT r.product_id FROM reviews r JOIN products p ON p.id = r.product_id
         WHERE r.id = $1 AND ($2 OR p.creator_id = $3)",
    )
    .bind(id)
    .bind(caller.is_admin())
    .bind(caller.user_id)
    .fetch_optional(pool)
    .await)?;
    product.ok_or(ReviewError::NotFound)
}

/// The creator's one reply to review `id`.
pub async fn reply(
    db: &Db,
    caller: Caller,
    id: i64,
    text: &str,
    now: i64,
) -> Result<(), ReviewError> {
    let text = checked_text(text, "text")?;
    if text.is_empty() {
        return Err(invalid("text", text!(reviews.reply_empty)));
    }
    owned_review(db, caller, id).await?;
    let html = markdown::render(&text);
    let done = crate::on_db!(db, |pool| sqlx::query(
        "UPDATE reviews SET reply = $1, reply_html = $2, replied_at = $3
         WHERE id = $4 AND reply IS NULL",
    )
    .bind(&text)
    .bind(&html)
    .bind(now)
    .bind(id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    if done.rows_affected() == 0 {
        return Err(ReviewError::Refused(text!(reviews.replied_already)));
    }
    Ok(())
}

/// Hides review `id` (it stops showing and counting, and its author is told) or shows it again.
pub async fn set_hidden(
    db: &Db,
    caller: Caller,
    id: i64,
    hidden: bool,
    now: i64,
) -> Result<(), ReviewError> {
    let product_id = owned_review(db, caller, id).await?;
    // Hiding again keeps when it was first hidden.
    let hidden_at = hidden.then_some(now);
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE reviews SET hidden_at = CASE WHEN $1 THEN COALESCE(hidden_at, $2) END
         WHERE id = $3"
    )
    .bind(hidden)
    .bind(hidden_at)
    .bind(id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    recount(db, product_id).await?;
    Ok(())
}
