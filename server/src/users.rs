//! Telegram users as the shop knows them.

use crate::db::Db;
use crate::telegram::init_data::WebAppUser;

/// Records the user as Telegram last described them. Unchanged rows are not rewritten, so the
/// per-request call costs a read, not a write.
pub async fn upsert(db: &Db, user: &WebAppUser) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, first_name, last_name, username, language_code, is_premium)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET
             first_name = excluded.first_name, last_name = excluded.last_name,
             username = excluded.username, language_code = excluded.language_code,
             is_premium = excluded.is_premium, updated_at = unixepoch()
         WHERE users.first_name IS NOT excluded.first_name OR users.last_name IS NOT excluded.last_name
            OR users.username IS NOT excluded.username OR users.language_code IS NOT excluded.language_code
            OR users.is_premium IS NOT excluded.is_premium",
    )
    .bind(user.id)
    .bind(&user.first_name)
    .bind(&user.last_name)
    .bind(&user.username)
    .bind(&user.language_code)
    .bind(user.is_premium)
    .execute(db)
    .await
    .map(drop)
}
