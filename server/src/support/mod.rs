//! Payment support that someone reads. `/paysupport <text>` makes a request linked to the
//! buyer's recent Star charges (from the ledger, `star_charges`), routed to the creators of what
//! those charges paid for, and always to the shop's admins: each gets a bot message in their
//! language with a button into the studio's support inbox. There a creator sees the requests
//! about their products (an admin every one), answers (the bot sends the answer to the buyer's
//! chat, as the shop) and refunds through the ledger's one refund path.
//!
//! A request's status: `open` → `answered` (a reply went out; more may follow) → `closed`.
//! The HTTP surface is `routes`; nothing else here knows HTTP.

use crate::db::Db;
use crate::payments::{self, Actor, OrderRef, PaymentError, Resolution};
use crate::studio::Caller;
use crate::telegram::bot::{Bot, BotError};
use crate::telegram::links::{ChatKind, Links, Place};
use app::i18n::{td_string, Locale};
use app::studio::types::{SupportCharge, SupportReply, SupportRequest};
use app::texts::fill;
use tgbot::types::SendMessage;

/// How far back the charges a request is linked to go.
pub const RECENT_SECS: i64 = 30 * 86_400;
/// At most this many charges are linked to one request (the newest).
pub const MAX_LINKED: i64 = 10;
/// A reply's limit: Telegram takes at most 4096 characters of message text (Bot API,
/// `sendMessage`: "Text of the message to be sent, 1-4096 characters after entities parsing"),
/// and the reply is sent under a short header.
pub const MAX_REPLY_CHARS: usize = 3_500;
/// The inbox lists at most this many requests, newest first.
const INBOX_LIMIT: i64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    /// No such request, or not one the caller may see.
    #[error("no such support request")]
    NotFound,
    #[error("the answer is empty")]
    EmptyReply,
    #[error("the answer is longer than {MAX_REPLY_CHARS} characters")]
    ReplyTooLong,
    #[error("the request is closed")]
    Closed,
    /// The charge is not one of the request's, or the ledger has nothing to refund for it.
    #[error("this charge cannot be refunded from the support inbox")]
    NotRefundable,
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Bot(#[from] BotError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

/// A `/paysupport` request as the bot received it.
#[derive(Clone, Debug)]
pub struct NewRequest {
    pub buyer: i64,
    pub chat: i64,
    pub language_code: Option<String>,
    pub message: String,
}

/// Where the bot's buttons open the Mini App, and who the admins are.
#[derive(Clone, Copy, Debug)]
pub struct Routing<'a> {
    pub admin_ids: &'a [i64],
    pub links: &'a Links,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    pub id: i64,
    /// Creators and admins the bot told (those Telegram refused to reach are left out).
    pub notified: Vec<i64>,
}

#[derive(sqlx::FromRow)]
struct ChargeLine {
    request_id: i64,
    charge_id: String,
    kind: String,
    state: String,
    amount_stars: i64,
    paid_at: Option<i64>,
    order_id: Option<String>,
    subject: Option<String>,
    creator_id: Option<i64>,
}

/// Records a request, links the buyer's recent charges, and tells their creators and the
/// admins. Telling is best effort: a creator who never started the bot cannot be written to
/// (Telegram refuses bots that start conversations), and the inbox shows the request anyway.
pub async fn submit(
    db: &Db,
    bot: &Bot,
    routing: Routing<'_>,
    request: &NewRequest,
    now: i64,
) -> Result<Submitted, SupportError> {
    let id: i64 = crate::on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO support_requests (user_id, chat_id, message, language_code, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(request.buyer)
        .bind(request.chat)
        .bind(&request.message)
        .bind(&request.language_code)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO support_request_charges (request_id, charge_id)
             SELECT $1, charge_id FROM star_charges
             WHERE payer_id = $2 AND COALESCE(paid_at, refunded_at, created_at) >= $3
             ORDER BY id DESC LIMIT $4",
        )
        .bind(id)
        .bind(request.buyer)
        .bind(now - RECENT_SECS)
        .bind(MAX_LINKED)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        id
    });
    let charges = linked_charges(db, id, id).await?;
    let mut creators: Vec<i64> = charges.iter().filter_map(|c| c.creator_id).collect();
    creators.sort_unstable();
    creators.dedup();
    crate::on_db!(db, |pool| {
        for creator in &creators {
            sqlx::query(
                "INSERT INTO support_request_creators (request_id, creator_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(creator)
            .execute(pool)
            .await?;
        }
    });

    let buyer = person(db, request.buyer).await?;
    let mut recipients = creators.clone();
    recipients.extend_from_slice(routing.admin_ids);
    recipients.sort_unstable();
    recipients.dedup();
    let mut notified = Vec::new();
    for recipient in recipients {
        let locale = app::locale_for(
            language_of(db, recipient)
                .await?
                .as_deref()
                .unwrap_or_default(),
        );
        // A creator reads only about their own products; an admin about all of them.
        let is_admin = routing.admin_ids.contains(&recipient);
        let lines: Vec<String> = charges
            .iter()
            .filter(|c| is_admin || c.creator_id == Some(recipient))
            .map(|c| charge_line(locale, c))
            .collect();
        let list = if lines.is_empty() {
            td_string!(locale, support_bot.no_charges).to_owned()
        } else {
            lines.join("\n")
        };
        let text = fill(
            td_string!(locale, support_bot.new_request),
            &[
                ("id", &id),
                ("buyer", &buyer),
                ("charges", &list),
                ("message", &request.message),
            ],
        );
        let mut message = SendMessage::new(recipient, text);
        // A user's private chat with the bot has their user id.
        let label = td_string!(locale, support_bot.open_inbox);
        let inbox = Place::Page("studio/support");
        if let Some(markup) = routing.links.button(ChatKind::Private, label, inbox).await {
            message = message.with_reply_markup(markup);
        }
        match bot.call("sendMessage", message).await {
            Ok(_) => notified.push(recipient),
            Err(err) => tracing::warn!(
                support_request = id,
                recipient,
                error = %err,
                "could not tell a creator or admin of a support request"
            ),
        }
    }
    Ok(Submitted { id, notified })
}

fn charge_line(locale: Locale, c: &ChargeLine) -> String {
    let subject = match (c.kind.as_str(), &c.subject) {
        ("tip", Some(creator)) => fill(
            td_string!(locale, support_bot.tip_for),
            &[("creator", creator)],
        ),
        (_, Some(title)) => title.clone(),
        (_, None) => c.charge_id.clone(),
    };
    // A ledger state (`star_charges.state`) as people say it.
    let state = match c.state.as_str() {
        "granted" => td_string!(locale, support_bot.state_granted),
        "held" => td_string!(locale, support_bot.state_held),
        "refund_due" => td_string!(locale, support_bot.state_refund_due),
        _ => td_string!(locale, support_bot.state_refunded),
    };
    fill(
        td_string!(locale, support_bot.charge_line),
        &[
            ("subject", &subject),
            ("stars", &c.amount_stars),
            ("state", &state),
        ],
    )
}

/// The charges linked to requests `from..=to`, newest first, with what they paid for and its
/// creator.
async fn linked_charges(db: &Db, from: i64, to: i64) -> Result<Vec<ChargeLine>, sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT l.request_id, c.charge_id, c.kind, c.state, c.amount_stars, c.paid_at,
                o.public_id AS order_id, COALESCE(p.title, tc.display_name) AS subject,
                COALESCE(p.creator_id, t.creator_id) AS creator_id
         FROM support_request_charges l
         JOIN star_charges c ON c.charge_id = l.charge_id
         LEFT JOIN orders o ON o.id = c.subject_id AND c.kind IN ('purchase', 'membership')
         LEFT JOIN products p ON p.id = o.product_id
         LEFT JOIN tips t ON t.id = c.subject_id AND c.kind = 'tip'
         LEFT JOIN creators tc ON tc.user_id = t.creator_id
         WHERE l.request_id BETWEEN $1 AND $2
         ORDER BY l.request_id, c.id DESC",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)
}

async fn person(db: &Db, user: i64) -> Result<String, sqlx::Error> {
    let row: Option<(String, Option<String>, Option<String>)> = crate::on_db!(db, |pool| {
        sqlx::query_as("SELECT first_name, last_name, username FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(pool)
            .await
    })?;
    Ok(match row {
        Some((first, last, username)) => format!(
            "{} ({user})",
            crate::studio::sales::supporter_name(&first, last.as_deref(), username.as_deref())
        ),
        None => user.to_string(),
    })
}

async fn language_of(db: &Db, user: i64) -> Result<Option<String>, sqlx::Error> {
    let code: Option<Option<String>> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT language_code FROM users WHERE id = $1"
    )
    .bind(user)
    .fetch_optional(pool)
    .await)?;
    Ok(code.flatten())
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    user_id: i64,
    chat_id: i64,
    message: String,
    status: String,
    created_at: i64,
    language_code: Option<String>,
}

const REQUEST_COLUMNS: &str =
    "r.id, r.user_id, r.chat_id, r.message, r.status, r.created_at, r.language_code";

/// Whether `caller` may see request `id`: admins every one, a creator those routed to them.
async fn visible(db: &Db, caller: Caller, id: i64) -> Result<RequestRow, SupportError> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM support_requests r
         WHERE r.id = $1 AND ($2 IS NULL OR EXISTS (
             SELECT 1 FROM support_request_creators s
             WHERE s.request_id = r.id AND s.creator_id = $2))"
    );
    let scope = (!caller.is_admin()).then_some(caller.user_id);
    let row: Option<RequestRow> =
        crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(scope)
            .fetch_optional(pool)
            .await)?;
    row.ok_or(SupportError::NotFound)
}

/// The requests not yet closed that `caller` may see, newest first, each with the buyer's linked
/// charges (a creator sees only those of their own products and tips) and the replies sent.
pub async fn inbox(db: &Db, caller: Caller) -> Result<Vec<SupportRequest>, SupportError> {
    let scope = (!caller.is_admin()).then_some(caller.user_id);
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM support_requests r
         WHERE r.status <> 'closed' AND ($1 IS NULL OR EXISTS (
             SELECT 1 FROM support_request_creators s
             WHERE s.request_id = r.id AND s.creator_id = $1))
         ORDER BY r.id DESC LIMIT $2"
    );
    let rows: Vec<RequestRow> = crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope)
        .bind(INBOX_LIMIT)
        .fetch_all(pool)
        .await)?;
    let (Some(newest), Some(oldest)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    let (from, to) = (oldest.id, newest.id);
    let charges = linked_charges(db, from, to).await?;
    let replies: Vec<(i64, i64, String, i64)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT request_id, author_id, text, created_at FROM support_replies
         WHERE request_id BETWEEN $1 AND $2 ORDER BY id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(SupportRequest {
            id: row.id,
            buyer_id: row.user_id,
            buyer_name: person(db, row.user_id).await?,
            message: row.message,
            status: row.status,
            created_at: row.created_at,
            charges: charges
                .iter()
                .filter(|c| c.request_id == row.id)
                .filter(|c| scope.is_none() || c.creator_id == scope)
                .map(|c| SupportCharge {
                    charge_id: c.charge_id.clone(),
                    kind: c.kind.clone(),
                    subject: c.subject.clone(),
                    order_id: c.order_id.clone(),
                    amount_stars: u32::try_from(c.amount_stars).unwrap_or(0),
                    state: c.state.clone(),
                    paid_at: c.paid_at,
                    refundable: refundable(&c.kind, &c.state),
                })
                .collect(),
            replies: replies
                .iter()
                .filter(|r| r.0 == row.id)
                .map(|r| SupportReply {
                    author_id: r.1,
                    text: r.2.clone(),
                    created_at: r.3,
                })
                .collect(),
        });
    }
    Ok(out)
}

/// What the inbox can refund: a held charge (the ledger's hold, settled by a person) or a
/// granted order's charge (the shop's refund of the order). Tips are settled elsewhere.
fn refundable(kind: &str, state: &str) -> bool {
    state == "held" || (state == "granted" && matches!(kind, "purchase" | "membership"))
}

/// Sends `text` to the buyer's chat as the shop's answer, and records it: the request becomes
/// `answered`. Nothing is recorded when Telegram refuses the message.
pub async fn reply(
    db: &Db,
    bot: &Bot,
    caller: Caller,
    id: i64,
    text: &str,
    now: i64,
) -> Result<(), SupportError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SupportError::EmptyReply);
    }
    if text.chars().count() > MAX_REPLY_CHARS {
        return Err(SupportError::ReplyTooLong);
    }
    let request = visible(db, caller, id).await?;
    if request.status == "closed" {
        return Err(SupportError::Closed);
    }
    let locale = app::locale_for(request.language_code.as_deref().unwrap_or_default());
    let message = fill(
        td_string!(locale, support_bot.reply),
        &[("id", &id), ("text", &text)],
    );
    bot.call("sendMessage", SendMessage::new(request.chat_id, message))
        .await?;
    crate::on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO support_replies (request_id, author_id, text, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(caller.user_id)
        .bind(text)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE support_requests SET status = 'answered', answered_at = $2
             WHERE id = $1 AND status <> 'closed'",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Closes a request: it leaves the inbox.
pub async fn close(db: &Db, caller: Caller, id: i64, now: i64) -> Result<(), SupportError> {
    visible(db, caller, id).await?;
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE support_requests SET status = 'closed', closed_at = $2, closed_by = $3
         WHERE id = $1 AND status <> 'closed'",
    )
    .bind(id)
    .bind(now)
    .bind(caller.user_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(())
}

/// Refunds one of the request's charges through the ledger: a held charge is settled as a
/// person's refund ([`payments::ledger::resolve`]), a granted order's charge by the shop's
/// refund of the order ([`payments::refund`]). Both check that the caller is an admin or the
/// creator of what it paid for.
pub async fn refund(
    db: &Db,
    bot: &Bot,
    caller: Caller,
    id: i64,
    charge_id: &str,
) -> Result<(), SupportError> {
    visible(db, caller, id).await?;
    let charge: Option<(String, String, Option<i64>)> = crate::on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT c.kind, c.state, c.subject_id FROM support_request_charges l
             JOIN star_charges c ON c.charge_id = l.charge_id
             WHERE l.request_id = $1 AND l.charge_id = $2",
        )
        .bind(id)
        .bind(charge_id)
        .fetch_optional(pool)
        .await
    })?;
    let (kind, state, subject) = charge.ok_or(SupportError::NotRefundable)?;
    let actor = Actor {
        user_id: caller.user_id,
        is_admin: caller.is_admin(),
    };
    match (state.as_str(), subject) {
        ("held", _) => {
            payments::ledger::resolve(db, bot, charge_id, actor, Resolution::Refund).await?;
        }
        ("granted", Some(order)) if refundable(&kind, &state) => {
            payments::refund(db, bot, OrderRef::Id(order), actor).await?;
        }
        _ => return Err(SupportError::NotRefundable),
    }
    Ok(())
}
