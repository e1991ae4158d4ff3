//! Telegram users as the shop knows them.

use crate::db::Db;
use crate::telegram::init_data::WebAppUser;

type StoredUser = (String, Option<String>, Option<String>, Option<String>, bool);

/// Records the user as Telegram last described them. Runs on every authenticated call, so it
/// reads first and writes only a new or changed user: even an upsert that changes nothing takes
/// SQLite's single write lock, which would serialise every request behind the payment writers.
pub async fn upsert(db: &Db, user: &WebAppUser) -> Result<(), sqlx::Error> {
    let stored: Option<StoredUser> = crate::on_db!(db, |pool| {
        sqlx::query_as(
        "SELECT first_name, last_name, username, language_code, is_premium FROM users WHERE id = $1",
    )
    .bind(user.id)
    .fetch_optional(pool)
    .await
    })?;
    let unchanged = stored.is_some_and(|(first, last, username, language, premium)| {
        first == user.first_name
            && last == user.last_name
            && username == user.username
            && language == user.language_code
            && premium == user.is_premium
    });
    if unchanged {
        return Ok(());
    }
    crate::on_db!(db, |pool| sqlx::query(
        "INSERT INTO users (id, first_name, last_name, username, language_code, is_premium)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET
             first_name = excluded.first_name, last_name = excluded.last_name,
             username = excluded.username, language_code = excluded.language_code,
             is_premium = excluded.is_premium, updated_at = unixepoch()
         WHERE users.first_name IS DISTINCT FROM excluded.first_name OR users.last_name IS DISTINCT FROM excluded.last_name
            OR users.username IS DISTINCT FROM excluded.username OR users.language_code IS DISTINCT FROM excluded.language_code
            OR users.is_premium IS DISTINCT FROM excluded.is_premium",
    )
    .bind(user.id)
    .bind(&user.first_name)
    .bind(&user.last_name)
    .bind(&user.username)
    .bind(&user.language_code)
    .bind(user.is_premium)
    .execute(pool)
    .await
    .map(crate::db::Done::from))
    .map(drop)
}

/// The language to write to a user in where no request is at hand (invoices, deliveries): their
/// Telegram language as last recorded.
pub async fn locale(db: &Db, user_id: i64) -> Result<app::i18n::Locale, sqlx::Error> {
    let code: Option<Option<String>> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT language_code FROM users WHERE id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await)?;
    Ok(app::locale_for(
        code.flatten().as_deref().unwrap_or_default(),
    ))
}
