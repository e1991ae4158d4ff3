//! Reconciliation: reads the bot's Star ledger (`getStarTransactions`, chronological) from the
//! stored offset and applies any charge or refund the database does not know, through the same
//! code paths as the updates. Lost or dropped updates are thus recovered; running it beside the
//! webhook is safe because both apply by unique charge id in one transaction.

use tgbot::types::{
    AffiliateInfo, GetStarTransactions, StarTransaction, TransactionPartner,
    TransactionPartnerUserParameters, TransactionPartnerUserType,
};

use super::checkout::{apply_payment_facts, apply_refund_facts};
use super::types::{AffiliateShare, Applied, PaymentFacts, RefundApplied, RefundFacts, Source};
use super::{PaymentError, CURRENCY};
use crate::db::Db;
use crate::telegram::bot::Bot;

/// The Bot API's page size maximum.
const PAGE: i64 = 100;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Transactions read in this run.
    pub scanned: usize,
    /// Charges that granted an order the database had not seen paid.
    pub payments_applied: usize,
    /// Charges recorded for review.
    pub payments_unmatched: usize,
    /// Refunds the database had not seen.
    pub refunds_applied: usize,
    /// The offset the next run starts at.
    pub next_offset: i64,
}

/// What one ledger entry means to the shop.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    Payment(PaymentFacts),
    Refund(RefundFacts),
    Other,
}

/// Bot API `StarTransaction`: "Coincides with the identifier of the original transaction for
/// refund transactions. Coincides with SuccessfulPayment.telegram_payment_charge_id for
/// successful incoming payments from users." Its `amount` (and `nanostar_amount`) is what the
/// bot's balance moved by: for a buyer brought by a Star affiliate program, the price less the
/// affiliate's commission (`TransactionPartnerUser.affiliate`, an `AffiliateInfo`). Such a
/// payment is matched by charge id, payload and payer, not by amount, and carries both.
fn invoice(
    partner: &Option<TransactionPartner>,
) -> Option<(&TransactionPartnerUserParameters, String)> {
    match partner {
        Some(TransactionPartner::User(user))
            if user.transaction_type == TransactionPartnerUserType::InvoicePayment =>
        {
            user.invoice_payload.clone().map(|payload| (user, payload))
        }
        _ => None,
    }
}

fn classify(tx: &StarTransaction) -> Entry {
    // Incoming Stars from a user's invoice payment name the user as the source; a refund of
    // such a payment names them as the receiver, under the same id as the charge.
    if let Some((user, payload)) = invoice(&tx.source) {
        return Entry::Payment(PaymentFacts {
            payer: i64::from(user.user.id),
            charge_id: tx.id.clone(),
            payload,
            currency: CURRENCY.to_owned(),
            total_amount: tx.amount,
            nanostar_amount: tx.nanostar_amount.unwrap_or(0),
            affiliate: user.affiliate.as_ref().map(affiliate_share),
            // The ledger has no expiration date: a subscription charge pays the period from
            // its date (Telegram charges renewals when the previous period ends).
            subscription_expires_at: user.subscription_period.map(|p| tx.date + p),
            is_first_recurring: None,
            source: Source::Reconciliation,
        });
    }
    if let Some((user, payload)) = invoice(&tx.receiver) {
        return Entry::Refund(RefundFacts {
            charge_id: tx.id.clone(),
            payload,
            total_amount: tx.amount,
            payer: i64::from(user.user.id),
        });
    }
    Entry::Other
}

fn affiliate_share(info: &AffiliateInfo) -> AffiliateShare {
    AffiliateShare {
        affiliate_id: info
            .affiliate_user
            .as_ref()
            .map(|u| i64::from(u.id))
            .or_else(|| info.affiliate_chat.as_ref().map(|c| i64::from(c.get_id()))),
        commission_per_mille: info.commission_per_mille,
        amount: info.amount,
        nanostar_amount: info.nanostar_amount.unwrap_or(0),
    }
}

/// Scans the ledger from the stored position to its end and applies what is missing.
pub async fn reconcile(db: &Db, bot: &Bot) -> Result<ReconcileReport, PaymentError> {
    let mut report = ReconcileReport {
        next_offset: crate::on_db!(db, |pool| sqlx::query_scalar(
            "SELECT next_offset FROM reconcile_state WHERE id = 1"
        )
        .fetch_optional(pool)
        .await)?
        .unwrap_or(0),
        ..ReconcileReport::default()
    };
    loop {
        let page = bot
            .call(
                "getStarTransactions",
                GetStarTransactions::default()
                    .with_offset(report.next_offset)
                    .with_limit(PAGE),
            )
            .await?
            .transactions;
        for tx in &page {
            match classify(tx) {
                Entry::Payment(facts) => match apply_payment_facts(db, &facts).await? {
                    Applied::Granted { order_id } => {
                        tracing::warn!(order_id, charge_id = %facts.charge_id, "reconciliation applied a lost payment");
                        report.payments_applied += 1;
                    }
                    Applied::Unmatched { .. } => report.payments_unmatched += 1,
                    Applied::AlreadyApplied => {}
                },
                Entry::Refund(facts) => {
                    if let RefundApplied::Refunded { order_id } =
                        apply_refund_facts(db, &facts).await?
                    {
                        tracing::warn!(order_id, charge_id = %facts.charge_id, "reconciliation applied a lost refund");
                        report.refunds_applied += 1;
                    }
                }
                Entry::Other => {}
            }
        }
        report.scanned += page.len();
        let read = i64::try_from(page.len()).unwrap_or(PAGE);
        report.next_offset += read;
        // Saved per page, never moved backwards by a slower concurrent run.
        crate::on_db!(db, |pool| {
            sqlx::query(
            "UPDATE reconcile_state SET next_offset = CASE WHEN $1 > next_offset THEN $1 ELSE next_offset END, updated_at = unixepoch()
             WHERE id = 1",
        )
        .bind(report.next_offset)
        .execute(pool)
        .await
        .map(crate::db::Done::from)
        })?;
        if read < PAGE {
            break;
        }
    }
    Ok(report)
}

/// Reconciles at start and then every `every`; failures are logged and retried next round.
pub async fn reconcile_loop(db: Db, bot: Bot, every: std::time::Duration) {
    loop {
        match reconcile(&db, &bot).await {
            Ok(report) if report.payments_applied + report.refunds_applied > 0 => {
                tracing::warn!(?report, "reconciliation found lost updates");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "reconciliation failed"),
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tx(value: serde_json::Value) -> StarTransaction {
        serde_json::from_value(value).unwrap()
    }

    fn user() -> serde_json::Value {
        json!({ "id": 42, "is_bot": false, "first_name": "Ann" })
    }

    #[test]
    fn invoice_payments_and_their_refunds_are_told_apart() {
        let paid = tx(json!({
            "id": "stx1", "amount": 250, "date": 1,
            "source": { "type": "user", "transaction_type": "invoice_payment", "user": user(), "invoice_payload": "ord" }
        }));
        let refunded = tx(json!({
            "id": "stx1", "amount": 250, "date": 2,
            "receiver": { "type": "user", "transaction_type": "invoice_payment", "user": user(), "invoice_payload": "ord" }
        }));
        let gift = tx(json!({
            "id": "stx2", "amount": 5, "date": 3,
            "source": { "type": "user", "transaction_type": "gift_purchase", "user": user() }
        }));
        let ads = tx(
            json!({ "id": "stx3", "amount": 5, "date": 3, "receiver": { "type": "telegram_ads" } }),
        );
        assert_eq!(
            classify(&paid),
            Entry::Payment(PaymentFacts {
                payer: 42,
                charge_id: "stx1".into(),
                payload: "ord".into(),
                currency: "XTR".into(),
                total_amount: 250,
                source: Source::Reconciliation,
                ..PaymentFacts::default()
            })
        );
        assert_eq!(
            classify(&refunded),
            Entry::Refund(RefundFacts {
                charge_id: "stx1".into(),
                payload: "ord".into(),
                total_amount: 250,
                payer: 42,
            })
        );
        assert_eq!(classify(&gift), Entry::Other);
        assert_eq!(classify(&ads), Entry::Other);
    }

    #[test]
    fn an_affiliate_shared_payment_carries_the_share() {
        // A 250-Star purchase by a user an affiliate referred at 125 ‰: the bot received
        // 218.75 Stars, the affiliate 31.25.
        let paid = tx(json!({
            "id": "stx4", "amount": 218, "nanostar_amount": 750_000_000, "date": 1,
            "source": {
                "type": "user", "transaction_type": "invoice_payment", "user": user(),
                "invoice_payload": "ord",
                "affiliate": {
                    "affiliate_user": { "id": 77, "is_bot": false, "first_name": "Aff" },
                    "commission_per_mille": 125, "amount": 31, "nanostar_amount": 250_000_000
                }
            }
        }));
        let Entry::Payment(facts) = classify(&paid) else {
            panic!("a payment");
        };
        assert_eq!(
            (facts.total_amount, facts.nanostar_amount),
            (218, 750_000_000)
        );
        assert_eq!(
            facts.affiliate,
            Some(AffiliateShare {
                affiliate_id: Some(77),
                commission_per_mille: 125,
                amount: 31,
                nanostar_amount: 250_000_000,
            })
        );
        assert!(
            facts.amount_matches(250),
            "matched by charge, payload and payer"
        );
    }
}
