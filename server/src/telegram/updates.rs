//! Updates from Telegram, from the webhook or from long polling, into one durable inbox and one
//! dispatcher. Each update is recorded before it is handled: a repeat is recognised by its
//! `update_id`, and an update whose handling failed stays pending and is retried.
//!
//! Two rules keep a sale from being lost at intake:
//! - A `pre_checkout_query` must be answered within 10 seconds or Telegram cancels the payment
//!   (Bot API, answerPreCheckoutQuery: "the Bot API must receive an answer within 10 seconds
//!   after the pre-checkout query was sent"). So it is answered ahead of everything else. On the
//!   webhook it is decided from reads alone and answered in the webhook's reply (Bot API: "you
//!   can perform a request to the Bot API while sending an answer to the webhook"), with no
//!   write and no second HTTP call in its way; every other update is acknowledged once recorded
//!   and handled in the background, so no webhook connection is held by a slow handler. When
//!   polling, pre-checkouts go first in a batch, and intake waits for no handling longer than
//!   [`HANDLING_BUDGET`] (the handling goes on in the background under its claim).
//! - `update_id`s are only unique for a while: Telegram starts the sequence anew after a week
//!   without updates (Bot API, Update: "If there are no new updates for at least a week, then
//!   identifier of the next update will be chosen randomly instead of sequentially"), and a new
//!   bot on the same database has a sequence of its own. Ids older than [`SEEN_FOR_SECS`] count
//!   as new, and a pre-checkout is never dropped as a repeat: answering it twice is harmless,
//!   not answering it loses the sale.

use super::bot::{Bot, POLL_TIMEOUT_SECS};
use super::dispatch::{DispatchError, Dispatcher};
use crate::db::Db;
use clock::unix_now;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tgbot::types::{AllowedUpdate, GetUpdates, Update, UpdateType};
use tokio::sync::Semaphore;
use tracing::Instrument;

/// After this many failed attempts an update is left for a person to look at.
const MAX_ATTEMPTS: i64 = 10;
/// How long a handler's claim on an update lasts before another may take it over.
const CLAIM_SECS: i64 = 60;
/// How long an `update_id` counts as seen. Telegram keeps an unconfirmed update for 24 hours
/// (Bot API, getUpdates), so no repeat can come later than that; past a week the id may be
/// reused by a restarted sequence.
pub const SEEN_FOR_SECS: i64 = 7 * 86_400;
/// How long intake (the webhook's answer, the polling loop) waits for one update's handling
/// before it moves on and lets the handling finish in the background. Well under Telegram's 10
/// seconds for a pre-checkout that may be queued behind it.
pub const HANDLING_BUDGET: Duration = Duration::from_secs(2);
/// How many updates the webhook has acknowledged may be handled at once in the background; the
/// rest wait their turn, in order. As many as Telegram's default webhook connections.
const BACKGROUND_HANDLING: usize = 40;

/// The updates the shop asks Telegram for.
pub fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        AllowedUpdate::PreCheckoutQuery,
        AllowedUpdate::CallbackQuery,
        AllowedUpdate::InlineQuery,
    ]
}

/// How an update came in (a label of its span and metrics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intake {
    Webhook,
    Polling,
}

impl Intake {
    pub fn as_str(self) -> &'static str {
        match self {
            Intake::Webhook => "webhook",
            Intake::Polling => "polling",
        }
    }
}

/// An update's kind: the field beside `update_id`, one of Telegram's kinds the shop knows, else
/// "other" (so a hostile key never reaches a label or a column).
pub fn kind_of(update: &Value) -> &'static str {
    const KINDS: [&str; 8] = [
        "message",
        "edited_message",
        "callback_query",
        "pre_checkout_query",
        "shipping_query",
        "my_chat_member",
        "purchased_paid_media",
        "inline_query",
    ];
    update
        .as_object()
        .and_then(|o| {
            o.keys()
                .find_map(|key| KINDS.iter().find(|k| **k == key.as_str()))
        })
        .copied()
        .unwrap_or("other")
}

/// What became of one incoming update.
#[derive(Debug, PartialEq, Eq)]
pub enum Ingested {
    Handled,
    /// Seen before (a webhook retry, or polling after a restart): nothing was done again.
    Duplicate,
    /// Recorded, but handling failed; the retry worker will try again.
    Pending,
    /// Recorded and still being handled after [`HANDLING_BUDGET`]; it finishes in the background
    /// (or, if it fails there, stays pending for the retry worker).
    InProgress,
    /// Not an update at all; logged and dropped so it cannot block the queue.
    Rejected,
}

/// When intake lets go of an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Acknowledge {
    /// Once it is handled, or after [`HANDLING_BUDGET`] (polling: the confirmed offset moves on).
    AfterHandling,
    /// Once it is recorded (the webhook: Telegram's connection is freed at once, and a
    /// pre-checkout's answer rides on the reply).
    OnceRecorded,
}

/// How an update enters the inbox.
#[derive(Clone, Copy, Debug)]
enum Entry {
    /// Claimed until this time by the handler about to take it.
    Claimed(i64),
    /// Already handled (a pre-checkout answered in the webhook's reply).
    Handled,
}

/// What the webhook answers Telegram.
#[derive(Debug, PartialEq)]
pub struct WebhookAnswer {
    pub outcome: Ingested,
    /// A Bot API call to send as the reply's JSON body (`method` and its parameters): the
    /// answer to a pre-checkout query.
    pub reply: Option<Value>,
}

impl WebhookAnswer {
    fn plain(outcome: Ingested) -> Self {
        Self {
            outcome,
            reply: None,
        }
    }
}

#[derive(Clone)]
pub struct Inbox {
    db: Db,
    dispatcher: Dispatcher,
    /// Permits for handling acknowledged webhook updates in the background.
    handling: Arc<Semaphore>,
}

impl Inbox {
    pub fn new(db: Db, dispatcher: Dispatcher) -> Self {
        Self {
            db,
            dispatcher,
            handling: Arc::new(Semaphore::new(BACKGROUND_HANDLING)),
        }
    }

    /// Takes the webhook's body: a pre-checkout query is decided and its answer returned as
    /// the reply; any other update is acknowledged once recorded and handled in the
    /// background. Errs only when the update could not be recorded (the caller then answers 500
    /// so that Telegram delivers it again).
    pub async fn ingest_webhook(&self, body: &[u8]) -> Result<WebhookAnswer, sqlx::Error> {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            tracing::warn!(bytes = body.len(), "webhook body is not JSON; dropped");
            return Ok(WebhookAnswer::plain(Ingested::Rejected));
        };
        self.ingest_value(value, Intake::Webhook, Acknowledge::OnceRecorded)
            .await
    }

    /// Takes a webhook body and waits for its handling as polling does (within
    /// [`HANDLING_BUDGET`]); for tools and tests that feed updates one at a time.
    pub async fn ingest_json(&self, body: &[u8]) -> Result<Ingested, sqlx::Error> {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            tracing::warn!(bytes = body.len(), "webhook body is not JSON; dropped");
            return Ok(Ingested::Rejected);
        };
        Ok(self
            .ingest_value(value, Intake::Webhook, Acknowledge::AfterHandling)
            .await?
            .outcome)
    }

    /// Takes an update from `getUpdates`.
    pub async fn ingest_update(&self, update: &Update) -> Result<Ingested, sqlx::Error> {
        match serde_json::to_value(update) {
            Ok(value) => Ok(self
                .ingest_value(value, Intake::Polling, Acknowledge::AfterHandling)
                .await?
                .outcome),
            Err(err) => {
                tracing::warn!(update_id = update.id, error = %err, "cannot record update; dropped");
                Ok(Ingested::Rejected)
            }
        }
    }

    /// Records and handles one update in an `update` span, timed into the metrics the same way
    /// whichever way it came.
    async fn ingest_value(
        &self,
        value: Value,
        intake: Intake,
        acknowledge: Acknowledge,
    ) -> Result<WebhookAnswer, sqlx::Error> {
        let Some(update_id) = value.get("update_id").and_then(Value::as_i64) else {
            tracing::warn!(
                intake = intake.as_str(),
                "body has no integer update_id; dropped"
            );
            return Ok(WebhookAnswer::plain(Ingested::Rejected));
        };
        let kind = kind_of(&value);
        let span = tracing::info_span!("update", update_id, kind, intake = intake.as_str());
        let started = std::time::Instant::now();
        let answer = match acknowledge {
            Acknowledge::AfterHandling => self
                .record_and_handle(update_id, kind, value)
                .instrument(span)
                .await
                .map(WebhookAnswer::plain),
            Acknowledge::OnceRecorded => {
                self.record_and_acknowledge(update_id, kind, value)
                    .instrument(span)
                    .await
            }
        };
        let took = started.elapsed().as_secs_f64();
        let intake = intake.as_str();
        metrics::histogram!(crate::metrics::UPDATE_SECONDS, "kind" => kind).record(took);
        if kind == "pre_checkout_query" {
            metrics::histogram!(crate::metrics::PRE_CHECKOUT_SECONDS, "intake" => intake)
                .record(took);
        }
        answer
    }

    /// The webhook's way: a pre-checkout is answered in the reply and recorded after; anything
    /// else is recorded and then handled in the background, [`BACKGROUND_HANDLING`] at a time.
    async fn record_and_acknowledge(
        &self,
        update_id: i64,
        kind: &'static str,
        value: Value,
    ) -> Result<WebhookAnswer, sqlx::Error> {
        if kind == "pre_checkout_query" {
            if let Ok(Update {
                update_type: UpdateType::PreCheckoutQuery(query),
                ..
            }) = serde_json::from_value::<Update>(value.clone())
            {
                let answer = self.dispatcher.decide_pre_checkout(update_id, &query).await;
                let mut reply = serde_json::to_value(&answer).unwrap_or_default();
                reply["method"] = Value::from("answerPreCheckoutQuery");
                // Recorded (as handled) off the reply's path: a write waiting on a busy
                // database must not hold the answer back.
                let inbox = self.clone();
                tokio::spawn(
                    async move { inbox.record_answered(update_id, kind, value).await }
                        .in_current_span(),
                );
                return Ok(WebhookAnswer {
                    outcome: Ingested::Handled,
                    reply: Some(reply),
                });
            }
            // Unreadable: recorded and skipped below like any other unreadable update.
        }
        let claim = unix_now() + CLAIM_SECS;
        if !self
            .record(update_id, kind, &value, Entry::Claimed(claim))
            .await?
        {
            tracing::debug!(update_id, "duplicate update ignored");
            return Ok(WebhookAnswer::plain(Ingested::Duplicate));
        }
        let inbox = self.clone();
        tokio::spawn(
            async move {
                // Its turn among the background handlers comes in the order updates arrived;
                // waiting costs nothing, and the record keeps it should the process stop first.
                let Ok(_turn) = inbox.handling.clone().acquire_owned().await else {
                    return;
                };
                inbox.handle_claimed(update_id, value, claim).await;
            }
            .in_current_span(),
        );
        Ok(WebhookAnswer::plain(Ingested::InProgress))
    }

    /// Records a pre-checkout the webhook reply answered, as handled; an id seen within
    /// [`SEEN_FOR_SECS`] keeps its row (a repeat, answered again).
    async fn record_answered(&self, update_id: i64, kind: &'static str, value: Value) {
        if let Err(err) = self.record(update_id, kind, &value, Entry::Handled).await {
            // The answer went out; only the record of it is missing.
            tracing::warn!(update_id, error = %err, "cannot record an answered pre-checkout");
        }
    }

    /// Records an update unless its id was seen within [`SEEN_FOR_SECS`]: claimed by the handler
    /// about to take it (one write instead of an insert and a claim, while the claim keeps the
    /// retry worker off it), or already handled. A row older than [`SEEN_FOR_SECS`] is another
    /// update that had the same id: it is replaced. Returns whether it was recorded.
    async fn record(
        &self,
        update_id: i64,
        kind: &'static str,
        value: &Value,
        entry: Entry,
    ) -> Result<bool, sqlx::Error> {
        let now = unix_now();
        let (locked_until, handled_at) = match entry {
            Entry::Claimed(claim) => (Some(claim), None),
            Entry::Handled => (None, Some(now)),
        };
        let inserted = crate::on_db!(&self.db, |pool| sqlx::query(
            "INSERT INTO telegram_updates
               (update_id, kind, payload, received_at, locked_until, handled_at, attempts)
             VALUES ($1, $2, $3, $4, $5, $6, 1)
             ON CONFLICT (update_id) DO UPDATE
               SET kind = excluded.kind, payload = excluded.payload,
                   received_at = excluded.received_at, handled_at = excluded.handled_at,
                   locked_until = excluded.locked_until, attempts = 1, last_error = NULL
               WHERE telegram_updates.received_at < $7",
        )
        .bind(update_id)
        .bind(kind)
        .bind(value.to_string())
        .bind(now)
        .bind(locked_until)
        .bind(handled_at)
        .bind(now - SEEN_FOR_SECS)
        .execute(pool)
        .await
        .map(crate::db::Done::from))?
        .rows_affected();
        Ok(inserted > 0)
    }

    async fn record_and_handle(
        &self,
        update_id: i64,
        kind: &'static str,
        value: Value,
    ) -> Result<Ingested, sqlx::Error> {
        let claim = unix_now() + CLAIM_SECS;
        if !self
            .record(update_id, kind, &value, Entry::Claimed(claim))
            .await?
        {
            if kind == "pre_checkout_query" {
                // A repeat (answered again, harmless) or a new query under a reused id: either
                // way it is answered, unrecorded, rather than lose the sale.
                tracing::info!(
                    update_id,
                    "pre-checkout under a seen update_id; answered anyway"
                );
                return Ok(self.handle_unrecorded(update_id, value).await);
            }
            tracing::debug!(update_id, "duplicate update ignored");
            return Ok(Ingested::Duplicate);
        }
        Ok(self.handle_within_budget(update_id, value, claim).await)
    }

    /// Handles a pre-checkout whose id is taken by a recorded update.
    async fn handle_unrecorded(&self, update_id: i64, value: Value) -> Ingested {
        let update = match serde_json::from_value::<Update>(value) {
            Ok(update) => update,
            Err(err) => {
                tracing::warn!(update_id, error = %err, "unreadable update; skipped");
                return Ingested::Rejected;
            }
        };
        match self.dispatcher.handle(&update).await {
            Ok(()) => Ingested::Handled,
            Err(err) => {
                tracing::error!(update_id, error = %err, "pre-checkout under a seen update_id failed");
                Ingested::Rejected
            }
        }
    }

    /// Handles a claimed update in a task of its own and waits for it at most
    /// [`HANDLING_BUDGET`]: a slow update (a `sendMessage` waiting out `retry_after`) must not
    /// hold up the webhook's answer or the polling loop, and with them the next pre-checkout.
    /// The task also survives the webhook caller hanging up.
    async fn handle_within_budget(&self, update_id: i64, value: Value, claim: i64) -> Ingested {
        let inbox = self.clone();
        // The handling keeps the update's span when it goes on in the background.
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move { inbox.handle_claimed(update_id, value, claim).await },
            tracing::Span::current(),
        ));
        match tokio::time::timeout(HANDLING_BUDGET, task).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(err)) => {
                // The claim expires and the retry worker takes the update over.
                tracing::error!(update_id, error = %err, "update handler panicked");
                Ingested::Pending
            }
            Err(_) => {
                tracing::info!(update_id, "update still being handled; intake moves on");
                Ingested::InProgress
            }
        }
    }

    /// Forgets update ids recorded more than [`SEEN_FOR_SECS`] ago once they are settled
    /// (handled, or given up after [`MAX_ATTEMPTS`]). Returns how many went.
    pub async fn prune(&self) -> Result<u64, sqlx::Error> {
        let cutoff = unix_now() - SEEN_FOR_SECS;
        Ok(crate::on_db!(&self.db, |pool| sqlx::query(
            "DELETE FROM telegram_updates
             WHERE received_at < $1 AND (handled_at IS NOT NULL OR attempts >= $2)",
        )
        .bind(cutoff)
        .bind(MAX_ATTEMPTS)
        .execute(pool)
        .await
        .map(crate::db::Done::from))?
        .rows_affected())
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

/// Retries pending updates every few seconds, and forgets old update ids about hourly, for as
/// long as the process runs.
pub async fn retry_worker(inbox: Inbox) {
    const PRUNE_EVERY: u32 = 720;
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    let mut ticks: u32 = 0;
    loop {
        tick.tick().await;
        if let Err(err) = inbox.retry_pending().await {
            tracing::error!(error = %err, "retrying pending updates failed");
        }
        if ticks.is_multiple_of(PRUNE_EVERY) {
            match inbox.prune().await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "old update ids forgotten"),
                Err(err) => tracing::warn!(error = %err, "cannot prune old update ids"),
            }
        }
        ticks = ticks.wrapping_add(1);
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
                let (next, failed) = ingest_batch(&inbox, updates).await;
                offset = next.or(offset);
                if failed {
                    backoff.wait().await;
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "getUpdates failed; backing off");
                backoff.wait().await;
            }
        }
    }
}

/// Records and handles one `getUpdates` batch: its pre-checkout queries first, all at once, then
/// the rest in order. Returns the offset that confirms what was recorded, and whether a write
/// failed. The offset never passes an update that could not be recorded: Telegram keeps it and
/// hands it out again (with whatever followed it, which is then recognised as a repeat).
async fn ingest_batch(inbox: &Inbox, updates: Vec<Update>) -> (Option<i64>, bool) {
    let is_checkout = |u: &Update| matches!(u.update_type, UpdateType::PreCheckoutQuery(_));
    let last = updates.iter().map(|u| u.id).max();
    let (checkouts, rest): (Vec<Update>, Vec<Update>) = updates.into_iter().partition(is_checkout);
    let mut unrecorded: Option<i64> = None;
    let mut note = |id: i64, err: &sqlx::Error| {
        tracing::error!(update_id = id, error = %err, "cannot record update; will poll it again");
        unrecorded = Some(unrecorded.map_or(id, |u: i64| u.min(id)));
    };
    let answering: Vec<_> = checkouts
        .into_iter()
        .map(|update| {
            let inbox = inbox.clone();
            tokio::spawn(async move { (update.id, inbox.ingest_update(&update).await) })
        })
        .collect();
    for task in answering {
        match task.await {
            Ok((_, Ok(_))) => {}
            Ok((id, Err(err))) => note(id, &err),
            Err(err) => tracing::error!(error = %err, "pre-checkout intake panicked"),
        }
    }
    for update in rest {
        if let Err(err) = inbox.ingest_update(&update).await {
            note(update.id, &err);
            break;
        }
    }
    match unrecorded {
        Some(id) => (Some(id), true),
        None => (last.map(|id| id + 1), false),
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
