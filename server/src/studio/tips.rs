//! Tips ("Support the creator"): Stars paid through the same invoice → pre-checkout →
//! successful payment path as orders, under payloads of their own (`tip_…`) that the payment
//! code hands here. A tip grants nothing; the creator sees it among their supporters.

use super::StudioError;
use crate::db::Db;
use crate::payments::checkout::{Applied, Decline, PaymentFacts, RefundApplied, RefundFacts};
use crate::payments::orders::{new_public_id, ORDER_TTL_SECS};
use crate::payments::{unix_now, PaymentError, CURRENCY};
use crate::telegram::bot::Bot;
use app::studio::types::{Supporter, TipCheckout, TipRequest};
use tgbot::types::{CreateInvoiceLink, InvoiceParameters, LabeledPrice, PreCheckoutQuery};

const PREFIX: &str = "tip_";

/// Whether an invoice payload names a tip rather than an order.
pub fn is_tip(payload: &str) -> bool {
    payload.starts_with(PREFIX)
}

/// A pending tip from `payer` and its invoice link.
pub async fn create(
    db: &Db,
    bot: &Bot,
    payer: i64,
    request: &TipRequest,
    max_stars: u32,
) -> Result<TipCheckout, StudioError> {
    if request.amount_stars < 1 || request.amount_stars > max_stars {
        return Err(StudioError::Invalid(format!(
            "A tip is 1 to {max_stars} Stars."
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
            .await)?
            .ok_or(StudioError::NotFound)?,
            (None, Some(id)) => crate::on_db!(db, |pool| sqlx::query_as(
                "SELECT user_id, NULL, display_name FROM creators WHERE user_id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await)?
            .ok_or(StudioError::NotFound)?,
            (None, None) => {
                return Err(StudioError::Invalid(
                    "Say which creator or product the tip is for.".into(),
                ))
            }
        };
    if creator_id == payer {
        return Err(StudioError::Invalid("You cannot tip yourself.".into()));
    }
    let public_id = format!("{PREFIX}{}", new_public_id());
    let now = unix_now();
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
    })?;
    let title: String = format!("Support {name}").chars().take(32).collect();
    let description = format!(
        "A tip of {} Stars for {name}. Thank you for supporting independent creators!",
        request.amount_stars
    );
    let method = CreateInvoiceLink::new(
        title.clone(),
        description.chars().take(255).collect::<String>(),
        public_id.clone(),
        CURRENCY,
        [LabeledPrice::new(i64::from(request.amount_stars), title)],
    )
    .with_parameters(InvoiceParameters::default().with_provider_token(""));
    let invoice_link = match bot.call("createInvoiceLink", method).await {
        Ok(link) => link,
        Err(err) => {
            crate::on_db!(db, |pool| sqlx::query(
                "UPDATE tips SET status = 'expired' WHERE id = $1"
            )
            .bind(tip_id)
            .execute(pool)
            .await
            .map(crate::db::Done::from))?;
            return Err(PaymentError::from(err).into());
        }
    };
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE tips SET invoice_link = $1 WHERE id = $2"
    )
    .bind(&invoice_link)
    .bind(tip_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(TipCheckout {
        tip_id: public_id,
        invoice_link,
        amount_stars: request.amount_stars,
    })
}

/// `pending`, `paid`, `refunded` or `expired`; another payer's tip is not found.
pub async fn status(db: &Db, payer: i64, public_id: &str) -> Result<String, StudioError> {
    crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT status FROM tips WHERE public_id = $1 AND user_id = $2"
    )
    .bind(public_id)
    .bind(payer)
    .fetch_optional(pool)
    .await)?
    .ok_or(StudioError::NotFound)
}

/// The pre-checkout verdict for a tip payload.
pub async fn check_pre_checkout(db: &Db, query: &PreCheckoutQuery) -> Result<(), Decline> {
    let row: Option<(i64, i64, String, i64)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT user_id, amount_stars, status, expires_at FROM tips WHERE public_id = $1",
    )
    .bind(&query.invoice_payload)
    .fetch_optional(pool)
    .await)
    .map_err(|err| {
        tracing::error!(error = %err, "tip pre-checkout lookup failed; declining");
        Decline::Unavailable
    })?;
    let Some((payer, amount, status, expires_at)) = row else {
        return Err(Decline::UnknownOrder);
    };
    match status.as_str() {
        "pending" if expires_at > unix_now() => {}
        "pending" | "expired" => return Err(Decline::Expired),
        _ => return Err(Decline::AlreadyPaid),
    }
    if i64::from(query.from.id) != payer {
        return Err(Decline::OtherPayer);
    }
    if query.total_amount != amount {
        return Err(Decline::PriceChanged);
    }
    Ok(())
}

/// Applies a charge for a tip: one transaction keyed by the charge id, like orders. A charge that
/// does not fit its tip is recorded in `unmatched_payments` for review.
pub async fn apply_payment(db: &Db, facts: &PaymentFacts) -> Result<Applied, PaymentError> {
    crate::on_db!(db, |pool| {
        let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM tips WHERE telegram_payment_charge_id = $1)
             OR EXISTS (SELECT 1 FROM orders WHERE telegram_payment_charge_id = $1)
             OR EXISTS (SELECT 1 FROM unmatched_payments WHERE telegram_payment_charge_id = $1)",
        )
        .bind(&facts.charge_id)
        .fetch_one(&mut *tx)
        .await?;
        if known {
            return Ok(Applied::AlreadyApplied);
        }
        let tip: Option<(i64, i64, i64, String)> = sqlx::query_as(
            "SELECT id, user_id, amount_stars, status FROM tips WHERE public_id = $1",
        )
        .bind(&facts.payload)
        .fetch_optional(&mut *tx)
        .await?;
        let mismatch = match &tip {
            None => Some("unknown_payload"),
            Some(_) if facts.currency != CURRENCY => Some("wrong_currency"),
            Some((_, _, _, status)) if status == "paid" || status == "refunded" => {
                Some("tip_paid_by_another_charge")
            }
            Some((_, _, amount, _)) if !facts.amount_matches(*amount) => Some("amount_mismatch"),
            Some((_, payer, _, _)) if *payer != facts.payer => Some("other_payer"),
            Some(_) => None,
        };
        if let Some(reason) = mismatch {
            sqlx::query(
            "INSERT INTO unmatched_payments
               (telegram_payment_charge_id, user_id, invoice_payload, currency, total_amount, reason)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&facts.charge_id)
        .bind(facts.payer)
        .bind(&facts.payload)
        .bind(&facts.currency)
        .bind(facts.total_amount)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
            tx.commit().await?;
            tracing::warn!(charge_id = %facts.charge_id, reason, "tip payment recorded for review");
            return Ok(Applied::Unmatched { reason });
        }
        let Some((tip_id, ..)) = tip else {
            return Err(PaymentError::Corrupt("tip vanished".into()));
        };
        sqlx::query(
        "UPDATE tips SET status = 'paid', telegram_payment_charge_id = $1, paid_at = $2 WHERE id = $3",
    )
    .bind(&facts.charge_id)
    .bind(unix_now())
    .bind(tip_id)
    .execute(&mut *tx)
    .await?;
        tx.commit().await?;
        Ok(Applied::Granted { order_id: tip_id })
    })
}

/// Applies a refund if its charge paid a tip; `None` when it did not.
pub async fn apply_refund(
    db: &Db,
    facts: &RefundFacts,
) -> Result<Option<RefundApplied>, PaymentError> {
    let tip: Option<(i64, String)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT id, status FROM tips WHERE telegram_payment_charge_id = $1"
    )
    .bind(&facts.charge_id)
    .fetch_optional(pool)
    .await)?;
    let Some((tip_id, status)) = tip else {
        return Ok(None);
    };
    if status == "refunded" {
        return Ok(Some(RefundApplied::AlreadyRefunded));
    }
    crate::on_db!(db, |pool| sqlx::query(
        "UPDATE tips SET status = 'refunded', refunded_at = $1 WHERE id = $2"
    )
    .bind(unix_now())
    .bind(tip_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(Some(RefundApplied::Refunded { order_id: tip_id }))
}

/// Paid tips for `creator` (everyone's with `None`), newest first, and their sum.
pub async fn supporters(
    db: &Db,
    creator: Option<i64>,
) -> Result<(Vec<Supporter>, u64), sqlx::Error> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        String,
        Option<String>,
        Option<String>,
        i64,
        i64,
        Option<String>,
    )> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT t.user_id, u.first_name, u.last_name, u.username, t.amount_stars, t.paid_at,
                    p.title
             FROM tips t JOIN users u ON u.id = t.user_id
             LEFT JOIN products p ON p.id = t.product_id
             WHERE t.status = 'paid' AND ($1 IS NULL OR t.creator_id = $1)
             ORDER BY t.paid_at DESC, t.id DESC LIMIT 200",
    )
    .bind(creator)
    .fetch_all(pool)
    .await)?;
    let total: i64 = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT CAST(coalesce(sum(amount_stars), 0) AS BIGINT) FROM tips
         WHERE status = 'paid' AND ($1 IS NULL OR creator_id = $1)",
    )
    .bind(creator)
    .fetch_one(pool)
    .await)?;
    let list = rows
        .into_iter()
        .map(|(user_id, first, last, username, amount, paid_at, title)| {
            super::sales::to_supporter(
                user_id,
                super::sales::supporter_name(&first, last.as_deref(), username.as_deref()),
                amount,
                paid_at,
                title,
            )
        })
        .collect();
    Ok((list, u64::try_from(total).unwrap_or(0)))
}
