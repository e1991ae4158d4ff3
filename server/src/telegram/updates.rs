//! Updates from Telegram, from the webhook or from long polling, into one durable inbox and one
//! dispatcher. Each update is recorded before it is handled: a repeat is recognised by its
//! `update_id`, and an update whose handling failed stays pending and is retried.

use super::bot::{Bot, POLL_TIMEOUT_SECS};
use super::dispatch::{DispatchError, Dispatcher};
use crate::auth::unix_now;
use crate::db::Db;
use serde_json::Value;
use std::time::Duration;
use tgbot::types::{AllowedUpdate, GetUpdates, Update};

/// After this many failed attempts an update is left for a person to look at.
const MAX_ATTEMPTS: i64 = 10;
/// How long a handler's claim on an update lasts before another may take it over.
const CLAIM_SECS: i64 = 60;

/// The updates the shop asks Telegram for.
pub fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::PreCheckoutQuery,
        AllowedUpdate::CallbackQuery,
    ]
}

/// What became of one incoming update.
#[derive(Debug, PartialEq, Eq)]
pub enum Ingested {
    Handled,
    /// Seen before (a webhook retry, or polling after a restart): nothing was done again.
    Duplicate,
    /// Recorded, but handling failed; the retry worker will try again.
    Pending,
    /// Not an update at all; logged and dropped so it cannot block the queue.
    Rejected,
}

#[derive(Clone)]
pub struct Inbox {
    db: Db,
    dispatcher: Dispatcher,
}

impl Inbox {
    pub fn new(db: Db, dispatcher: Dispatcher) -> Self {
        Self { db, dispatcher }
    }

    /// Takes a webhook body. Errs only when the update could not be recorded (the caller then
    /// answers 500 so that Telegram delivers it again).
    pub async fn ingest_json(&self, body: &[u8]) -> Result<Ingested, sqlx::Error> {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            tracing::warn!(bytes = body.len(), "webhook body is not JSON; dropped");
            return Ok(Ingested::Rejected);
        };
        self.ingest_value(value).await
    }

    /// Takes an update from `getUpdates`.
    pub async fn ingest_update(&self, update: &Update) -> Result<Ingested, sqlx::Error> {
        match serde_json::to_value(update) {
            Ok(value) => self.ingest_value(value).await,
            Err(err) => {
                tracing::warn!(update_id = update.id, error = %err, "cannot record update; dropped");
                Ok(Ingested::Rejected)
            }
        }
    }

    async fn ingest_value(&self, value: Value) -> Result<Ingested, sqlx::Error> {
        let Some(update_id) = value.get("update_id").and_then(Value::as_i64) else {
            tracing::warn!("body has no integer update_id; dropped");
            return Ok(Ingested::Rejected);
        };
        let kind = value
            .as_object()
            .and_then(|o| o.keys().find(|k| *k != "update_id").cloned())
            .unwrap_or_else(|| "empty".into());
        // Recorded already claimed by this handler (first attempt): one write instead of an
        // insert and a claim, while the claim still keeps the retry worker off it.
        let claim = unix_now() + CLAIM_SECS;
        let inserted = crate::on_db!(&self.db, |pool| sqlx::query(
            "INSERT INTO telegram_updates (update_id, kind, payload, locked_until, attempts)
             VALUES ($1, $2, $3, $4, 1)
             ON CONFLICT (update_id) DO NOTHING",
        )
        .bind(update_id)
        .bind(&kind)
        .bind(value.to_string())
        .bind(claim)
        .execute(pool)
        .await
        .map(crate::db::Done::from))?
        .rows_affected();
        if inserted == 0 {
            tracing::debug!(update_id, "duplicate update ignored");
            return Ok(Ingested::Duplicate);
        }
        Ok(self.handle_claimed(update_id, value, claim).await)
    }

    /// Handles a recorded update if no one else holds it.
    async fn process(&self, update_id: i64, value: Value) -> Ingested {
        let now = unix_now();
        let claim = now + CLAIM_SECS;
        let claimed = crate::on_db!(&self.db, |pool| sqlx::query(
            "UPDATE telegram_updates SET locked_until = $2, attempts = attempts + 1
             WHERE update_id = $1 AND handled_at IS NULL
               AND (locked_until IS NULL OR locked_until < $3)",
        )
        .bind(update_id)
        .bind(claim)
        .bind(now)
        .execute(pool)
        .await
        .map(crate::db::Done::from));
        match claimed {
            Ok(done) if done.rows_affected() == 1 => {
                self.handle_claimed(update_id, value, claim).await
            }
            Ok(_) => Ingested::Duplicate,
            Err(err) => {
                tracing::error!(update_id, error = %err, "cannot claim update");
                Ingested::Pending
            }
        }
    }

    /// Handles an update this handler holds the claim on (`claim` is its `locked_until`), and
    /// records the outcome while the claim is still its own.
    async fn handle_claimed(&self, update_id: i64, value: Value, claim: i64) -> Ingested {
        let outcome = match serde_json::from_value::<Update>(value) {
            Ok(update) => self.dispatcher.handle(&update).await,
            Err(err) => Err(DispatchError::Unreadable(err.to_string())),
        };
        let (handled, error) = match &outcome {
            Ok(()) => (true, None),
            // An update we cannot even read will not improve with retries.
            Err(DispatchError::Unreadable(reason)) => {
                tracing::warn!(update_id, %reason, "unreadable update; recorded and skipped");
                (true, Some(reason.clone()))
            }
            Err(err) => {
                tracing::error!(update_id, error = %err, "update handling failed; will retry");
                (false, Some(err.to_string()))
            }
        };
        let saved = crate::on_db!(&self.db, |pool| {
            sqlx::query(
            "UPDATE telegram_updates
             SET handled_at = CASE WHEN $2 THEN unixepoch() END, locked_until = NULL, last_error = $3
             WHERE update_id = $1 AND locked_until = $4",
        )
        .bind(update_id)
        .bind(handled)
        .bind(error)
        .bind(claim)
        .execute(pool)
        .await
        .map(crate::db::Done::from)
        });
        match saved {
            Ok(done) if done.rows_affected() == 0 => {
                // Handling outlived the claim and another handler (perhaps on another replica)
                // took the update over: the outcome is that handler's to record.
                tracing::warn!(update_id, "claim on an update expired while it was handled");
            }
            Ok(_) => {}
            Err(err) => {
                tracing::error!(update_id, error = %err, "cannot record the outcome of an update")
            }
        }
        match (handled, &outcome) {
            (true, Err(_)) => Ingested::Rejected,
            (true, Ok(())) => Ingested::Handled,
            (false, _) => Ingested::Pending,
        }
    }

    /// Retries recorded updates whose handling failed or was interrupted. Returns how many ran.
    pub async fn retry_pending(&self) -> Result<usize, sqlx::Error> {
        let pending: Vec<(i64, String)> = crate::on_db!(&self.db, |pool| {
            sqlx::query_as(
            "SELECT update_id, payload FROM telegram_updates
             WHERE handled_at IS NULL AND attempts < $1 AND (locked_until IS NULL OR locked_until < $2)
             ORDER BY update_id LIMIT 100",
        )
        .bind(MAX_ATTEMPTS)
        .bind(unix_now())
        .fetch_all(pool)
        .await
        })?;
        let mut ran = 0;
        for (update_id, payload) in pending {
            let value = serde_json::from_str(&payload).unwrap_or(Value::Null);
            if self.process(update_id, value).await != Ingested::Duplicate {
                ran += 1;
            }
        }
        Ok(ran)
    }
}

/// Retries pending updates every few seconds, for as long as the process runs.
pub async fn retry_worker(inbox: Inbox) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        if let Err(err) = inbox.retry_pending().await {
            tracing::error!(error = %err, "retrying pending updates failed");
        }
    }
}

/// Long polling for a shop without a public URL: the same inbox, fed by `getUpdates`.
pub async fn poll_loop(bot: Bot, inbox: Inbox) {
    let mut backoff = Backoff::default();
    // Telegram refuses getUpdates while a webhook is set.
    while let Err(err) = bot
        .call("deleteWebhook", tgbot::types::DeleteWebhook::default())
        .await
    {
        tracing::warn!(error = %err, "deleteWebhook failed; retrying");
        backoff.wait().await;
    }
    backoff.reset();
    let mut offset: Option<i64> = None;
    loop {
        let mut request = GetUpdates::new()
            .with_timeout(Duration::from_secs(POLL_TIMEOUT_SECS))
            .with_allowed_updates(allowed_updates());
        if let Some(offset) = offset {
            request = request.with_offset(offset);
        }
        match bot.poll(request).await {
            Ok(updates) => {
                backoff.reset();
                for update in updates {
                    // Advance past an update only once it is recorded: a failed write means
                    // Telegram keeps it and hands it out again.
                    match inbox.ingest_update(&update).await {
                        Ok(_) => offset = Some(update.id + 1),
                        Err(err) => {
                            tracing::error!(error = %err, "cannot record update; will poll it again");
                            backoff.wait().await;
                            break;
                        }
                    }
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "getUpdates failed; backing off");
                backoff.wait().await;
            }
        }
    }
}

/// Exponential back-off from 1 s to 30 s.
#[derive(Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    async fn wait(&mut self) {
        let secs = 1u64 << self.failures.min(5);
        self.failures += 1;
        tokio::time::sleep(Duration::from_secs(secs.min(30))).await;
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}
