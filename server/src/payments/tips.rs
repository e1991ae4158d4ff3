//! Tips ("Support the creator"): Stars paid through the same invoice → pre-checkout →
//! successful payment path as orders, one kind of what can be paid (`payable.rs`) under
//! payloads of their own (`t.…`). A tip grants nothing; the creator sees it among their
//! supporters (the studio reads paid tips).

use super::orders::ORDER_TTL_SECS;
use super::payable::{open_invoice, InvoiceText};
use super::payload::{Payload, PayloadKind};
use super::PaymentError;
use crate::db::Db;
use crate::telegram::bot::Bot;
use app::i18n::td_string;
use app::studio::types::{TipCheckout, TipRequest};
use app::text;
use app::texts::{fill, Text};

/// Why a tip was not made.
#[derive(Debug, thiserror::Error)]
pub enum TipError {
    /// The request cannot be a tip; says why, for the buyer.
    #[error("{0}")]
    Invalid(Text),
    #[error("no such creator, product or tip")]
    NotFound,
    #[error(transparent)]
    Payment(#[from] PaymentError),
}

/// How long a pending tip's link must still be payable to be handed out again.
const REUSE_MARGIN_SECS: i64 = 300;

/// A pending tip from `payer` and its invoice link (the live one, if the same tip is pending).
pub async fn create(
    db: &Db,
    bot: &Bot,
    payer: i64,
    request: &TipRequest,
    max_stars: u32,
    now: i64,
) -> Result<TipCheckout, TipError> {
    if request.amount_stars < 1 || request.amount_stars > max_stars {
        return Err(TipError::Invalid(text!(
            studio_errors.tip_range,
            max = max_stars
        )));
    }
    let (creator_id, product_id, name): (i64, Option<i64>, String) =
        match (&request.slug, request.creator_id) {
            (Some(slug), _) => crate::on_db!(db, |pool| sqlx::query_as(
                "SELECT c.user_id, p.id, c.display_name FROM products p
             JOIN creators c ON c.user_id = p.creator_id
             WHERE p.slug = $1 AND p.status IN ('published', 'archived')",
            )
            .bind(slug)
            .fetch_optional(pool)
            .await)
            .map_err(PaymentError::from)?
            .ok_or(TipError::NotFound)?,
            (None, Some(id)) => crate::on_db!(db, |pool| sqlx::query_as(
                "SELECT user_id, NULL, display_name FROM creators WHERE user_id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await)
            .map_err(PaymentError::from)?
            .ok_or(TipError::NotFound)?,
            (None, None) => return Err(TipError::Invalid(text!(studio_errors.tip_target))),
        };
    if creator_id == payer {
        return Err(TipError::Invalid(text!(studio_errors.tip_self)));
    }
    // One live invoice per payer, creator, page and amount: a second tap on Support (or a
    // script) gets the same link instead of another order and another `createInvoiceLink`.
    // A link about to expire is not handed out again.
    let live: Option<(String, String)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT public_id, invoice_link FROM tips
         WHERE user_id = $1 AND creator_id = $2 AND product_id IS NOT DISTINCT FROM $3
           AND amount_stars = $4 AND status = 'pending' AND invoice_link IS NOT NULL
           AND expires_at > $5
         ORDER BY id DESC LIMIT 1",
    )
    .bind(payer)
    .bind(creator_id)
    .bind(product_id)
    .bind(i64::from(request.amount_stars))
    .bind(now + REUSE_MARGIN_SECS)
    .fetch_optional(pool)
    .await)
    .map_err(PaymentError::from)?;
    if let Some((tip_id, invoice_link)) = live {
        return Ok(TipCheckout {
            tip_id,
            invoice_link,
            amount_stars: request.amount_stars,
        });
    }
    let payload = Payload::new(PayloadKind::Tip);
    let public_id = payload.as_str().to_owned();
    let tip_id: i64 = crate::on_db!(db, |pool| {
        sqlx::query_scalar(
        "INSERT INTO tips (public_id, user_id, creator_id, product_id, amount_stars, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&public_id)
    .bind(payer)
    .bind(creator_id)
    .bind(product_id)
    .bind(i64::from(request.amount_stars))
    .bind(now)
    .bind(now + ORDER_TTL_SECS)
    .fetch_one(pool)
    .await
    })
    .map_err(PaymentError::from)?;
    // The buyer reads the invoice in Telegram: it is written in their Telegram language.
    let locale = crate::users::locale(db, payer)
        .await
        .map_err(PaymentError::from)?;
    let title = fill(td_string!(locale, tips.invoice_title), &[("name", &name)]);
    let description = fill(
        td_string!(locale, tips.invoice_description),
        &[("amount", &request.amount_stars), ("name", &name)],
    );
    let invoice_link = open_invoice(
        db,
        bot,
        &payload,
        tip_id,
        i64::from(request.amount_stars),
        InvoiceText {
            title: &title,
            description: &description,
            photo_url: None,
            subscription_period: None,
        },
    )
    .await?;
    Ok(TipCheckout {
        tip_id: public_id,
        invoice_link,
        amount_stars: request.amount_stars,
    })
}

/// `pending`, `paid`, `refunded` or `expired`; another payer's tip is not found.
pub async fn status(db: &Db, payer: i64, public_id: &str) -> Result<String, TipError> {
    crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT status FROM tips WHERE public_id = $1 AND user_id = $2"
    )
    .bind(public_id)
    .bind(payer)
    .fetch_optional(pool)
    .await)
    .map_err(PaymentError::from)?
    .ok_or(TipError::NotFound)
}
