//! The ledger of Star charges (`star_charges`): the one place a charge is applied or refunded,
//! whatever it paid for. Webhook, long polling, reconciliation and the shop's own refunds all
//! arrive here, each application one write transaction keyed by Telegram's unique charge id.
//!
//! A charge's state:
//!
//! ```text
//!  payment ──► granted ──refund──► refunded
//!     │                               ▲
//!     ├──► refund_due ──refundStarPayment / refunded_payment──┤
//!     │         ▲  (refused by Telegram: held)                │
//!     └──► held ┴─ a person: refund ──────────────────────────┘
//!            └──── a person: grant ──► granted
//!  refund before its payment ──► refunded (paid_at empty; the late payment only fills it in)
//! ```
//!
//! Rules ([`decide`]): a charge id seen before changes nothing. A charge grants when its subject
//! is open, the payer and amount are the ones it expects, and (for a membership) it is the first
//! charge or a renewal of a running membership. A charge that cannot grant is refunded by rule
//! when nothing can make it grant (another charge already paid the subject, the subject was
//! refunded, the payload names nothing of the shop's, another payer, a second subscription), or
//! held for a person when a person may well grant it (another amount or currency, no payer).

use tgbot::types::{EditUserStarSubscription, RefundStarPayment};

use super::payable::{Grant, Kind, Standing, Subject, SubjectStore};
use super::payload::Payload;
use super::types::{Actor, Applied, PaymentFacts, RefundApplied, RefundFacts};
use super::{api_error, memberships, unix_now, PaymentError, CURRENCY};
use crate::db::{BeginWrite, Db};
use crate::telegram::bot::Bot;
use sqlx::Transaction;

/// What the ledger does with a charge it has not seen before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Grant(Grant),
    /// Nothing can make it grant: its Stars go back (`refundStarPayment`).
    Refund(&'static str),
    /// A person decides (refund or grant).
    Hold(&'static str),
}

/// The one rule book for every kind.
pub fn decide(subject: Option<&Subject>, facts: &PaymentFacts) -> Decision {
    let Some(subject) = subject else {
        return Decision::Refund("unknown_payload");
    };
    if facts.payer == 0 {
        // A payment message without a sender: nobody to refund to without a person's look.
        return Decision::Hold("unknown_payer");
    }
    if facts.currency != CURRENCY {
        return Decision::Hold("wrong_currency");
    }
    if subject.payer != facts.payer {
        return Decision::Refund("other_payer");
    }
    if !facts.amount_matches(subject.amount) {
        return Decision::Hold("amount_mismatch");
    }
    let subscription = facts.subscription_expires_at;
    match (subject.kind, subject.standing) {
        (_, Standing::Refunded) => Decision::Refund("subject_refunded"),
        (Kind::Membership, Standing::Paid) => match (&subject.membership, subscription) {
            (Some(m), _) if m.ended => Decision::Refund("membership_ended"),
            (Some(m), Some(end)) => {
                // A renewal pays another period than the charges before it (even when updates
                // are reordered and the first charge comes after a renewal); a second *first*
                // charge (two sheets, two subscriptions) pays the same period again.
                let same_period = m
                    .charge_ends
                    .iter()
                    .any(|paid| (paid - end).abs() < memberships::PERIOD_SECS / 2);
                if same_period {
                    Decision::Refund("duplicate_subscription")
                } else {
                    Decision::Grant(Grant::Renewal(m.id))
                }
            }
            _ => Decision::Refund("duplicate_charge"),
        },
        (_, Standing::Paid) => Decision::Refund("duplicate_charge"),
        (Kind::Membership, Standing::Open) if subscription.is_none() => {
            Decision::Hold("not_a_subscription_charge")
        }
        (Kind::Purchase | Kind::Bundle | Kind::Tip, Standing::Open) if subscription.is_some() => {
            Decision::Hold("unexpected_subscription")
        }
        (_, Standing::Open) => Decision::Grant(Grant::First),
    }
}

/// A ledger row as apply-payment and apply-refund read it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChargeRow {
    pub charge_id: String,
    pub kind: String,
    pub payload: String,
    pub payer_id: i64,
    pub amount_stars: i64,
    pub subscription_expires_at: Option<i64>,
    pub paid_at: Option<i64>,
    pub refunded_at: Option<i64>,
    pub state: String,
    pub reason: Option<String>,
}

const CHARGE_COLUMNS: &str = "charge_id, kind, payload, payer_id, amount_stars, \
                              subscription_expires_at, paid_at, refunded_at, state, reason";

/// The ledger's own reads and writes inside a write transaction, once per database.
pub(crate) trait LedgerStore: Sized {
    async fn charge(&mut self, charge_id: &str) -> Result<Option<ChargeRow>, sqlx::Error>;
    /// Records a charge; false when another writer recorded it first.
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &mut self,
        facts: &PaymentFacts,
        subject: Option<&Subject>,
        state: &str,
        reason: Option<&str>,
        paid_at: Option<i64>,
        refunded_at: Option<i64>,
    ) -> Result<bool, sqlx::Error>;
    async fn set_state(
        &mut self,
        charge_id: &str,
        state: &str,
        reason: Option<&str>,
        refunded_at: Option<i64>,
        resolved_by: Option<i64>,
        now: i64,
    ) -> Result<(), sqlx::Error>;
    /// The payment of a charge whose refund came first: its facts complete the row.
    async fn fill_in_payment(&mut self, facts: &PaymentFacts, now: i64) -> Result<(), sqlx::Error>;
    /// An affiliate's share the Star ledger tells of, on a charge already applied without it:
    /// the row takes what the bot received and the share.
    async fn note_affiliate(&mut self, facts: &PaymentFacts) -> Result<(), sqlx::Error>;
}

/// An affiliate program's share of a charge as the ledger keeps it (JSON, Bot API names).
fn affiliate_json(facts: &PaymentFacts) -> Option<String> {
    facts.affiliate.as_ref().map(|a| {
        serde_json::json!({
            "affiliate_id": a.affiliate_id,
            "commission_per_mille": a.commission_per_mille,
            "amount": a.amount,
            "nanostar_amount": a.nanostar_amount,
        })
        .to_string()
    })
}

macro_rules! ledger_store_for {
    ($database:ty) => {
        impl LedgerStore for Transaction<'_, $database> {
            async fn charge(&mut self, charge_id: &str) -> Result<Option<ChargeRow>, sqlx::Error> {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {CHARGE_COLUMNS} FROM star_charges WHERE charge_id = $1"
                )))
                .bind(charge_id)
                .fetch_optional(&mut **self)
                .await
            }

            async fn record(
                &mut self,
                facts: &PaymentFacts,
                subject: Option<&Subject>,
                state: &str,
                reason: Option<&str>,
                paid_at: Option<i64>,
                refunded_at: Option<i64>,
            ) -> Result<bool, sqlx::Error> {
                let inserted: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO star_charges
                       (charge_id, kind, subject_id, payload, payer_id, currency, amount_stars,
                        nanostar_amount, affiliate, subscription_expires_at, paid_at,
                        refunded_at, source, state, reason)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                     ON CONFLICT (charge_id) DO NOTHING RETURNING id",
                )
                .bind(&facts.charge_id)
                .bind(subject.map_or("unknown", |s| s.kind.as_str()))
                .bind(subject.map(|s| s.id))
                .bind(&facts.payload)
                .bind(facts.payer)
                .bind(&facts.currency)
                .bind(facts.total_amount)
                .bind(facts.nanostar_amount)
                .bind(affiliate_json(facts))
                .bind(facts.subscription_expires_at)
                .bind(paid_at)
                .bind(refunded_at)
                .bind(facts.source.as_str())
                .bind(state)
                .bind(reason)
                .fetch_optional(&mut **self)
                .await?;
                Ok(inserted.is_some())
            }

            async fn set_state(
                &mut self,
                charge_id: &str,
                state: &str,
                reason: Option<&str>,
                refunded_at: Option<i64>,
                resolved_by: Option<i64>,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "UPDATE star_charges
                     SET state = $2, reason = COALESCE($3, reason),
                         refunded_at = COALESCE(refunded_at, $4),
                         resolved_by = COALESCE($5, resolved_by),
                         resolved_at = CASE WHEN $5 IS NULL THEN resolved_at ELSE $6 END
                     WHERE charge_id = $1",
                )
                .bind(charge_id)
                .bind(state)
                .bind(reason)
                .bind(refunded_at)
                .bind(resolved_by)
                .bind(now)
                .execute(&mut **self)
                .await?;
                Ok(())
            }

            async fn fill_in_payment(
                &mut self,
                facts: &PaymentFacts,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "UPDATE star_charges
                     SET paid_at = $2, payer_id = $3, currency = $4, amount_stars = $5,
                         nanostar_amount = $6, affiliate = $7, subscription_expires_at = $8
                     WHERE charge_id = $1 AND paid_at IS NULL",
                )
                .bind(&facts.charge_id)
                .bind(now)
                .bind(facts.payer)
                .bind(&facts.currency)
                .bind(facts.total_amount)
                .bind(facts.nanostar_amount)
                .bind(affiliate_json(facts))
                .bind(facts.subscription_expires_at)
                .execute(&mut **self)
                .await?;
                Ok(())
            }

            async fn note_affiliate(&mut self, facts: &PaymentFacts) -> Result<(), sqlx::Error> {
                // The row takes the ledger's facts whole, so what the bot received and the
                // affiliate's share still add up to the price.
                sqlx::query(
                    "UPDATE star_charges
                     SET amount_stars = $2, nanostar_amount = $3, affiliate = $4
                     WHERE charge_id = $1 AND affiliate IS NULL",
                )
                .bind(&facts.charge_id)
                .bind(facts.total_amount)
                .bind(facts.nanostar_amount)
                .bind(affiliate_json(facts))
                .execute(&mut **self)
                .await?;
                Ok(())
            }
        }
    };
}
ledger_store_for!(sqlx::Sqlite);
ledger_store_for!(sqlx::Postgres);

/// The one apply-payment: records the charge and grants it, queues its refund or holds it, in
/// one write transaction (see [`decide`]).
pub async fn apply_payment(db: &Db, facts: &PaymentFacts) -> Result<Applied, PaymentError> {
    let payload = Payload::parse(&facts.payload);
    let now = unix_now();
    crate::on_db!(db, |pool| {
        // IMMEDIATE (SQLite) or the shared advisory lock (PostgreSQL): two appliers of one
        // charge run one after the other, so the second sees the first's row.
        let mut tx = pool.begin_write().await?;
        if let Some(known) = tx.charge(&facts.charge_id).await? {
            if known.paid_at.is_none() {
                tx.fill_in_payment(facts, now).await?;
                tx.commit().await?;
            } else if facts.affiliate.is_some() {
                // The update came first and carried no affiliate; the Star ledger tells of one.
                tx.note_affiliate(facts).await?;
                tx.commit().await?;
            }
            return Ok(Applied::AlreadyApplied);
        }
        let subject = tx.load_subject(&payload).await?;
        let decision = decide(subject.as_ref(), facts);
        let (state, reason) = match decision {
            Decision::Grant(grant) => {
                let Some(subject) = &subject else {
                    return Err(PaymentError::Corrupt("a grant without a subject".into()));
                };
                tx.grant(subject, facts, grant, now).await?;
                ("granted", None)
            }
            Decision::Refund(reason) => ("refund_due", Some(reason)),
            Decision::Hold(reason) => ("held", Some(reason)),
        };
        if !tx
            .record(facts, subject.as_ref(), state, reason, Some(now), None)
            .await?
        {
            // Another writer got there first (it cannot under the write lock; the unique id
            // guards anyway): this transaction's grant is rolled back.
            return Ok(Applied::AlreadyApplied);
        }
        tx.commit().await?;
        Ok(match (decision, subject) {
            (Decision::Grant(_), Some(subject)) => Applied::Granted {
                order_id: subject.id,
            },
            (Decision::Refund(reason), _) => {
                tracing::warn!(charge_id = %facts.charge_id, reason, "charge grants nothing; refunding it");
                Applied::Unmatched {
                    reason,
                    refund_due: true,
                }
            }
            (_, _) => {
                let reason = reason.unwrap_or("held");
                tracing::warn!(charge_id = %facts.charge_id, reason, "charge held for review");
                Applied::Unmatched {
                    reason,
                    refund_due: false,
                }
            }
        })
    })
}

/// The one apply-refund: the charge's grant (if any) is taken back and the charge marked
/// refunded, in one write transaction. A refund heard before its payment is recorded (and its
/// open subject settled as refunded), so the late payment grants nothing.
pub async fn apply_refund(db: &Db, facts: &RefundFacts) -> Result<RefundApplied, PaymentError> {
    let now = unix_now();
    crate::on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let known = tx.charge(&facts.charge_id).await?;
        let outcome = match known {
            Some(known) if known.refunded_at.is_some() => {
                return Ok(RefundApplied::AlreadyRefunded)
            }
            Some(known) if known.state == "granted" => {
                let subject = tx.load_subject(&Payload::parse(&known.payload)).await?;
                let Some(subject) = subject else {
                    return Err(PaymentError::Corrupt(format!(
                        "granted charge {} names nothing",
                        facts.charge_id
                    )));
                };
                tx.revoke(&subject, &facts.charge_id, now).await?;
                RefundApplied::Refunded {
                    order_id: subject.id,
                }
            }
            Some(_) => RefundApplied::UnmatchedRefunded,
            None => {
                let payment = PaymentFacts {
                    payer: facts.payer,
                    charge_id: facts.charge_id.clone(),
                    payload: facts.payload.clone(),
                    currency: CURRENCY.into(),
                    total_amount: facts.total_amount,
                    ..PaymentFacts::default()
                };
                let subject = tx.load_subject(&Payload::parse(&facts.payload)).await?;
                let open = subject
                    .as_ref()
                    .filter(|s| s.standing == Standing::Open && s.amount == facts.total_amount);
                if let Some(open) = open {
                    tx.settle_unpaid(open, &facts.charge_id, now).await?;
                }
                tx.record(
                    &payment,
                    subject.as_ref(),
                    "refunded",
                    None,
                    None,
                    Some(now),
                )
                .await?;
                tx.commit().await?;
                return Ok(match open {
                    Some(open) => RefundApplied::Refunded { order_id: open.id },
                    None => RefundApplied::UnmatchedRefunded,
                });
            }
        };
        tx.set_state(&facts.charge_id, "refunded", None, Some(now), None, now)
            .await?;
        tx.commit().await?;
        Ok(outcome)
    })
}

/// Refunds every charge the ledger owes back (`refund_due`); returns how many went back. Run
/// after each payment update, and by [`settle_loop`] for those a failure left behind.
pub async fn settle_due(db: &Db, bot: &Bot) -> Result<usize, PaymentError> {
    let due: Vec<ChargeRow> =
        crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CHARGE_COLUMNS} FROM star_charges WHERE state = 'refund_due'
             ORDER BY id LIMIT 100"
        )))
        .fetch_all(pool)
        .await)?;
    let mut refunded = 0;
    for charge in due {
        if settle(db, bot, &charge).await? {
            refunded += 1;
        }
    }
    Ok(refunded)
}

/// Returns one charge's Stars: a subscription's renewal is stopped first
/// (`editUserStarSubscription`), so Telegram does not go on charging for a subscription that
/// grants nothing, then `refundStarPayment`; the ledger hears of it like any refund. Telegram
/// refusing the refund (other than "already refunded") holds the charge for a person.
async fn settle(db: &Db, bot: &Bot, charge: &ChargeRow) -> Result<bool, PaymentError> {
    if charge.subscription_expires_at.is_some() {
        let stop = EditUserStarSubscription::new(charge.payer_id, charge.charge_id.clone(), true);
        match bot.call("editUserStarSubscription", stop).await {
            Ok(_) => {}
            // Already ended or cancelled on Telegram's side: the refund still goes ahead.
            Err(err) if api_error(&err).is_some() => {
                tracing::warn!(error = %err, charge_id = %charge.charge_id, "cannot stop the subscription");
            }
            Err(err) => return Err(err.into()),
        }
    }
    let call = RefundStarPayment::new(charge.payer_id, charge.charge_id.clone());
    match bot.call("refundStarPayment", call).await {
        Ok(_) => {}
        Err(err)
            if api_error(&err)
                .is_some_and(|e| e.description().contains("CHARGE_ALREADY_REFUNDED")) => {}
        Err(err) if api_error(&err).is_some() => {
            tracing::warn!(error = %err, charge_id = %charge.charge_id, "refund refused; holding the charge");
            let now = unix_now();
            crate::on_db!(db, |pool| {
                let mut tx = pool.begin_write().await?;
                tx.set_state(
                    &charge.charge_id,
                    "held",
                    Some("refund_refused"),
                    None,
                    None,
                    now,
                )
                .await?;
                tx.commit().await
            })?;
            return Ok(false);
        }
        Err(err) => return Err(err.into()),
    }
    apply_refund(
        db,
        &RefundFacts {
            charge_id: charge.charge_id.clone(),
            payload: charge.payload.clone(),
            total_amount: charge.amount_stars,
            payer: charge.payer_id,
        },
    )
    .await?;
    Ok(true)
}

/// Settles what a failed refund call left owed, every `every`.
pub async fn settle_loop(db: Db, bot: Bot, every: std::time::Duration) {
    loop {
        match settle_due(&db, &bot).await {
            Ok(0) => {}
            Ok(refunded) => tracing::info!(refunded, "charges refunded by rule"),
            Err(err) => tracing::warn!(error = %err, "cannot refund the charges owed back"),
        }
        tokio::time::sleep(every).await;
    }
}

pub use app::studio::types::HeldCharge;

#[derive(sqlx::FromRow)]
struct HeldRow {
    charge_id: String,
    kind: String,
    payer_id: i64,
    amount_stars: i64,
    reason: Option<String>,
    paid_at: Option<i64>,
    subject: Option<String>,
}

/// Charges held for review that `creator` may settle (their products' and tips; all with
/// `None`, for admins), oldest first.
pub async fn held(db: &Db, creator: Option<i64>) -> Result<Vec<HeldCharge>, sqlx::Error> {
    let rows: Vec<HeldRow> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT c.charge_id, c.kind, c.payer_id, c.amount_stars, c.reason, c.paid_at,
                COALESCE(p.title, tc.display_name) AS subject
         FROM star_charges c
         LEFT JOIN orders o ON o.id = c.subject_id AND c.kind IN ('purchase', 'membership')
         LEFT JOIN products p ON p.id = o.product_id
         LEFT JOIN tips t ON t.id = c.subject_id AND c.kind = 'tip'
         LEFT JOIN creators tc ON tc.user_id = t.creator_id
         WHERE c.state = 'held'
           AND ($1 IS NULL OR p.creator_id = $1 OR t.creator_id = $1)
         ORDER BY c.id",
    )
    .bind(creator)
    .fetch_all(pool)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|r| HeldCharge {
            charge_id: r.charge_id,
            kind: r.kind,
            payer_id: r.payer_id,
            amount_stars: u32::try_from(r.amount_stars).unwrap_or(0),
            reason: r.reason.unwrap_or_default(),
            paid_at: r.paid_at,
            subject: r.subject,
        })
        .collect())
}

/// What a person decides for a held charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Give the Stars back.
    Refund,
    /// Grant what it paid for, as if it had matched (e.g. an amount an affiliate program cut).
    Grant,
}

/// Settles a held charge: `actor` is an admin or the creator of what it paid for.
pub async fn resolve(
    db: &Db,
    bot: &Bot,
    charge_id: &str,
    actor: Actor,
    resolution: Resolution,
) -> Result<Applied, PaymentError> {
    enum Next {
        Refund(ChargeRow),
        Granted(i64),
    }
    let now = unix_now();
    let next = crate::on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let charge = tx
            .charge(charge_id)
            .await?
            .filter(|c| c.state == "held")
            .ok_or(PaymentError::OrderNotFound)?;
        let subject = tx.load_subject(&Payload::parse(&charge.payload)).await?;
        if !actor.is_admin && owner_of(&mut tx, subject.as_ref()).await? != Some(actor.user_id) {
            return Err(PaymentError::Forbidden);
        }
        let next = match resolution {
            Resolution::Refund => {
                tx.set_state(
                    charge_id,
                    "refund_due",
                    None,
                    None,
                    Some(actor.user_id),
                    now,
                )
                .await?;
                Next::Refund(charge)
            }
            Resolution::Grant => {
                let subject = subject
                    .filter(|s| s.standing == Standing::Open && s.payer == charge.payer_id)
                    .ok_or(PaymentError::NotGrantable)?;
                let facts = PaymentFacts {
                    payer: charge.payer_id,
                    charge_id: charge.charge_id.clone(),
                    payload: charge.payload.clone(),
                    total_amount: charge.amount_stars,
                    subscription_expires_at: charge.subscription_expires_at,
                    ..PaymentFacts::default()
                };
                tx.grant(&subject, &facts, Grant::First, now).await?;
                tx.set_state(charge_id, "granted", None, None, Some(actor.user_id), now)
                    .await?;
                Next::Granted(subject.id)
            }
        };
        tx.commit().await?;
        next
    });
    match next {
        Next::Granted(order_id) => Ok(Applied::Granted { order_id }),
        Next::Refund(charge) => {
            settle(db, bot, &charge).await?;
            Ok(Applied::Unmatched {
                reason: "refunded_by_hand",
                refund_due: true,
            })
        }
    }
}

/// The creator who may settle a charge of `subject`.
async fn owner_of<T: Owners>(
    tx: &mut T,
    subject: Option<&Subject>,
) -> Result<Option<i64>, sqlx::Error> {
    match subject {
        Some(subject) => T::owner(tx, subject).await,
        None => Ok(None),
    }
}

pub(crate) trait Owners: Sized {
    async fn owner(tx: &mut Self, subject: &Subject) -> Result<Option<i64>, sqlx::Error>;
}

macro_rules! owners_for {
    ($database:ty) => {
        impl Owners for Transaction<'_, $database> {
            async fn owner(tx: &mut Self, subject: &Subject) -> Result<Option<i64>, sqlx::Error> {
                let sql = match subject.kind {
                    Kind::Tip => "SELECT creator_id FROM tips WHERE id = $1",
                    Kind::Purchase | Kind::Membership | Kind::Bundle | Kind::Gift => {
                        "SELECT p.creator_id FROM orders o JOIN products p ON p.id = o.product_id
                         WHERE o.id = $1"
                    }
                };
                sqlx::query_scalar(sql)
                    .bind(subject.id)
                    .fetch_optional(&mut **tx)
                    .await
            }
        }
    };
}
owners_for!(sqlx::Sqlite);
owners_for!(sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::payable::MembershipRow;

    fn facts(payer: i64, amount: i64, end: Option<i64>) -> PaymentFacts {
        PaymentFacts {
            payer,
            charge_id: "c".into(),
            payload: "p".into(),
            currency: CURRENCY.into(),
            total_amount: amount,
            subscription_expires_at: end,
            ..PaymentFacts::default()
        }
    }

    fn subject(kind: Kind, standing: Standing) -> Subject {
        Subject {
            kind,
            id: 7,
            payer: 1,
            amount: 100,
            standing,
            membership: None,
        }
    }

    #[test]
    fn only_an_open_subject_of_the_payer_and_amount_grants() {
        let open = subject(Kind::Purchase, Standing::Open);
        assert_eq!(
            decide(Some(&open), &facts(1, 100, None)),
            Decision::Grant(Grant::First)
        );
        assert_eq!(
            decide(None, &facts(1, 100, None)),
            Decision::Refund("unknown_payload")
        );
        assert_eq!(
            decide(Some(&open), &facts(2, 100, None)),
            Decision::Refund("other_payer")
        );
        assert_eq!(
            decide(Some(&open), &facts(1, 90, None)),
            Decision::Hold("amount_mismatch")
        );
        assert_eq!(
            decide(Some(&open), &facts(0, 100, None)),
            Decision::Hold("unknown_payer")
        );
        let paid = subject(Kind::Tip, Standing::Paid);
        assert_eq!(
            decide(Some(&paid), &facts(1, 100, None)),
            Decision::Refund("duplicate_charge")
        );
        let refunded = subject(Kind::Purchase, Standing::Refunded);
        assert_eq!(
            decide(Some(&refunded), &facts(1, 100, None)),
            Decision::Refund("subject_refunded")
        );
    }

    #[test]
    fn a_renewal_pays_the_next_period_and_a_second_first_charge_goes_back() {
        let p = memberships::PERIOD_SECS;
        let mut member = subject(Kind::Membership, Standing::Paid);
        member.membership = Some(MembershipRow {
            id: 3,
            ended: false,
            charge_ends: vec![10 * p],
        });
        assert_eq!(
            decide(Some(&member), &facts(1, 100, Some(11 * p))),
            Decision::Grant(Grant::Renewal(3))
        );
        assert_eq!(
            decide(Some(&member), &facts(1, 100, Some(10 * p + 60))),
            Decision::Refund("duplicate_subscription")
        );
        // The first charge heard after its renewal is no duplicate.
        let mut first = facts(1, 100, Some(9 * p));
        first.is_first_recurring = Some(true);
        assert_eq!(
            decide(Some(&member), &first),
            Decision::Grant(Grant::Renewal(3))
        );
        let open = subject(Kind::Membership, Standing::Open);
        assert_eq!(
            decide(Some(&open), &facts(1, 100, Some(p))),
            Decision::Grant(Grant::First)
        );
    }
}
