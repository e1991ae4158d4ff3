//! The delivery outbox worker: sends each paid order's content files to the buyer's chat.
//!
//! Rows are claimed by lease (`locked_until` + a random `claim_token`), so any number of workers
//! on any number of replicas never send the same delivery at once; progress (`files_sent`) is
//! recorded after every file, so a retry resumes instead of resending. A crash between Telegram
//! accepting a file and the progress update can still send that one file twice: at-least-once is
//! the best any outbox can do against a remote API without idempotency keys.

use std::io::Cursor;
use std::time::Duration;

use tgbot::types::{InputFileReader, SendDocument, SendMessage};
use url::Url;

use super::{api_error, unix_now, PaymentError};
use crate::db::Db;
use crate::stamping::{self, SourceFile};
use crate::storage::{Area, Storage};
use crate::telegram::bot::Bot;
use app::i18n::{td_string, Locale};
use app::texts::fill;

/// The Bot API's upload limit for bots; bigger files go as a link to the library.
pub const MAX_UPLOAD_BYTES: i64 = 50 * 1024 * 1024;
/// How long a claim lasts; renewed after each file.
const LEASE_SECS: i64 = 300;
/// Back-off: 5 s doubling per attempt, at most an hour.
const BACKOFF_BASE_SECS: i64 = 5;
const BACKOFF_CAP_SECS: i64 = 3600;
/// After this many attempts the row is `failed` (the library still offers the download).
const MAX_ATTEMPTS: i64 = 20;
/// Deliveries one call works off at most.
const BATCH: usize = 32;

#[derive(Clone, Debug, Default)]
pub struct DeliveryConfig {
    /// The shop's public URL; links to `/library` for files past the upload limit.
    pub public_base: Option<Url>,
    /// Defaults to [`MAX_UPLOAD_BYTES`]; tests lower it.
    pub max_upload_bytes: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Claimed {
    id: i64,
    order_id: i64,
    attempts: i64,
    files_sent: i64,
}

#[derive(sqlx::FromRow)]
struct OrderInfo {
    user_id: i64,
    status: String,
    product_id: i64,
    title: String,
    /// Claimed as a gift: `user_id` is the friend who claimed it.
    gift: bool,
}

/// Why one delivery attempt stopped.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error("the claim was lost to another worker")]
    LostClaim,
}

impl From<sqlx::Error> for AttemptError {
    fn from(err: sqlx::Error) -> Self {
        AttemptError::Payment(err.into())
    }
}

/// `<replica id>:<random>`: a claim names the process holding it, so a replica started again
/// under the same name knows which leases its killed predecessor left behind.
fn claim_token() -> String {
    format!(
        "{}:{}",
        crate::replica::id(),
        super::payload::new_public_id()
    )
}

/// Takes back the deliveries an earlier life of this replica had claimed when it died (SIGKILL,
/// a crash, the OOM killer): nothing holds them any more, and their leases would otherwise keep
/// those buyers waiting up to [`LEASE_SECS`] for their files. Replica ids are unique among live
/// processes, so no running worker loses a claim here. A file that was sent just before the
/// death goes out once more (the outbox's at-least-once, as after any crash).
pub async fn release_own_claims(db: &Db) -> Result<u64, PaymentError> {
    let prefix = format!("{}:", crate::replica::id());
    let released = crate::on_db!(db, |pool| sqlx::query(
        "UPDATE deliveries SET locked_until = NULL, claim_token = NULL
         WHERE status = 'pending' AND substr(claim_token, 1, length($1)) = $1",
    )
    .bind(&prefix)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(released.rows_affected())
}

pub(crate) fn backoff_secs(attempts: i64) -> i64 {
    let exponent = attempts.clamp(1, 20) - 1;
    BACKOFF_BASE_SECS
        .saturating_mul(1_i64 << exponent)
        .min(BACKOFF_CAP_SECS)
}

/// The wait before the next attempt: the back-off, or Telegram's `retry_after` when longer
/// (the client already waited out short ones; asking sooner would only be refused again).
pub(crate) fn next_delay(attempts: i64, retry_after: Option<i64>) -> i64 {
    backoff_secs(attempts).max(retry_after.unwrap_or(0))
}

/// Claims and sends every due delivery (up to a batch); returns how many were completed.
pub async fn deliver_due(
    db: &Db,
    bot: &Bot,
    storage: &Storage,
    config: &DeliveryConfig,
) -> Result<usize, PaymentError> {
    deliver_round(db, bot, storage, config)
        .await
        .map(|round| round.completed)
}

/// What one round of the outbox did.
struct Round {
    claimed: usize,
    completed: usize,
}

async fn deliver_round(
    db: &Db,
    bot: &Bot,
    storage: &Storage,
    config: &DeliveryConfig,
) -> Result<Round, PaymentError> {
    let mut round = Round {
        claimed: 0,
        completed: 0,
    };
    for _ in 0..BATCH {
        let token = claim_token();
        let now = unix_now();
        // One statement claims the row, so two workers (on any replica) can never both win it:
        // the outer WHERE re-checks the lease, and a loser gets no row. On PostgreSQL the
        // subquery also skips rows another claimer has locked, instead of queueing behind it
        // and then coming back empty; SQLite has no row locks (and refuses the clause).
        const CLAIM: &str = "UPDATE deliveries
             SET locked_until = $1 + $2, claim_token = $3, attempts = attempts + 1
             WHERE id = (SELECT id FROM deliveries
                         WHERE status = 'pending' AND next_attempt_at <= $1
                           AND (locked_until IS NULL OR locked_until <= $1)
                         ORDER BY next_attempt_at, id LIMIT 1 {LOCK})
               AND status = 'pending' AND (locked_until IS NULL OR locked_until <= $1)
             RETURNING id, order_id, attempts, files_sent";
        let sql = CLAIM.replace(
            "{LOCK}",
            match db {
                Db::Postgres(_) => "FOR UPDATE SKIP LOCKED",
                Db::Sqlite(_) => "",
            },
        );
        // Built from the constants above only.
        let claimed: Option<Claimed> =
            crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(LEASE_SECS)
                .bind(&token)
                .fetch_optional(pool)
                .await)?;
        let Some(claimed) = claimed else { break };
        round.claimed += 1;
        match attempt(db, bot, storage, config, &claimed, &token).await {
            Ok(true) => round.completed += 1,
            Ok(false) => {}
            Err(AttemptError::LostClaim) => {
                tracing::warn!(
                    delivery = claimed.id,
                    "delivery claim lost; left to its holder"
                );
            }
            Err(AttemptError::Payment(err)) => {
                record_failure(db, &claimed, &token, &err).await?;
            }
        }
    }
    Ok(round)
}

/// One claimed delivery: `Ok(true)` when it is sent, `Ok(false)` when it was cancelled.
async fn attempt(
    db: &Db,
    bot: &Bot,
    storage: &Storage,
    config: &DeliveryConfig,
    claimed: &Claimed,
    token: &str,
) -> Result<bool, AttemptError> {
    const ORDER: &str = concat!(
        "SELECT ",
        crate::grants::recipient!(),
        " AS user_id, o.status, o.product_id, p.title, o.gift
         FROM orders o JOIN products p ON p.id = o.product_id WHERE o.id = $1"
    );
    let order: OrderInfo = crate::on_db!(db, |pool| sqlx::query_as(ORDER)
        .bind(claimed.order_id)
        .fetch_one(pool)
        .await)?;
    if order.status != "paid" {
        // Refunded meanwhile: nothing to send.
        crate::on_db!(db, |pool| sqlx::query(
            "UPDATE deliveries SET status = 'cancelled', locked_until = NULL, claim_token = NULL
             WHERE id = $1 AND claim_token = $2",
        )
        .bind(claimed.id)
        .bind(token)
        .execute(pool)
        .await
        .map(crate::db::Done::from))?;
        return Ok(false);
    }
    // A bundle's order delivers its parts' files too, in one stable order (a retry resumes after
    // the files already sent).
    let files: Vec<SourceFile> = crate::on_db!(db, |pool| {
        sqlx::query_as(
        "SELECT f.id, f.product_id, f.version, f.file_name, f.mime_type, f.size_bytes, f.sha256,
                f.storage_key, p.stamp_copies
         FROM product_files f JOIN products p ON p.id = f.product_id
         WHERE f.role = 'content'
           AND (f.product_id = $1
                OR f.product_id IN (SELECT product_id FROM bundle_items WHERE bundle_id = $1))
         ORDER BY f.id",
    )
    .bind(order.product_id)
    .fetch_all(pool)
    .await
    })?;
    let max_upload = config.max_upload_bytes.unwrap_or(MAX_UPLOAD_BYTES);
    let start = usize::try_from(claimed.files_sent).unwrap_or(0);
    let locale = crate::users::locale(db, order.user_id).await?;
    let key = crate::licenses::keys::for_order(db, claimed.order_id).await?;
    let thanks = thanks_text(locale, &order.title, order.gift, key.as_ref());
    if files.is_empty() && key.is_some() && start == 0 {
        // A key with no file: the thanks and the key go as a message of their own.
        bot.call(
            "sendMessage",
            SendMessage::new(order.user_id, thanks.clone()),
        )
        .await
        .map_err(PaymentError::from)?;
    }
    for (index, file) in files.iter().enumerate().skip(start) {
        let caption = (index == 0).then(|| thanks.clone());
        // The buyer's stamped copy when the product stamps this kind of file (made here on the
        // first delivery, and the same copy the library's download serves).
        let copy = if file.size_bytes > max_upload {
            None
        } else {
            stamping::copy_for(db, storage, order.user_id, file)
                .await
                .map_err(PaymentError::from)?
        };
        let (key, size) = copy
            .as_ref()
            .map_or((&file.storage_key, file.size_bytes), |c| {
                (&c.storage_key, c.size_bytes)
            });
        if size > max_upload {
            let text = large_file_text(
                locale,
                &order.title,
                &file.file_name,
                config.public_base.as_ref(),
            );
            // The first file's thanks (and key) must not be lost with its caption.
            let text = match caption {
                Some(caption) => format!("{caption}\n\n{text}"),
                None => text,
            };
            bot.call("sendMessage", SendMessage::new(order.user_id, text))
                .await
                .map_err(PaymentError::from)?;
        } else {
            // At most the Bot API's upload limit (bigger files went as a link above).
            let bytes = storage
                .read(Area::Private, key)
                .await
                .map_err(PaymentError::from)?;
            let upload = InputFileReader::new(Cursor::new(bytes)).with_file_name(&file.file_name);
            let mut method = SendDocument::new(order.user_id, upload);
            if let Some(caption) = caption {
                method = method.with_caption(caption);
            }
            bot.call("sendDocument", method)
                .await
                .map_err(PaymentError::from)?;
        }
        // Progress and a fresh lease; zero rows means another worker holds the row now.
        let now = unix_now();
        let kept = crate::on_db!(db, |pool| sqlx::query(
            "UPDATE deliveries SET files_sent = $1, locked_until = $2 + $3
             WHERE id = $4 AND claim_token = $5",
        )
        .bind(i64::try_from(index + 1).unwrap_or(i64::MAX))
        .bind(now)
        .bind(LEASE_SECS)
        .bind(claimed.id)
        .bind(token)
        .execute(pool)
        .await
        .map(crate::db::Done::from))?;
        if kept.rows_affected() == 0 {
            return Err(AttemptError::LostClaim);
        }
    }
    let finished = crate::on_db!(db, |pool| sqlx::query(
        "UPDATE deliveries SET status = 'sent', sent_at = $1, locked_until = NULL,
                claim_token = NULL, last_error = NULL
         WHERE id = $2 AND claim_token = $3",
    )
    .bind(unix_now())
    .bind(claimed.id)
    .bind(token)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    if finished.rows_affected() == 0 {
        return Err(AttemptError::LostClaim);
    }
    Ok(true)
}

/// The first file's caption: thanks (or, to a gift's claimer, that it is a gift), and the
/// license key (or that it is on its way).
fn thanks_text(
    locale: Locale,
    title: &str,
    gift: bool,
    key: Option<&crate::licenses::keys::OrderKey>,
) -> String {
    use crate::licenses::keys::OrderKey;
    let thanks = if gift {
        td_string!(locale, delivery.gift)
    } else {
        td_string!(locale, delivery.thanks)
    };
    let thanks = fill(thanks, &[("title", &title)]);
    match key {
        None => thanks,
        Some(OrderKey::Issued(key)) => {
            let line = fill(td_string!(locale, delivery.license_key), &[("key", key)]);
            format!("{thanks}\n\n{line}")
        }
        Some(OrderKey::Pending) => {
            format!(
                "{thanks}\n\n{}",
                td_string!(locale, delivery.license_pending)
            )
        }
    }
}

fn large_file_text(locale: Locale, title: &str, file_name: &str, base: Option<&Url>) -> String {
    let link = base
        .and_then(|b| b.join("library").ok())
        .map_or_else(|| "/library".to_owned(), |u| u.to_string());
    fill(
        td_string!(locale, delivery.too_large),
        &[("title", &title), ("file", &file_name), ("link", &link)],
    )
}

/// Schedules the next attempt: Telegram's `retry_after` when it gave one, else the back-off.
async fn record_failure(
    db: &Db,
    claimed: &Claimed,
    token: &str,
    err: &PaymentError,
) -> Result<(), PaymentError> {
    let retry_after = match err {
        PaymentError::Bot(bot) => api_error(bot)
            .and_then(|e| e.retry_after())
            .and_then(|s| i64::try_from(s).ok()),
        _ => None,
    };
    let delay = next_delay(claimed.attempts, retry_after);
    let status = if claimed.attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    };
    let message = match err {
        PaymentError::Bot(bot) => bot.to_string(),
        other => format!("{other}: {:?}", std::error::Error::source(other)),
    };
    tracing::warn!(delivery = claimed.id, attempts = claimed.attempts, delay, error = %message, "delivery failed");
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE deliveries SET status = $1, next_attempt_at = $2, last_error = $3,
                locked_until = NULL, claim_token = NULL
         WHERE id = $4 AND claim_token = $5",
    )
    .bind(status)
    .bind(unix_now() + delay)
    .bind(message)
    .bind(claimed.id)
    .bind(token)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(())
}

/// Works off the outbox, forever: at once again after a full batch (a queue after a burst of
/// sales drains at the speed of the Bot API, not a batch a second), else about once a second.
pub async fn delivery_loop(db: Db, bot: Bot, storage: Storage, config: DeliveryConfig) {
    match release_own_claims(&db).await {
        Ok(0) => {}
        Ok(released) => tracing::warn!(
            released,
            "took back deliveries an earlier run of this replica left claimed"
        ),
        Err(err) => tracing::warn!(error = %err, "cannot take back this replica's old claims"),
    }
    loop {
        match deliver_round(&db, &bot, &storage, &config).await {
            Ok(round) if round.claimed == BATCH => continue,
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "delivery round failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_secs(1), 5);
        assert_eq!(backoff_secs(2), 10);
        assert_eq!(backoff_secs(3), 20);
        assert_eq!(backoff_secs(30), BACKOFF_CAP_SECS);
        assert_eq!(next_delay(1, Some(120)), 120);
        assert_eq!(next_delay(3, Some(1)), 20);
        assert_eq!(next_delay(2, None), 10);
    }

    #[test]
    fn large_files_point_to_the_library() {
        let base = Url::parse("https://shop.example/").unwrap();
        let text = large_file_text(Locale::en, "Course", "video.mp4", Some(&base));
        assert!(text.ends_with("https://shop.example/library"), "{text}");
        assert!(large_file_text(Locale::ru, "Course", "v", None).ends_with("/library"));
    }
}
