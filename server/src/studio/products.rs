//! Products as their creators edit them: create and edit, files and their versions, the cover,
//! course lessons, and the draft → published → archived life cycle.

use super::markdown;
use super::roles::Caller;
use super::uploads::Upload;
use super::{StudioConfig, StudioError};
use crate::db::Db;
use crate::storage::Storage;
use app::api::{Billing, ProductKind};
use app::i18n::{td_string, Locale};
use app::studio::types::{
    LessonInput, ProductInput, ProductStatus, StudioFile, StudioLesson, StudioProduct,
    StudioProductRow,
};
use app::text;
use app::texts::{fill, Text};

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 20_000;

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: i64,
    slug: String,
    title: String,
    kind: String,
    status: String,
    description: String,
    price_stars: i64,
    cover_key: Option<String>,
    creator_id: i64,
    billing: String,
    stamp_copies: bool,
}

impl ProductRow {
    fn kind(&self) -> Result<ProductKind, StudioError> {
        self.kind.parse().map_err(|_| {
            StudioError::Db(sqlx::Error::Decode(
                format!("stored kind {:?}", self.kind).into(),
            ))
        })
    }

    fn status(&self) -> ProductStatus {
        ProductStatus::parse(&self.status).unwrap_or(ProductStatus::Draft)
    }

    fn into_row(self) -> Result<StudioProductRow, StudioError> {
        Ok(StudioProductRow {
            kind: self.kind()?,
            status: self.status(),
            id: self.id,
            slug: self.slug,
            title: self.title,
            price_stars: u32::try_from(self.price_stars).unwrap_or(0),
            cover_url: self.cover_key.as_deref().map(Storage::public_url),
            creator_id: self.creator_id,
        })
    }
}

const PRODUCT_COLUMNS: &str =
    "id, slug, title, kind, status, description, price_stars, cover_key, creator_id, billing,
     stamp_copies";

async fn load(db: &Db, id: i64) -> Result<ProductRow, StudioError> {
    crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await)?
    .ok_or(StudioError::NotFound)
}

/// The product, if the caller may manage it. Another creator's product is "forbidden", so the
/// message says why rather than pretending it does not exist.
pub async fn owned(
    db: &Db,
    caller: Caller,
    id: i64,
) -> Result<(i64, ProductKind, ProductStatus), StudioError> {
    let row = load(db, id).await?;
    caller.require_owner(row.creator_id)?;
    Ok((row.creator_id, row.kind()?, row.status()))
}

/// The caller's products (every product for an admin), newest first.
pub async fn list(db: &Db, caller: Caller) -> Result<Vec<StudioProductRow>, StudioError> {
    let rows: Vec<ProductRow> =
        crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE $1 OR creator_id = $2 ORDER BY id DESC"
        )))
        .bind(caller.is_admin())
        .bind(caller.user_id)
        .fetch_all(pool)
        .await)?;
    rows.into_iter().map(ProductRow::into_row).collect()
}

pub async fn get(db: &Db, caller: Caller, id: i64) -> Result<StudioProduct, StudioError> {
    let row = load(db, id).await?;
    caller.require_owner(row.creator_id)?;
    let files: Vec<FileRow> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT id, role, file_name, mime_type, size_bytes, sha256, storage_key, version
         FROM product_files WHERE product_id = $1 ORDER BY role, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await)?;
    let lessons = lessons(db, id).await?;
    Ok(StudioProduct {
        kind: row.kind()?,
        status: row.status(),
        description_html: markdown::render(&row.description),
        id: row.id,
        slug: row.slug,
        title: row.title,
        description: row.description,
        price_stars: u32::try_from(row.price_stars).unwrap_or(0),
        cover_url: row.cover_key.as_deref().map(Storage::public_url),
        creator_id: row.creator_id,
        files: files.into_iter().map(FileRow::into_file).collect(),
        lessons,
        billing: Billing::parse(&row.billing).unwrap_or_default(),
        stamp_copies: row.stamp_copies,
        // Links are Telegram's business: the HTTP layer adds it (`http::studio::shown`).
        share_link: None,
        bundle: crate::on_db!(db, |pool| sqlx::query_scalar(
            "SELECT product_id FROM bundle_items WHERE bundle_id = $1 ORDER BY position"
        )
        .bind(id)
        .fetch_all(pool)
        .await)?,
    })
}

#[derive(sqlx::FromRow)]
struct FileRow {
    id: i64,
    role: String,
    file_name: String,
    mime_type: String,
    size_bytes: i64,
    sha256: String,
    storage_key: String,
    version: i64,
}

impl FileRow {
    fn into_file(self) -> StudioFile {
        StudioFile {
            url: (self.role == "sample").then(|| Storage::public_url(&self.storage_key)),
            id: self.id,
            role: self.role,
            name: self.file_name,
            mime_type: self.mime_type,
            size_bytes: u64::try_from(self.size_bytes).unwrap_or(0),
            sha256: self.sha256,
            version: self.version,
        }
    }
}

/// A status as the studio shows it.
fn status_name(status: ProductStatus, locale: Locale) -> &'static str {
    match status {
        ProductStatus::Draft => td_string!(locale, studio.status_draft),
        ProductStatus::Published => td_string!(locale, studio.status_published),
        ProductStatus::Archived => td_string!(locale, studio.status_archived),
    }
}

/// Checked and trimmed input, or the reason it cannot be saved.
fn validate(input: &ProductInput, config: StudioConfig) -> Result<(String, String), StudioError> {
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > TITLE_MAX {
        return Err(StudioError::Invalid(text!(
            studio_errors.title_length,
            max = TITLE_MAX
        )));
    }
    if title.chars().any(char::is_control) {
        return Err(StudioError::Invalid(text!(studio_errors.title_control)));
    }
    if input.description.chars().count() > DESCRIPTION_MAX {
        return Err(StudioError::Invalid(text!(
            studio_errors.description_length,
            max = DESCRIPTION_MAX
        )));
    }
    if input.price_stars < 1 || input.price_stars > config.max_price_stars {
        return Err(StudioError::Invalid(text!(
            studio_errors.price_range,
            max = config.max_price_stars
        )));
    }
    let membership_max = crate::payments::memberships::MAX_PRICE_STARS;
    if input.billing == Billing::Monthly && input.price_stars > membership_max {
        return Err(StudioError::Invalid(text!(
            studio_errors.membership_max,
            max = membership_max
        )));
    }
    Ok((title.to_owned(), input.description.trim_end().to_owned()))
}

/// A URL slug from a title: lowercase ASCII letters, digits and dashes, any script
/// transliterated (`deunicode`, then `slug`), at most 60 characters.
pub fn slugify(title: &str) -> String {
    // deunicode writes the hard and soft signs as apostrophes: inside a word they are no break.
    let slug = slug::slugify(deunicode::deunicode(title).replace('\'', ""));
    let mut out: String = slug.chars().take(60).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "product".into()
    } else {
        out
    }
}

/// A slug no other product has: the title's, or it with `-2`, `-3`, … appended.
async fn unique_slug(db: &Db, title: &str) -> Result<String, StudioError> {
    let base = slugify(title);
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let taken: bool = crate::on_db!(db, |pool| sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM products WHERE slug = $1)"
        )
        .bind(&candidate)
        .fetch_one(pool)
        .await)?;
        if !taken {
            return Ok(candidate);
        }
    }
    let id = crate::payments::payload::new_public_id();
    Ok(format!("{base}-{}", id[..8].to_ascii_lowercase()))
}

pub async fn create(
    db: &Db,
    caller: Caller,
    config: StudioConfig,
    input: &ProductInput,
) -> Result<StudioProduct, StudioError> {
    let caller = caller.require_studio()?;
    let (title, description) = validate(input, config)?;
    // Admins sell under their own name too; they become a creator on their first product.
    if !super::roles::is_creator(db, caller.user_id).await? {
        super::roles::grant_creator(db, caller.user_id).await?;
    }
    // Two creators racing for one slug: the UNIQUE constraint decides, the loser retries.
    for _ in 0..3 {
        let slug = unique_slug(db, &title).await?;
        let inserted = crate::on_db!(db, |pool| {
            sqlx::query_scalar::<_, i64>(
            "INSERT INTO products (creator_id, slug, kind, title, description, price_stars, status)
             VALUES ($1, $2, $3, $4, $5, $6, 'draft') RETURNING id",
        )
        .bind(caller.user_id)
        .bind(&slug)
        .bind(input.kind.as_str())
        .bind(&title)
        .bind(&description)
        .bind(i64::from(input.price_stars))
        .fetch_one(pool)
        .await
        });
        match inserted {
            Ok(id) => {
                set_billing(db, id, input.billing).await?;
                set_stamping(db, id, input.stamp_copies).await?;
                return get(db, caller, id).await;
            }
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(StudioError::Conflict(text!(studio_errors.slug_taken)))
}

pub async fn update(
    db: &Db,
    caller: Caller,
    config: StudioConfig,
    id: i64,
    input: &ProductInput,
) -> Result<StudioProduct, StudioError> {
    let (_, kind, status) = owned(db, caller.require_studio()?, id).await?;
    let (title, description) = validate(input, config)?;
    if input.kind != kind && status != ProductStatus::Draft {
        return Err(StudioError::Conflict(text!(studio_errors.kind_locked)));
    }
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE products SET title = $1, description = $2, price_stars = $3, kind = $4,
                updated_at = unixepoch()
         WHERE id = $5",
    )
    .bind(&title)
    .bind(&description)
    .bind(i64::from(input.price_stars))
    .bind(input.kind.as_str())
    .bind(id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    set_billing(db, id, input.billing).await?;
    set_stamping(db, id, input.stamp_copies).await?;
    get(db, caller, id).await
}

/// Switches stamped copies on or off. Copies already made stay in the store; with stamping off,
/// buyers get the file as uploaded from then on.
async fn set_stamping(db: &Db, id: i64, on: bool) -> Result<(), StudioError> {
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE products SET stamp_copies = $1 WHERE id = $2"
    )
    .bind(on)
    .bind(id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(())
}

/// Sets how the product is sold. Buyers' running memberships keep their own terms: Telegram
/// renews each subscription at the price and period it was started with.
async fn set_billing(db: &Db, id: i64, billing: Billing) -> Result<(), StudioError> {
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE products SET billing = $1 WHERE id = $2"
    )
    .bind(billing.as_str())
    .bind(id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(())
}

/// Moves a product along draft → published → archived (and back from archived to published).
/// Publishing checks that buyers would get something.
pub async fn set_status(
    db: &Db,
    caller: Caller,
    id: i64,
    target: ProductStatus,
) -> Result<StudioProduct, StudioError> {
    let (_, kind, status) = owned(db, caller.require_studio()?, id).await?;
    if status == target {
        return get(db, caller, id).await;
    }
    match (status, target) {
        (ProductStatus::Draft | ProductStatus::Archived, ProductStatus::Published) => {
            ready_to_publish(db, id, kind).await?;
        }
        (ProductStatus::Published, ProductStatus::Archived) => {}
        (_, ProductStatus::Draft) => {
            return Err(StudioError::Conflict(text!(studio_errors.no_back_to_draft)))
        }
        _ => {
            return Err(StudioError::Conflict(Text::from_fn(move |locale| {
                fill(
                    td_string!(locale, studio_errors.status_change),
                    &[
                        ("from", &status_name(status, locale)),
                        ("to", &status_name(target, locale)),
                    ],
                )
            })))
        }
    }
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE products SET status = $1, updated_at = unixepoch(),
                published_at = CASE WHEN $1 = 'published' THEN coalesce(published_at, unixepoch())
                                    ELSE published_at END
         WHERE id = $2",
    )
    .bind(target.as_str())
    .bind(id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    get(db, caller, id).await
}

async fn ready_to_publish(db: &Db, id: i64, kind: ProductKind) -> Result<(), StudioError> {
    let (content, lessons, previews, parts): (i64, i64, i64, i64) = crate::on_db!(db, |pool| {
        sqlx::query_as(
        "SELECT (SELECT count(*) FROM product_files WHERE product_id = $1 AND role = 'content'),
                (SELECT count(*) FROM lessons WHERE product_id = $1),
                (SELECT count(*) FROM lessons WHERE product_id = $1 AND is_preview),
                (SELECT count(*) FROM bundle_items WHERE bundle_id = $1)",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    })?;
    let problem = match kind {
        // A bundle's buyers get its parts.
        _ if parts > 0 => None,
        ProductKind::Course if lessons == 0 => Some(text!(studio_errors.needs_lesson)),
        ProductKind::Course if previews == 0 => Some(text!(studio_errors.needs_preview)),
        ProductKind::Ebook | ProductKind::File if content == 0 => {
            Some(text!(studio_errors.needs_file))
        }
        _ => None,
    };
    match problem {
        Some(reason) => Err(StudioError::Conflict(reason)),
        None => Ok(()),
    }
}

/// The most products a bundle holds.
pub const BUNDLE_MAX: usize = 20;

/// Makes product `id` a bundle of `parts` (the caller's own one-time products, none of them a
/// bundle), in that order, or a single product again with no parts. A bundle's contents are
/// what its buyers paid for: once it has been sold they stay as they are.
pub async fn set_bundle(
    db: &Db,
    caller: Caller,
    id: i64,
    parts: &[i64],
) -> Result<StudioProduct, StudioError> {
    let (creator_id, _, _) = owned(db, caller.require_studio()?, id).await?;
    let mut unique = parts.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != parts.len()
        || (!parts.is_empty() && !(2..=BUNDLE_MAX).contains(&parts.len()))
    {
        return Err(StudioError::Invalid(text!(
            studio_errors.bundle_size,
            max = BUNDLE_MAX
        )));
    }
    let (fixed_once, in_a_bundle, sold, current): (bool, bool, bool, i64) =
        crate::on_db!(db, |pool| sqlx::query_as(
            "SELECT p.billing = 'once' AND p.min_price_stars IS NULL,
                    EXISTS (SELECT 1 FROM bundle_items WHERE product_id = p.id),
                    EXISTS (SELECT 1 FROM orders WHERE product_id = p.id
                            AND status IN ('paid', 'refunded')),
                    (SELECT count(*) FROM bundle_items WHERE bundle_id = p.id)
             FROM products p WHERE p.id = $1",
        )
        .bind(id)
        .fetch_one(pool)
        .await)?;
    if !parts.is_empty() && !fixed_once {
        return Err(StudioError::Invalid(text!(
            studio_errors.bundle_fixed_price
        )));
    }
    if !parts.is_empty() && in_a_bundle {
        return Err(StudioError::Conflict(text!(studio_errors.bundle_nested)));
    }
    if sold && (current > 0 || !parts.is_empty()) {
        return Err(StudioError::Conflict(text!(studio_errors.bundle_sold)));
    }
    for part in parts {
        // One key per order: a bundle's order could not give each keyed part its own.
        let fits: Option<(bool, bool)> = crate::on_db!(db, |pool| sqlx::query_as(
            "SELECT p.creator_id = $2 AND p.billing = 'once' AND p.id <> $3
                    AND NOT EXISTS (SELECT 1 FROM bundle_items WHERE bundle_id = p.id),
                    p.license_mode <> 'none'
             FROM products p WHERE p.id = $1",
        )
        .bind(part)
        .bind(creator_id)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        match fits {
            Some((true, false)) => {}
            Some((true, true)) => {
                return Err(StudioError::Invalid(text!(studio_errors.bundle_keys)))
            }
            _ => return Err(StudioError::Invalid(text!(studio_errors.bundle_part))),
        }
    }
    crate::on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM bundle_items WHERE bundle_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for (position, part) in (0i64..).zip(parts) {
            sqlx::query(
                "INSERT INTO bundle_items (bundle_id, product_id, position) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(part)
            .bind(position)
            .execute(&mut *tx)
            .await?;
        }
        // Cards show a bundle's size: the catalog's cached pages must go (`catalog_version`).
        sqlx::query("UPDATE products SET updated_at = unixepoch() WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, StudioError>(())
    })?;
    get(db, caller, id).await
}

/// Records an uploaded file. `replace` (or, for a sample, the existing sample; or a file of the
/// same role and name) is replaced in place as a new version, so its buyers get the new bytes
/// under the same file id; otherwise a new file is added.
pub async fn attach_file(
    db: &Db,
    product_id: i64,
    role: &str,
    replace: Option<i64>,
    upload: &Upload,
) -> Result<StudioFile, StudioError> {
    let row: FileRow = crate::on_db!(db, |pool| {
        let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
        let existing: Option<i64> = match replace {
            Some(file_id) => Some(
                sqlx::query_scalar(
                    "SELECT id FROM product_files WHERE id = $1 AND product_id = $2 AND role = $3",
                )
                .bind(file_id)
                .bind(product_id)
                .bind(role)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StudioError::NotFound)?,
            ),
            None => {
                sqlx::query_scalar(
                    "SELECT id FROM product_files
                 WHERE product_id = $1 AND role = $2 AND (role = 'sample' OR file_name = $3)
                 ORDER BY id LIMIT 1",
                )
                .bind(product_id)
                .bind(role)
                .bind(&upload.file_name)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let file_id = match existing {
            Some(file_id) => {
                // Another file of this product may already bear the new name.
                let clash: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM product_files
                                WHERE product_id = $1 AND role = $2 AND file_name = $3 AND id <> $4)",
            )
            .bind(product_id)
            .bind(role)
            .bind(&upload.file_name)
            .bind(file_id)
            .fetch_one(&mut *tx)
            .await?;
                if clash {
                    return Err(StudioError::Conflict(text!(
                        studio_errors.file_name_taken,
                        name = &upload.file_name
                    )));
                }
                sqlx::query(
                    "UPDATE product_files SET file_name = $1, mime_type = $2, size_bytes = $3,
                        sha256 = $4, storage_key = $5, version = version + 1
                 WHERE id = $6",
                )
                .bind(&upload.file_name)
                .bind(&upload.mime_type)
                .bind(upload.size_bytes as i64)
                .bind(&upload.sha256)
                .bind(&upload.key)
                .bind(file_id)
                .execute(&mut *tx)
                .await?;
                file_id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO product_files
                   (product_id, role, file_name, mime_type, size_bytes, sha256, storage_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(product_id)
                .bind(role)
                .bind(&upload.file_name)
                .bind(&upload.mime_type)
                .bind(upload.size_bytes as i64)
                .bind(&upload.sha256)
                .bind(&upload.key)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        sqlx::query(
            "INSERT INTO product_file_versions
           (file_id, version, file_name, mime_type, size_bytes, sha256, storage_key)
         SELECT id, version, file_name, mime_type, size_bytes, sha256, storage_key
         FROM product_files WHERE id = $1",
        )
        .bind(file_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE products SET updated_at = unixepoch() WHERE id = $1")
            .bind(product_id)
            .execute(&mut *tx)
            .await?;
        let row: FileRow = sqlx::query_as(
            "SELECT id, role, file_name, mime_type, size_bytes, sha256, storage_key, version
         FROM product_files WHERE id = $1",
        )
        .bind(file_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        row
    });
    Ok(row.into_file())
}

/// Removes a file from a draft (a product on sale keeps its files: buyers rely on them).
pub async fn delete_file(db: &Db, caller: Caller, file_id: i64) -> Result<(), StudioError> {
    let product_id: i64 = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT product_id FROM product_files WHERE id = $1"
    )
    .bind(file_id)
    .fetch_optional(pool)
    .await)?
    .ok_or(StudioError::NotFound)?;
    let (_, _, status) = owned(db, caller.require_studio()?, product_id).await?;
    if status != ProductStatus::Draft {
        return Err(StudioError::Conflict(text!(studio_errors.files_kept)));
    }
    crate::on_db!(db, |pool| sqlx::query(
        "DELETE FROM product_files WHERE id = $1"
    )
    .bind(file_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(())
}

pub async fn set_cover(db: &Db, product_id: i64, key: &str) -> Result<(), StudioError> {
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE products SET cover_key = $1, updated_at = unixepoch() WHERE id = $2"
    )
    .bind(key)
    .bind(product_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(())
}

async fn lessons(db: &Db, product_id: i64) -> Result<Vec<StudioLesson>, StudioError> {
    let rows: Vec<(i64, i64, String, String, bool, Option<i64>)> =
        crate::on_db!(db, |pool| sqlx::query_as(
            "SELECT id, position, title, body, is_preview, file_id FROM lessons
         WHERE product_id = $1 ORDER BY position, id",
        )
        .bind(product_id)
        .fetch_all(pool)
        .await)?;
    let mut lessons = Vec::with_capacity(rows.len());
    for (id, position, title, body, is_preview, file_id) in rows {
        lessons.push(StudioLesson {
            id,
            position,
            title,
            body,
            is_preview,
            file_id,
            video: crate::videos::studio_state(db, id).await?,
        });
    }
    Ok(lessons)
}

fn validate_lesson(input: &LessonInput) -> Result<String, StudioError> {
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > TITLE_MAX {
        return Err(StudioError::Invalid(text!(
            studio_errors.lesson_title_length,
            max = TITLE_MAX
        )));
    }
    if input.body.chars().count() > DESCRIPTION_MAX * 5 {
        return Err(StudioError::Invalid(text!(studio_errors.lesson_too_long)));
    }
    Ok(title.to_owned())
}

async fn check_lesson_file(
    db: &Db,
    product_id: i64,
    file_id: Option<i64>,
) -> Result<(), StudioError> {
    let Some(file_id) = file_id else {
        return Ok(());
    };
    let ok: bool = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM product_files WHERE id = $1 AND product_id = $2)",
    )
    .bind(file_id)
    .bind(product_id)
    .fetch_one(pool)
    .await)?;
    if ok {
        Ok(())
    } else {
        Err(StudioError::Invalid(text!(studio_errors.not_course_file)))
    }
}

async fn course(db: &Db, caller: Caller, product_id: i64) -> Result<(), StudioError> {
    let (_, kind, _) = owned(db, caller.require_studio()?, product_id).await?;
    if kind != ProductKind::Course {
        return Err(StudioError::Conflict(text!(studio_errors.courses_only)));
    }
    Ok(())
}

/// Adds a lesson at the end of the course.
pub async fn add_lesson(
    db: &Db,
    caller: Caller,
    product_id: i64,
    input: &LessonInput,
) -> Result<StudioProduct, StudioError> {
    course(db, caller, product_id).await?;
    let title = validate_lesson(input)?;
    check_lesson_file(db, product_id, input.file_id).await?;
    crate::on_db!(db, |pool| sqlx::query(
        "INSERT INTO lessons (product_id, position, title, body, is_preview, file_id)
         VALUES ($1, (SELECT coalesce(max(position), 0) + 10 FROM lessons WHERE product_id = $1),
                 $2, $3, $4, $5)",
    )
    .bind(product_id)
    .bind(&title)
    .bind(&input.body)
    .bind(input.is_preview)
    .bind(input.file_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    get(db, caller, product_id).await
}

/// The course of a lesson the caller may edit: its product id.
pub async fn owned_lesson(db: &Db, caller: Caller, lesson_id: i64) -> Result<i64, StudioError> {
    let product_id: i64 = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT product_id FROM lessons WHERE id = $1"
    )
    .bind(lesson_id)
    .fetch_optional(pool)
    .await)?
    .ok_or(StudioError::NotFound)?;
    course(db, caller, product_id).await?;
    Ok(product_id)
}

pub async fn update_lesson(
    db: &Db,
    caller: Caller,
    lesson_id: i64,
    input: &LessonInput,
) -> Result<StudioProduct, StudioError> {
    let product_id = owned_lesson(db, caller, lesson_id).await?;
    let title = validate_lesson(input)?;
    check_lesson_file(db, product_id, input.file_id).await?;
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE lessons SET title = $1, body = $2, is_preview = $3, file_id = $4,
                updated_at = unixepoch()
         WHERE id = $5",
    )
    .bind(&title)
    .bind(&input.body)
    .bind(input.is_preview)
    .bind(input.file_id)
    .bind(lesson_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    get(db, caller, product_id).await
}

pub async fn delete_lesson(
    db: &Db,
    caller: Caller,
    lesson_id: i64,
) -> Result<StudioProduct, StudioError> {
    let product_id = owned_lesson(db, caller, lesson_id).await?;
    crate::on_db!(db, |pool| sqlx::query("DELETE FROM lessons WHERE id = $1")
        .bind(lesson_id)
        .execute(pool)
        .await
        .map(crate::db::Done::from))?;
    get(db, caller, product_id).await
}

/// Swaps a lesson with its neighbour above (`up`) or below.
pub async fn move_lesson(
    db: &Db,
    caller: Caller,
    lesson_id: i64,
    up: bool,
) -> Result<StudioProduct, StudioError> {
    let product_id = owned_lesson(db, caller, lesson_id).await?;
    let order: Vec<(i64, i64)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT id, position FROM lessons WHERE product_id = $1 ORDER BY position, id",
    )
    .bind(product_id)
    .fetch_all(pool)
    .await)?;
    let Some(at) = order.iter().position(|(id, _)| *id == lesson_id) else {
        return Err(StudioError::NotFound);
    };
    let other = if up {
        at.checked_sub(1)
    } else {
        Some(at + 1).filter(|i| *i < order.len())
    };
    if let Some(other) = other {
        crate::on_db!(db, |pool| {
            let mut tx = pool.begin().await?;
            // Renumber the whole course so equal positions cannot make the swap a no-op.
            let mut ids: Vec<i64> = order.iter().map(|(id, _)| *id).collect();
            ids.swap(at, other);
            for (i, id) in ids.iter().enumerate() {
                sqlx::query("UPDATE lessons SET position = $1 WHERE id = $2")
                    .bind((i as i64 + 1) * 10)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
    }
    get(db, caller, product_id).await
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_ascii_words_joined_by_dashes() {
        assert_eq!(
            slugify("The Pocket Guide to Rust!"),
            "the-pocket-guide-to-rust"
        );
        assert_eq!(slugify("  Ночная съёмка  "), "nochnaia-siomka");
        assert_eq!(slugify("Πρωινό ψωμί"), "proino-psomi");
        assert_eq!(slugify("Crème brûlée, 2nd ed."), "creme-brulee-2nd-ed");
        assert_eq!(slugify("★★★"), "product");
        assert!(slugify(&"long ".repeat(40)).len() <= 60);
        assert!(!slugify(&"ab ".repeat(40)).ends_with('-'));
    }
}
