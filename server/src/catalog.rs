//! Catalog queries: what is on sale and what a product page shows.

use crate::db::Db;
use crate::storage::LocalStorage;
use app::api::{ProductCard, ProductKind, ProductPage, PublicFile};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error("stored product {slug} is inconsistent: {reason}")]
    Corrupt { slug: String, reason: String },
}

/// How many products one catalog page shows.
const PAGE_SIZE: i64 = 100;

#[derive(sqlx::FromRow)]
struct CardRow {
    id: i64,
    slug: String,
    title: String,
    kind: String,
    price_stars: i64,
    creator_name: String,
    cover_key: Option<String>,
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
            cover_url: self.cover_key.as_deref().map(LocalStorage::public_url),
            slug: self.slug,
            title: self.title,
            kind,
            price_stars,
            creator_name: self.creator_name,
        })
    }
}

/// Published products, newest first, optionally of one kind.
pub async fn list_published(
    db: &Db,
    kind: Option<ProductKind>,
) -> Result<Vec<ProductCard>, CatalogError> {
    let rows: Vec<CardRow> = sqlx::query_as(
        "SELECT p.id, p.slug, p.title, p.kind, p.price_stars, c.display_name AS creator_name, p.cover_key
         FROM products p JOIN creators c ON c.user_id = p.creator_id
         WHERE p.status = 'published' AND (?1 IS NULL OR p.kind = ?1)
         ORDER BY p.published_at DESC, p.id DESC
         LIMIT ?2",
    )
    .bind(kind.map(ProductKind::as_str))
    .bind(PAGE_SIZE)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(CardRow::into_card).collect()
}

#[derive(sqlx::FromRow)]
struct FileRow {
    role: String,
    file_name: String,
    size_bytes: i64,
    storage_key: String,
}

#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    card: CardRow,
    description: String,
}

/// A published product by slug, with its sample and what a buyer gets.
pub async fn published_product(db: &Db, slug: &str) -> Result<Option<ProductPage>, CatalogError> {
    let row: Option<PageRow> = sqlx::query_as(
        "SELECT p.id, p.slug, p.title, p.kind, p.price_stars, c.display_name AS creator_name,
                p.cover_key, p.description
         FROM products p JOIN creators c ON c.user_id = p.creator_id
         WHERE p.slug = ?1 AND p.status = 'published'",
    )
    .bind(slug)
    .fetch_optional(db)
    .await?;
    let Some(PageRow { card, description }) = row else {
        return Ok(None);
    };
    let files: Vec<FileRow> = sqlx::query_as(
        "SELECT role, file_name, size_bytes, storage_key FROM product_files
         WHERE product_id = ?1 ORDER BY id",
    )
    .bind(card.id)
    .fetch_all(db)
    .await?;

    let mut sample = None;
    let (mut content_files, mut content_bytes) = (0u32, 0u64);
    for file in files {
        let size = u64::try_from(file.size_bytes).unwrap_or(0);
        match file.role.as_str() {
            "sample" if sample.is_none() => {
                sample = Some(PublicFile {
                    url: LocalStorage::public_url(&file.storage_key),
                    name: file.file_name,
                    size_bytes: size,
                })
            }
            "content" => {
                content_files += 1;
                content_bytes += size;
            }
            _ => {}
        }
    }
    Ok(Some(ProductPage {
        card: card.into_card()?,
        description_html: crate::studio::markdown::render(&description),
        description,
        sample,
        content_bytes,
        content_files,
    }))
}
