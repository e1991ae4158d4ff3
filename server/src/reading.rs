//! The reader's memory (issue #18): where each buyer stopped in each PDF or EPUB they read in the
//! Mini App, kept per buyer and file so that any of their devices opens at the same page. Who may
//! read a file is the download's question (`downloads::entitled_file`), asked by the caller
//! before anything here runs: a refund that stops the download stops the reader too.

use crate::db::Db;
use app::api::BookFormat;

/// Longest position kept. A PDF's is `page:<n>`; an EPUB CFI is a path of steps into the
/// book, well under this even deep in a long chapter.
pub const MAX_POSITION_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ReadingError {
    #[error("this file is neither a PDF nor an EPUB, so it does not open in the reader")]
    NotReadable,
    #[error("a reading position must be 1 to {MAX_POSITION_BYTES} bytes")]
    BadPosition,
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

/// The reader's page for a content file, when the reader opens its type.
pub fn read_url(file_id: i64, mime_type: &str) -> Option<String> {
    BookFormat::of_mime(mime_type).map(|_| format!("/read/{file_id}"))
}

/// Where `user_id` stopped in `file_id`; `None` before their first page turn.
pub async fn position(db: &Db, user_id: i64, file_id: i64) -> Result<Option<String>, ReadingError> {
    Ok(crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT position FROM reading_positions WHERE user_id = $1 AND file_id = $2"
    )
    .bind(user_id)
    .bind(file_id)
    .fetch_optional(pool)
    .await)?)
}

/// Remembers `position` as where `user_id` is in `file_id` (the last write wins: the page the
/// buyer turned to most recently, on whichever device).
pub async fn save(
    db: &Db,
    user_id: i64,
    file_id: i64,
    position: &str,
    now: i64,
) -> Result<(), ReadingError> {
    if position.is_empty() || position.len() > MAX_POSITION_BYTES {
        return Err(ReadingError::BadPosition);
    }
    crate::on_db!(db, |pool| sqlx::query(
        "INSERT INTO reading_positions (user_id, file_id, position, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, file_id)
         DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(file_id)
    .bind(position)
    .bind(now)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pdfs_and_epubs_get_a_reader_page() {
        assert_eq!(read_url(7, "application/pdf").as_deref(), Some("/read/7"));
        assert_eq!(
            read_url(8, "application/epub+zip").as_deref(),
            Some("/read/8")
        );
        assert_eq!(read_url(9, "audio/wav"), None);
        assert_eq!(read_url(9, "application/zip"), None);
    }
}
