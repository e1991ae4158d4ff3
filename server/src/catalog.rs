//! Catalog queries: what is on sale and what a product page shows.

use crate::db::Db;
use crate::storage::Storage;
use app::api::{
    AudioTrack, BundlePart, CatalogPage, CatalogQuery, CatalogSort, LessonSummary, ProductCard,
    ProductKind, ProductPage, PublicFile,
};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error("stored product {slug} is inconsistent: {reason}")]
    Corrupt { slug: String, reason: String },
}

/// At most this many words of a search count (a guard against pathological queries).
const MAX_SEARCH_WORDS: usize = 8;

#[derive(sqlx::FromRow)]
struct CardRow {
    id: i64,
    slug: String,
    title: String,
    kind: String,
    price_stars: i64,
    creator_name: String,
    cover_key: Option<String>,
    rating_count: i64,
    rating_score: i64,
    bundle_parts: i64,
}

impl CardRow {
    fn into_card(self) -> Result<ProductCard, CatalogError> {
        let corrupt = |reason: String| CatalogError::Corrupt {
            slug: self.slug.clone(),
            reason,
        };
        let kind = self
            .kind
            .parse::<ProductKind>()
            .map_err(|e| corrupt(e.to_string()))?;
        let price_stars = u32::try_from(self.price_stars)
            .map_err(|_| corrupt(format!("price {}", self.price_stars)))?;
        Ok(ProductCard {
            cover_url: self.cover_key.as_deref().map(Storage::public_url),
            slug: self.slug,
            title: self.title,
            kind,
            price_stars,
            creator_name: self.creator_name,
            rating: crate::reviews::rating_of(self.rating_count, self.rating_score),
            bundle_parts: u32::try_from(self.bundle_parts).unwrap_or(0),
        })
    }
}

/// What a card reads of a product (`p`) and its creator (`c`), in [`CardRow`]'s order.
macro_rules! card_columns {
    () => {
        "p.id, p.slug, p.title, p.kind, p.price_stars, c.display_name AS creator_name, p.cover_key,
         p.rating_count, p.rating_score,
         (SELECT COUNT(*) FROM bundle_items bi WHERE bi.bundle_id = p.id) AS bundle_parts"
    };
}

/// The search words as an FTS5 query: every word must match, as a word or the start of one.
/// Words are quoted, so FTS5 operators typed by a user are only text.
pub fn fts_query(search: &str) -> Option<String> {
    let words: Vec<String> = search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_SEARCH_WORDS)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The same search as a PostgreSQL `tsquery` (for `to_tsquery('simple', …)`): every word as a
/// quoted prefix term. The words hold only letters and digits, so nothing a user types is an
/// operator or breaks the quoting.
pub fn ts_query(search: &str) -> Option<String> {
    let words: Vec<String> = search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_SEARCH_WORDS)
        .map(|w| format!("'{w}':*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

/// One page of published products, newest first, narrowed by kind and search words.
pub async fn list_published(
    db: &Db,
    query: &CatalogQuery,
    per_page: u32,
) -> Result<CatalogPage, CatalogError> {
    let kind = query.kind.map(ProductKind::as_str);
    let search = query.search().and_then(match db {
        Db::Sqlite(_) => fts_query,
        Db::Postgres(_) => ts_query,
    });
    if query.search().is_some() && search.is_none() {
        // Only punctuation: nothing can match.
        return Ok(CatalogPage {
            items: vec![],
            total: 0,
            page: 1,
            per_page,
        });
    }
    // Static SQL per shape of query (sqlx takes only static text; macros assemble it), so that
    // each shape has a plan that reads one page of an index in order: newest first over every
    // kind (products_newest) or within one (products_kind_newest), best rated first likewise
    // (products_top_rated, products_kind_top_rated). A kind written as
    // `($1 IS NULL OR p.kind = $1)` would leave the planner one plan for both, scanning.
    // Search differs per database: FTS5 in SQLite, a tsvector column in PostgreSQL.
    macro_rules! kind {
        (any) => {
            "p.status = 'published' AND $1 IS NULL"
        };
        (one) => {
            "p.status = 'published' AND p.kind = $1"
        };
    }
    macro_rules! search {
        (sqlite) => {
            " AND ($2 IS NULL OR p.id IN (SELECT rowid FROM products_search WHERE products_search MATCH $2))"
        };
        (postgres) => {
            " AND ($2 IS NULL OR p.search @@ to_tsquery('simple', $2))"
        };
    }
    macro_rules! order {
        (newest) => {
            " ORDER BY p.published_at DESC, p.id DESC"
        };
        (rating) => {
            " ORDER BY p.rating_score DESC, p.published_at DESC, p.id DESC"
        };
    }
    macro_rules! sql {
        ($db:tt, $kind:tt, $order:tt) => {
            (
                concat!(
                    "SELECT COUNT(*) FROM products p WHERE ",
                    kind!($kind),
                    search!($db)
                ),
                concat!(
                    "SELECT ",
                    card_columns!(),
                    "
                     FROM products p JOIN creators c ON c.user_id = p.creator_id
                     WHERE ",
                    kind!($kind),
                    search!($db),
                    order!($order),
                    " LIMIT $3 OFFSET $4"
                ),
            )
        };
    }
    let (count_sql, page_sql) = match (db, kind, query.sort()) {
        (Db::Sqlite(_), None, CatalogSort::Newest) => sql!(sqlite, any, newest),
        (Db::Sqlite(_), Some(_), CatalogSort::Newest) => sql!(sqlite, one, newest),
        (Db::Postgres(_), None, CatalogSort::Newest) => sql!(postgres, any, newest),
        (Db::Postgres(_), Some(_), CatalogSort::Newest) => sql!(postgres, one, newest),
        (Db::Sqlite(_), None, CatalogSort::Rating) => sql!(sqlite, any, rating),
        (Db::Sqlite(_), Some(_), CatalogSort::Rating) => sql!(sqlite, one, rating),
        (Db::Postgres(_), None, CatalogSort::Rating) => sql!(postgres, any, rating),
        (Db::Postgres(_), Some(_), CatalogSort::Rating) => sql!(postgres, one, rating),
    };
    let total: i64 = match &search {
        // Counted by triggers as products change (migration catalog_counts): the same cost at
        // any size of catalog. A search counts its matches.
        None => crate::on_db!(db, |pool| sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(published), 0) AS BIGINT) FROM catalog_counts
             WHERE $1 IS NULL OR kind = $1"
        )
        .bind(kind)
        .fetch_one(pool)
        .await)?,
        Some(search) => crate::on_db!(db, |pool| sqlx::query_scalar(count_sql)
            .bind(kind)
            .bind(Some(search.as_str()))
            .fetch_one(pool)
            .await)?,
    };
    let total = u32::try_from(total).unwrap_or(u32::MAX);
    let per_page = per_page.max(1);
    let pages = total.div_ceil(per_page).max(1);
    let page = query.page().min(pages);
    let rows: Vec<CardRow> = crate::on_db!(db, |pool| {
        sqlx::query_as(page_sql)
            .bind(kind)
            .bind(search.as_deref())
            .bind(i64::from(per_page))
            .bind(i64::from(page - 1) * i64::from(per_page))
            .fetch_all(pool)
            .await
    })?;
    Ok(CatalogPage {
        items: rows
            .into_iter()
            .map(CardRow::into_card)
            .collect::<Result<_, _>>()?,
        total,
        page,
        per_page,
    })
}

#[derive(sqlx::FromRow)]
struct FileRow {
    id: i64,
    role: String,
    mime_type: String,
    file_name: String,
    size_bytes: i64,
    storage_key: String,
}

#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    card: CardRow,
    description: String,
    billing: String,
}

/// A published product by slug, with its sample and what a buyer gets.
pub async fn published_product(db: &Db, slug: &str) -> Result<Option<ProductPage>, CatalogError> {
    let row: Option<PageRow> = crate::on_db!(db, |pool| sqlx::query_as(concat!(
        "SELECT ",
        card_columns!(),
        ", p.description, p.billing
         FROM products p JOIN creators c ON c.user_id = p.creator_id
         WHERE p.slug = $1 AND p.status = 'published'"
    ),)
    .bind(slug)
    .fetch_optional(pool)
    .await)?;
    let Some(PageRow {
        card,
        description,
        billing,
    }) = row
    else {
        return Ok(None);
    };
    let files: Vec<FileRow> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT id, role, mime_type, file_name, size_bytes, storage_key FROM product_files
         WHERE product_id = $1 ORDER BY id",
    )
    .bind(card.id)
    .fetch_all(pool)
    .await)?;

    let mut sample = None;
    let mut tracks = Vec::new();
    let (mut content_files, mut content_bytes) = (0u32, 0u64);
    for file in files {
        let size = u64::try_from(file.size_bytes).unwrap_or(0);
        match file.role.as_str() {
            "sample" if sample.is_none() => {
                sample = Some(PublicFile {
                    url: Storage::public_url(&file.storage_key),
                    name: file.file_name,
                    size_bytes: size,
                })
            }
            "content" => {
                content_files += 1;
                content_bytes += size;
                if crate::audio::previewable(&file.mime_type) {
                    tracks.push(AudioTrack {
                        preview_url: crate::audio::preview_url(file.id),
                        name: file.file_name,
                    });
                }
            }
            _ => {}
        }
    }
    let lessons: Vec<(i64, String, bool)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT id, title, is_preview FROM lessons WHERE product_id = $1 ORDER BY position, id",
    )
    .bind(card.id)
    .fetch_all(pool)
    .await)?;
    let min_price_stars: Option<i64> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT min_price_stars FROM products WHERE id = $1"
    )
    .bind(card.id)
    .fetch_one(pool)
    .await)?;
    let reviews =
        crate::reviews::summary(db, card.id, card.rating_count, card.rating_score).await?;
    let bundle = match card.bundle_parts {
        0 => Vec::new(),
        _ => bundle_parts(db, card.id).await?,
    };
    Ok(Some(ProductPage {
        reviews,
        reviews_html: String::new(),
        bundle,
        bundle_html: String::new(),
        tracks,
        tracks_html: String::new(),
        min_price_stars: min_price_stars.and_then(|m| u32::try_from(m).ok()),
        card: card.into_card()?,
        description_html: crate::studio::markdown::render(&description),
        description,
        sample,
        content_bytes,
        content_files,
        lessons: lessons
            .into_iter()
            .map(|(id, title, is_preview)| LessonSummary {
                id,
                title,
                is_preview,
            })
            .collect(),
        billing: app::api::Billing::parse(&billing).unwrap_or_default(),
    }))
}

/// The products bundle `bundle_id` holds, in the order the creator added them.
pub async fn bundle_parts(db: &Db, bundle_id: i64) -> Result<Vec<BundlePart>, CatalogError> {
    let rows: Vec<(String, String, String, i64)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT p.slug, p.title, p.kind, p.price_stars
         FROM bundle_items bi JOIN products p ON p.id = bi.product_id
         WHERE bi.bundle_id = $1 ORDER BY bi.position, p.id",
    )
    .bind(bundle_id)
    .fetch_all(pool)
    .await)?;
    rows.into_iter()
        .map(|(slug, title, kind, price)| {
            let corrupt = |reason: String| CatalogError::Corrupt {
                slug: slug.clone(),
                reason,
            };
            Ok(BundlePart {
                kind: kind
                    .parse()
                    .map_err(|e: app::api::UnknownKind| corrupt(e.to_string()))?,
                price_stars: u32::try_from(price).map_err(|_| corrupt(format!("price {price}")))?,
                title,
                slug,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_become_quoted_prefix_terms() {
        assert_eq!(
            fts_query("rust guide").as_deref(),
            Some(r#""rust"* "guide"*"#)
        );
        assert_eq!(fts_query("Акварель").as_deref(), Some(r#""Акварель"*"#));
        // FTS5 syntax typed by a user is just more words.
        assert_eq!(
            fts_query(r#"a" OR title:*"#).as_deref(),
            Some(r#""a"* "OR"* "title"*"#)
        );
        assert_eq!(fts_query(" -- ** "), None);
        assert_eq!(
            fts_query(&"w ".repeat(50)).map(|q| q.matches('*').count()),
            Some(MAX_SEARCH_WORDS)
        );
    }

    #[test]
    fn search_words_become_tsquery_prefix_terms() {
        assert_eq!(
            ts_query("rust guide").as_deref(),
            Some("'rust':* & 'guide':*")
        );
        assert_eq!(ts_query("Акварель").as_deref(), Some("'Акварель':*"));
        // tsquery operators and quotes typed by a user are only separators.
        assert_eq!(
            ts_query("it's a & !b | c:*").as_deref(),
            Some("'it':* & 's':* & 'a':* & 'b':* & 'c':*")
        );
        assert_eq!(ts_query(" -- ** "), None);
        assert_eq!(
            ts_query(&"w ".repeat(50)).map(|q| q.matches(":*").count()),
            Some(MAX_SEARCH_WORDS)
        );
    }
}
