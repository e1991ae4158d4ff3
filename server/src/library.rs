//! A buyer's library: what they own, with fresh signed download links, course progress,
//! membership periods and license keys.

use crate::db::Db;
use crate::downloads::Signer;
use crate::storage::Storage;
use app::api::{LibraryItem, Membership, ProductKind};
use clock::unix_now;

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error("a stored product is inconsistent: {0}")]
    Corrupt(String),
}

#[derive(sqlx::FromRow)]
struct LibraryRow {
    product_id: i64,
    slug: String,
    title: String,
    kind: String,
    cover_key: Option<String>,
    file_id: Option<i64>,
    file_name: Option<String>,
    size_bytes: Option<i64>,
    mime_type: Option<String>,
    expires_at: Option<i64>,
    license_key: Option<String>,
    license_pending: bool,
}

/// Everything `user_id` owns, newest purchase first; courses with the buyer's progress.
/// Memberships are listed while their paid period runs (`now` is the shop's clock).
pub async fn library(
    db: &Db,
    signer: &Signer,
    user_id: i64,
    now: i64,
) -> Result<Vec<LibraryItem>, LibraryError> {
    // A course may be lessons only, with no file of its own: hence the outer join.
    let rows: Vec<LibraryRow> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT p.id AS product_id, p.slug, p.title, p.kind, p.cover_key, f.id AS file_id,
                f.file_name, f.size_bytes, f.mime_type, e.expires_at,
                (SELECT k.code FROM license_keys k
                 WHERE k.order_id = e.order_id AND k.disabled_at IS NULL) AS license_key,
                EXISTS (SELECT 1 FROM license_waits w WHERE w.order_id = e.order_id)
                  AS license_pending
         FROM entitlements e
         JOIN products p ON p.id = e.product_id
         LEFT JOIN product_files f ON f.product_id = p.id AND f.role = 'content'
         WHERE e.user_id = $1 AND e.revoked_at IS NULL
           AND (e.expires_at IS NULL OR e.expires_at > $2)
         ORDER BY e.granted_at DESC, e.id DESC, f.id",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(pool)
    .await)?;
    // Links are signed on the system clock, which is what downloads check them against.
    let signed_at = unix_now();
    let mut items: Vec<(i64, LibraryItem)> = Vec::new();
    for row in rows {
        let file = match (row.file_id, row.file_name) {
            (Some(file_id), Some(name)) => Some(signer.offer(
                user_id,
                file_id,
                name,
                row.size_bytes.unwrap_or(0),
                row.mime_type.as_deref().unwrap_or(""),
                signed_at,
            )),
            _ => None,
        };
        match items.last_mut() {
            Some((id, item)) if *id == row.product_id => item.files.extend(file),
            _ => items.push((
                row.product_id,
                LibraryItem {
                    slug: row.slug,
                    title: row.title,
                    kind: row
                        .kind
                        .parse::<ProductKind>()
                        .map_err(|e| LibraryError::Corrupt(e.to_string()))?,
                    cover_url: row.cover_key.as_deref().map(Storage::public_url),
                    files: file.into_iter().collect(),
                    course: None,
                    membership: row.expires_at.map(|expires_at| Membership {
                        expires_at,
                        canceled: false,
                        reenable_in_telegram: false,
                    }),
                    includes: Vec::new(),
                    license_key: row.license_key,
                    license_pending: row.license_pending,
                },
            )),
        }
    }
    // What the buyer's bundles hold, for all of them at once.
    let parts: Vec<(i64, String)> = crate::on_db!(db, |pool| {
        sqlx::query_as(
        "SELECT bi.bundle_id, p.title FROM bundle_items bi JOIN products p ON p.id = bi.product_id
         WHERE bi.bundle_id IN (SELECT product_id FROM entitlements
                                WHERE user_id = $1 AND revoked_at IS NULL)
         ORDER BY bi.bundle_id, bi.position, p.id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
    })?;
    for (product_id, item) in &mut items {
        item.includes = parts
            .iter()
            .filter(|(bundle, _)| bundle == product_id)
            .map(|(_, title)| title.clone())
            .collect();
        if item.kind == ProductKind::Course {
            item.course = Some(crate::courses::progress(db, user_id, *product_id).await?);
        }
        if let Some(membership) = &mut item.membership {
            if let Some(latest) =
                crate::payments::memberships::latest(db, user_id, *product_id).await?
            {
                membership.canceled = latest.canceled;
                membership.reenable_in_telegram = latest.reenable_in_telegram;
            }
        }
    }
    Ok(items.into_iter().map(|(_, item)| item).collect())
}
