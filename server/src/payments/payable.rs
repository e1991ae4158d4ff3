//! What can be paid in Stars: the kinds of subject a charge pays for (a one-time purchase, a
//! membership's charge, a tip, a bundle, a gift), each with what it expects of a charge, what it checks
//! at pre-checkout, what it grants and what a refund takes back. The ledger (`ledger.rs`) decides
//! *whether* a charge grants; this module says *what* granting and revoking mean per kind. A new
//! kind adds a [`Kind`], its row in [`Offer`]/[`Subject`] loading, and its arms in
//! [`SubjectStore`]; one paid by a row of a new table also adds a payload prefix (`payload.rs`).
//! Kinds paid by an order (purchase, membership, bundle) are told apart by the order's product.

use sqlx::Transaction;
use tgbot::types::{CreateInvoiceLink, InvoiceParameters, LabeledPrice};

use super::payload::{Payload, PayloadKind};
use super::types::{Decline, PaymentFacts};
use super::{discounts, PaymentError, CURRENCY};
use crate::db::Db;
use crate::telegram::bot::Bot;

/// Telegram's limits for invoice texts, in characters.
const TITLE_MAX: usize = 32;
const DESCRIPTION_MAX: usize = 255;

/// What the payment sheet shows for a new subject.
pub struct InvoiceText<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub photo_url: Option<&'a str>,
    /// A membership's renewal period (Telegram's `subscription_period`).
    pub subscription_period: Option<i64>,
}

/// Asks Telegram for the Stars invoice link of a new subject (row `id`, named by `payload`)
/// and keeps it on the row. A subject Telegram would not invoice is closed, since nobody can
/// pay it: an order is cancelled and gives back its discount code's use, a tip expires.
pub async fn open_invoice(
    db: &Db,
    bot: &Bot,
    payload: &Payload,
    id: i64,
    amount: i64,
    text: InvoiceText<'_>,
) -> Result<String, PaymentError> {
    let title = truncate_chars(text.title, TITLE_MAX);
    // Telegram rejects an empty description, and some products have none.
    let description = match truncate_chars(text.description, DESCRIPTION_MAX) {
        d if d.is_empty() => title.clone(),
        d => d,
    };
    // Stars take no provider: the token is the empty string.
    let mut parameters = InvoiceParameters::default().with_provider_token("");
    if let Some(photo) = text.photo_url {
        parameters = parameters.with_photo_url(photo);
    }
    let mut method = CreateInvoiceLink::new(
        title.clone(),
        description,
        payload.as_str(),
        CURRENCY,
        [LabeledPrice::new(amount, title)],
    )
    .with_parameters(parameters);
    if let Some(period) = text.subscription_period {
        method = method.with_subscription_period(period);
    }
    let link: String = match bot.call("createInvoiceLink", method).await {
        Ok(link) => link,
        Err(err) => {
            close_unpayable(db, payload.kind, id).await?;
            return Err(err.into());
        }
    };
    let sql = match payload.kind {
        PayloadKind::Order => "UPDATE orders SET invoice_link = $1 WHERE id = $2",
        PayloadKind::Tip => "UPDATE tips SET invoice_link = $1 WHERE id = $2",
    };
    crate::on_db!(db, |pool| sqlx::query(sql)
        .bind(&link)
        .bind(id)
        .execute(pool)
        .await
        .map(crate::db::Done::from))?;
    Ok(link)
}

fn truncate_chars(text: &str, max: usize) -> String {
    text.trim().chars().take(max).collect()
}

async fn close_unpayable(db: &Db, kind: PayloadKind, id: i64) -> Result<(), PaymentError> {
    crate::on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        match kind {
            PayloadKind::Order => {
                let cancelled: Vec<Option<i64>> = sqlx::query_scalar(
                    "UPDATE orders SET status = 'cancelled' WHERE id = $1 AND status = 'pending'
                     RETURNING discount_code_id",
                )
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
                discounts::release(&mut tx, &cancelled).await?;
            }
            PayloadKind::Tip => {
                sqlx::query("UPDATE tips SET status = 'expired' WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok::<_, PaymentError>(())
    })
}

/// A gift's code: 18 random bytes as URL-safe text, 24 characters. A `startapp` parameter takes
/// 64 of `[A-Za-z0-9_-]`, so `g_<code>` fits, and 144 bits are not guessed. It is made here, by a
/// gift's grant, and not beside the claim (`gifts.rs`), which stands on this module.
pub(crate) fn new_gift_code() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 18];
    // A guessable code would let anybody claim somebody's gift: refuse to go on without one.
    getrandom::fill(&mut bytes).expect("the OS random number generator is unavailable");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What a charge pays for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Purchase,
    Membership,
    Tip,
    /// A one-time order of a bundle's product: it grants the bundle and every part.
    Bundle,
    /// A one-time order paid for somebody else: it grants nothing until a friend claims it
    /// (`gifts.rs`), and then grants them what a purchase (or bundle) would.
    Gift,
}

impl Kind {
    /// How the ledger records the kind (`star_charges.kind`), which also says which table the
    /// subject is a row of: a bundle is bought by an order like any purchase, and is recorded
    /// as one (what its order granted is in `entitlements`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Purchase | Kind::Bundle | Kind::Gift => "purchase",
            Kind::Membership => "membership",
            Kind::Tip => "tip",
        }
    }
}

/// Whether the buyer (`$1`) owns product `$2` at `$3`: the one test of an active grant.
pub const OWNS: &str = "EXISTS (SELECT 1 FROM entitlements e
         WHERE e.user_id = $1 AND e.product_id = $2 AND e.revoked_at IS NULL
           AND (e.expires_at IS NULL OR e.expires_at > $3))";

/// Where a subject's payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Not paid yet (pending, or expired/cancelled: a charge after pre-checkout still pays it).
    Open,
    Paid,
    Refunded,
}

impl Standing {
    fn of(status: &str) -> Self {
        match status {
            "paid" => Standing::Paid,
            "refunded" => Standing::Refunded,
            _ => Standing::Open,
        }
    }
}

/// A running (or ended) membership of a subscribing order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipRow {
    pub id: i64,
    pub ended: bool,
    /// The period ends every charge of it paid up to.
    pub charge_ends: Vec<i64>,
}

/// The row a payload names, as the ledger weighs a charge against it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub kind: Kind,
    /// `orders.id` or `tips.id`.
    pub id: i64,
    /// Who must pay, and how much.
    pub payer: i64,
    pub amount: i64,
    pub standing: Standing,
    pub membership: Option<MembershipRow>,
}

/// How a charge the ledger accepted is granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// The subject's first (or only) charge.
    First,
    /// Another period of the membership with this id.
    Renewal(i64),
}

/// A subject as pre-checkout reads it, with one indexed query per kind.
#[derive(sqlx::FromRow)]
struct Offer {
    payer: i64,
    amount: i64,
    status: String,
    expires_at: i64,
    /// A purchase's product status; `None` for a tip.
    product_status: Option<String>,
    /// The buyer owns the product already; for a bundle, the bundle or every part of it. Never
    /// for a gift: a buyer may give what they own.
    owned: bool,
    has_code: bool,
}

/// Pre-checkout for any kind: `Ok` only for an open subject of this payer and amount, still
/// within its time on the shop's clock (`now`), whose kind-specific conditions hold. Reads
/// only: Telegram gives the bot 10 seconds, and a declined query costs nothing.
pub async fn check_offer(
    db: &Db,
    payload: &Payload,
    payer: i64,
    amount: i64,
    now: i64,
) -> Result<(), Decline> {
    let offer: Result<Option<Offer>, sqlx::Error> = match payload.kind {
        PayloadKind::Order => crate::on_db!(db, |pool| sqlx::query_as(
            "SELECT o.user_id AS payer, o.amount_stars AS amount, o.status, o.expires_at,
                    p.status AS product_status, o.discount_code_id IS NOT NULL AS has_code,
                    NOT o.gift AND (EXISTS (SELECT 1 FROM entitlements e
                            WHERE e.user_id = o.user_id AND e.product_id = o.product_id
                              AND e.revoked_at IS NULL
                              AND (e.expires_at IS NULL OR e.expires_at > $2))
                    OR (EXISTS (SELECT 1 FROM bundle_items bi WHERE bi.bundle_id = o.product_id)
                        AND NOT EXISTS (
                          SELECT 1 FROM bundle_items bi
                          WHERE bi.bundle_id = o.product_id
                            AND NOT EXISTS (SELECT 1 FROM entitlements e
                                            WHERE e.user_id = o.user_id
                                              AND e.product_id = bi.product_id
                                              AND e.revoked_at IS NULL
                                              AND (e.expires_at IS NULL OR e.expires_at > $2)))))
                    AS owned
             FROM orders o JOIN products p ON p.id = o.product_id
             WHERE o.public_id = $1",
        )
        .bind(payload.as_str())
        .bind(now)
        .fetch_optional(pool)
        .await),
        PayloadKind::Tip => crate::on_db!(db, |pool| sqlx::query_as(
            "SELECT user_id AS payer, amount_stars AS amount, status, expires_at,
                    CAST(NULL AS TEXT) AS product_status, FALSE AS owned, FALSE AS has_code
             FROM tips WHERE public_id = $1",
        )
        .bind(payload.as_str())
        .fetch_optional(pool)
        .await),
    };
    let offer = offer.map_err(|err| {
        tracing::error!(error = %err, "pre-checkout lookup failed; declining");
        Decline::Unavailable
    })?;
    let offer = offer.ok_or(Decline::UnknownOrder)?;
    match offer.status.as_str() {
        "pending" if offer.expires_at > now => {}
        "paid" | "refunded" => return Err(Decline::AlreadyPaid),
        _ => return Err(Decline::Expired),
    }
    if payer != offer.payer {
        return Err(Decline::OtherPayer);
    }
    if amount != offer.amount {
        return Err(Decline::PriceChanged);
    }
    if offer
        .product_status
        .as_deref()
        .is_some_and(|s| s != "published")
    {
        return Err(Decline::NotOnSale);
    }
    if offer.owned {
        return Err(Decline::AlreadyOwned);
    }
    if offer.has_code {
        discounts::check_pre_checkout(db, payload.as_str(), now).await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SubjectRow {
    id: i64,
    payer: i64,
    amount: i64,
    status: String,
    monthly: bool,
    bundle: bool,
    gift: bool,
    membership_id: Option<i64>,
    membership_ended: bool,
}

/// The kinds' reads and writes inside the ledger's write transaction. Implemented once per
/// database's transaction type from the same bodies (as `discounts::CodeUses` is).
pub(crate) trait SubjectStore: Sized {
    /// The subject `payload` names, if any.
    async fn load_subject(&mut self, payload: &Payload) -> Result<Option<Subject>, sqlx::Error>;
    /// Grants what `facts`' charge paid for.
    async fn grant(
        &mut self,
        subject: &Subject,
        facts: &PaymentFacts,
        grant: Grant,
        now: i64,
    ) -> Result<(), PaymentError>;
    /// Gives `user_id` what order `order_id` pays for: product `product_id` (until
    /// `access_until`, for a membership) and, for a bundle, each part not already theirs through
    /// another order; queues the delivery and recounts the ratings it makes count. The grant of
    /// a purchase's first charge, and of a gift's claim.
    async fn grant_order(
        &mut self,
        user_id: i64,
        order_id: i64,
        product_id: i64,
        access_until: Option<i64>,
        now: i64,
    ) -> Result<(), sqlx::Error>;
    /// Takes back what the refunded charge `charge_id` granted.
    async fn revoke(
        &mut self,
        subject: &Subject,
        charge_id: &str,
        now: i64,
    ) -> Result<(), sqlx::Error>;
    /// A refund heard before its charge: the open subject is settled as paid and refunded, so
    /// the late charge finds it known and grants nothing.
    async fn settle_unpaid(
        &mut self,
        subject: &Subject,
        charge_id: &str,
        now: i64,
    ) -> Result<(), sqlx::Error>;
}

macro_rules! subject_store_for {
    ($database:ty) => {
        impl SubjectStore for Transaction<'_, $database> {
            async fn load_subject(
                &mut self,
                payload: &Payload,
            ) -> Result<Option<Subject>, sqlx::Error> {
                let sql = match payload.kind {
                    PayloadKind::Order => {
                        "SELECT o.id, o.user_id AS payer, o.amount_stars AS amount, o.status,
                                p.billing = 'monthly' AS monthly,
                                EXISTS (SELECT 1 FROM bundle_items bi
                                        WHERE bi.bundle_id = o.product_id) AS bundle,
                                o.gift,
                                m.id AS membership_id,
                                m.ended_at IS NOT NULL AS membership_ended
                         FROM orders o JOIN products p ON p.id = o.product_id
                         LEFT JOIN memberships m ON m.order_id = o.id
                         WHERE o.public_id = $1"
                    }
                    PayloadKind::Tip => {
                        "SELECT id, user_id AS payer, amount_stars AS amount, status,
                                FALSE AS monthly, FALSE AS bundle, FALSE AS gift,
                                CAST(NULL AS BIGINT) AS membership_id,
                                FALSE AS membership_ended
                         FROM tips WHERE public_id = $1"
                    }
                };
                let row: Option<SubjectRow> = sqlx::query_as(sql)
                    .bind(payload.as_str())
                    .fetch_optional(&mut **self)
                    .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let membership = match row.membership_id {
                    Some(id) => Some(MembershipRow {
                        id,
                        ended: row.membership_ended,
                        charge_ends: sqlx::query_scalar(
                            "SELECT expires_at FROM membership_charges WHERE membership_id = $1",
                        )
                        .bind(id)
                        .fetch_all(&mut **self)
                        .await?,
                    }),
                    None => None,
                };
                let kind = match payload.kind {
                    PayloadKind::Tip => Kind::Tip,
                    // Orders refuse to make a gift of a membership.
                    PayloadKind::Order if row.gift => Kind::Gift,
                    PayloadKind::Order if row.monthly || membership.is_some() => Kind::Membership,
                    PayloadKind::Order if row.bundle => Kind::Bundle,
                    PayloadKind::Order => Kind::Purchase,
                };
                Ok(Some(Subject {
                    kind,
                    id: row.id,
                    payer: row.payer,
                    amount: row.amount,
                    standing: Standing::of(&row.status),
                    membership,
                }))
            }

            async fn grant(
                &mut self,
                subject: &Subject,
                facts: &PaymentFacts,
                grant: Grant,
                now: i64,
            ) -> Result<(), PaymentError> {
                let tx = self;
                match (subject.kind, grant) {
                    (Kind::Tip, _) => {
                        sqlx::query(
                            "UPDATE tips SET status = 'paid', telegram_payment_charge_id = $1,
                                 paid_at = $2
                             WHERE id = $3",
                        )
                        .bind(&facts.charge_id)
                        .bind(now)
                        .bind(subject.id)
                        .execute(&mut **tx)
                        .await?;
                    }
                    (
                        Kind::Purchase | Kind::Membership | Kind::Bundle | Kind::Gift,
                        Grant::First,
                    ) => {
                        // The charge may pay an order that expired after its pre-checkout said
                        // ok: its discount code's use is taken again.
                        discounts::retake_if_released(tx, subject.id).await?;
                        let product_id: i64 = sqlx::query_scalar(
                            "UPDATE orders SET status = 'paid', telegram_payment_charge_id = $1,
                                 paid_at = $2
                             WHERE id = $3 RETURNING product_id",
                        )
                        .bind(&facts.charge_id)
                        .bind(now)
                        .bind(subject.id)
                        .fetch_one(&mut **tx)
                        .await?;
                        // The order's one license key (UNIQUE order_id; the ledger grants a
                        // charge once). A membership gets its key with its first charge and
                        // keeps it through renewals: verification reads the period. A gift's
                        // key waits in the order for the friend's library.
                        crate::licenses::keys::issue(tx, subject.id, product_id, now).await?;
                        if subject.kind == Kind::Gift {
                            // Paid, and claimable by whoever the payer hands the link to.
                            sqlx::query(
                                "INSERT INTO gifts (order_id, code, created_at) VALUES ($1, $2, $3)",
                            )
                            .bind(subject.id)
                            .bind(new_gift_code())
                            .bind(now)
                            .execute(&mut **tx)
                            .await?;
                            return Ok(());
                        }
                        let access_until = match subject.kind {
                            Kind::Membership => facts.subscription_expires_at,
                            _ => None,
                        };
                        tx.grant_order(subject.payer, subject.id, product_id, access_until, now)
                            .await?;
                        if let (Kind::Membership, Some(expires_at)) = (subject.kind, access_until) {
                            let membership: i64 = sqlx::query_scalar(
                                "INSERT INTO memberships
                                   (user_id, product_id, order_id, subscription_charge_id,
                                    amount_stars, started_at, expires_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                            )
                            .bind(subject.payer)
                            .bind(product_id)
                            .bind(subject.id)
                            .bind(&facts.charge_id)
                            .bind(facts.total_amount)
                            .bind(now)
                            .bind(expires_at)
                            .fetch_one(&mut **tx)
                            .await?;
                            insert_membership_charge(tx, membership, facts, expires_at, now)
                                .await?;
                        }
                    }
                    (_, Grant::Renewal(membership)) => {
                        let Some(expires_at) = facts.subscription_expires_at else {
                            return Err(PaymentError::Corrupt("a renewal without a period".into()));
                        };
                        // Access moves to the new end, never backwards (updates may be
                        // reordered). A charge for a period that began after the renewal was
                        // turned off shows the buyer turned it back on in Telegram: the
                        // membership renews again.
                        sqlx::query(
                            "UPDATE memberships
                             SET expires_at = CASE WHEN expires_at < $1 THEN $1 ELSE expires_at END,
                                 canceled_at = CASE WHEN canceled_at <= $1 - $3 THEN NULL
                                                    ELSE canceled_at END,
                                 renewal_allowed_at = CASE WHEN canceled_at <= $1 - $3 THEN NULL
                                                           ELSE renewal_allowed_at END
                             WHERE id = $2",
                        )
                        .bind(expires_at)
                        .bind(membership)
                        .bind(super::memberships::PERIOD_SECS)
                        .execute(&mut **tx)
                        .await?;
                        sqlx::query(
                            "UPDATE entitlements
                             SET expires_at = CASE WHEN expires_at < $1 THEN $1 ELSE expires_at END
                             WHERE order_id = $2 AND revoked_at IS NULL AND expires_at IS NOT NULL",
                        )
                        .bind(expires_at)
                        .bind(subject.id)
                        .execute(&mut **tx)
                        .await?;
                        insert_membership_charge(tx, membership, facts, expires_at, now).await?;
                    }
                }
                Ok(())
            }

            async fn grant_order(
                &mut self,
                user_id: i64,
                order_id: i64,
                product_id: i64,
                access_until: Option<i64>,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                let tx = self;
                sqlx::query(
                    "INSERT INTO entitlements
                       (user_id, product_id, granted_at, order_id, expires_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (user_id, product_id) DO UPDATE
                       SET revoked_at = NULL, granted_at = excluded.granted_at,
                           order_id = excluded.order_id,
                           expires_at = excluded.expires_at",
                )
                .bind(user_id)
                .bind(product_id)
                .bind(now)
                .bind(order_id)
                .bind(access_until)
                .execute(&mut **tx)
                .await?;
                // A bundle's parts too, with this order as the grant's source. A part the user
                // holds through another order stays that order's: a refund of either takes back
                // only what it still grants (`revoke`).
                sqlx::query(
                    "INSERT INTO entitlements
                       (user_id, product_id, granted_at, order_id, expires_at)
                     SELECT $1, bi.product_id, $2, $3, NULL FROM bundle_items bi
                     WHERE bi.bundle_id = $4
                     ON CONFLICT (user_id, product_id) DO UPDATE
                       SET revoked_at = NULL, granted_at = excluded.granted_at,
                           order_id = excluded.order_id, expires_at = NULL
                       WHERE entitlements.revoked_at IS NOT NULL
                          OR entitlements.expires_at <= excluded.granted_at",
                )
                .bind(user_id)
                .bind(now)
                .bind(order_id)
                .bind(product_id)
                .execute(&mut **tx)
                .await?;
                let mut granted: Vec<i64> =
                    sqlx::query_scalar("SELECT product_id FROM bundle_items WHERE bundle_id = $1")
                        .bind(product_id)
                        .fetch_all(&mut **tx)
                        .await?;
                granted.push(product_id);
                sqlx::query(
                    "INSERT INTO deliveries (order_id, next_attempt_at) VALUES ($1, $2)
                     ON CONFLICT (order_id) DO NOTHING",
                )
                .bind(order_id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                // A user whose earlier purchase was refunded pays again (or is given it): their
                // review counts again.
                for product_id in granted {
                    for sql in [crate::ratings::RECOUNT, crate::ratings::RESCORE] {
                        sqlx::query(sql)
                            .bind(product_id)
                            .execute(&mut **tx)
                            .await?;
                    }
                }
                Ok(())
            }

            async fn revoke(
                &mut self,
                subject: &Subject,
                charge_id: &str,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                let tx = self;
                if subject.kind == Kind::Tip {
                    sqlx::query(
                        "UPDATE tips SET status = 'refunded', refunded_at = $1
                         WHERE id = $2 AND status = 'paid'",
                    )
                    .bind(now)
                    .bind(subject.id)
                    .execute(&mut **tx)
                    .await?;
                    return Ok(());
                }
                if let Some(membership) = &subject.membership {
                    // Any charge of a membership refunded ends it.
                    sqlx::query(
                        "UPDATE membership_charges SET refunded_at = $1
                         WHERE telegram_payment_charge_id = $2 AND refunded_at IS NULL",
                    )
                    .bind(now)
                    .bind(charge_id)
                    .execute(&mut **tx)
                    .await?;
                    sqlx::query(
                        "UPDATE memberships SET ended_at = COALESCE(ended_at, $1) WHERE id = $2",
                    )
                    .bind(now)
                    .bind(membership.id)
                    .execute(&mut **tx)
                    .await?;
                }
                let refunded: Option<i64> = sqlx::query_scalar(
                    "UPDATE orders SET status = 'refunded', refunded_at = $1
                     WHERE id = $2 AND status = 'paid' RETURNING product_id",
                )
                .bind(now)
                .bind(subject.id)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(ordered) = refunded else {
                    return Ok(());
                };
                // A gift nobody claimed yet can no longer be; a claimed one's grant is the
                // friend's entitlement, taken back below like any other.
                sqlx::query(
                    "UPDATE gifts SET cancelled_at = $1
                     WHERE order_id = $2 AND claimed_by IS NULL AND cancelled_at IS NULL",
                )
                .bind(now)
                .bind(subject.id)
                .execute(&mut **tx)
                .await?;
                // What this order still grants: its product, and a bundle's parts it granted, to
                // its payer or to the friend who claimed it as a gift. Access stays where another
                // paid one-time order grants the same user the product (itself, or a bundle
                // holding it; bought, or claimed): the grant is handed to that order.
                // Otherwise it is revoked; a later order may have granted it again meanwhile,
                // and then it is that order's and not touched here.
                let granted: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT user_id, product_id FROM entitlements
                     WHERE order_id = $1 AND revoked_at IS NULL",
                )
                .bind(subject.id)
                .fetch_all(&mut **tx)
                .await?;
                for (user_id, product_id) in &granted {
                    let other: Option<i64> = sqlx::query_scalar(concat!(
                        "SELECT o.id FROM orders o WHERE ",
                        crate::grants::order_grants_to!("$1"),
                        " AND o.status = 'paid' AND o.id <> $3
                           AND (o.product_id = $2
                                OR EXISTS (SELECT 1 FROM bundle_items bi
                                           WHERE bi.bundle_id = o.product_id
                                             AND bi.product_id = $2))
                           AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.order_id = o.id)
                         ORDER BY o.id DESC LIMIT 1"
                    ))
                    .bind(user_id)
                    .bind(product_id)
                    .bind(subject.id)
                    .fetch_optional(&mut **tx)
                    .await?;
                    match other {
                        Some(other) => {
                            sqlx::query(
                                "UPDATE entitlements SET order_id = $1, expires_at = NULL
                                 WHERE user_id = $2 AND product_id = $3 AND order_id = $4
                                   AND revoked_at IS NULL",
                            )
                            .bind(other)
                            .bind(user_id)
                            .bind(product_id)
                            .bind(subject.id)
                            .execute(&mut **tx)
                            .await?;
                        }
                        None => {
                            sqlx::query(
                                "UPDATE entitlements SET revoked_at = $1
                                 WHERE user_id = $2 AND product_id = $3 AND order_id = $4
                                   AND revoked_at IS NULL",
                            )
                            .bind(now)
                            .bind(user_id)
                            .bind(product_id)
                            .bind(subject.id)
                            .execute(&mut **tx)
                            .await?;
                        }
                    }
                }
                sqlx::query(
                    "UPDATE deliveries SET status = 'cancelled', locked_until = NULL,
                         claim_token = NULL
                     WHERE order_id = $1 AND status IN ('pending', 'failed')",
                )
                .bind(subject.id)
                .execute(&mut **tx)
                .await?;
                // A refunded buyer's review counts for nothing from now on (the product and a
                // bundle's parts, whatever this order still granted).
                let mut recount: Vec<i64> = sqlx::query_scalar(
                    "SELECT product_id FROM bundle_items WHERE bundle_id = $1",
                )
                .bind(ordered)
                .fetch_all(&mut **tx)
                .await?;
                recount.push(ordered);
                for product_id in &recount {
                    for sql in [crate::ratings::RECOUNT, crate::ratings::RESCORE] {
                        sqlx::query(sql)
                            .bind(product_id)
                            .execute(&mut **tx)
                            .await?;
                    }
                }
                // And the order's license key no longer verifies.
                crate::licenses::keys::disable(tx, subject.id, now).await?;
                Ok(())
            }

            async fn settle_unpaid(
                &mut self,
                subject: &Subject,
                charge_id: &str,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                let tx = self;
                if subject.kind == Kind::Tip {
                    sqlx::query(
                        "UPDATE tips SET status = 'refunded', telegram_payment_charge_id = $1,
                             paid_at = $2, refunded_at = $2
                         WHERE id = $3 AND status IN ('pending', 'expired')",
                    )
                    .bind(charge_id)
                    .bind(now)
                    .bind(subject.id)
                    .execute(&mut **tx)
                    .await?;
                    return Ok(());
                }
                discounts::retake_if_released(tx, subject.id).await?;
                sqlx::query(
                    "UPDATE orders SET status = 'refunded', telegram_payment_charge_id = $1,
                         paid_at = $2, refunded_at = $2
                     WHERE id = $3 AND status IN ('pending', 'expired', 'cancelled')",
                )
                .bind(charge_id)
                .bind(now)
                .bind(subject.id)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }

        impl MembershipCharges for Transaction<'_, $database> {
            async fn insert_charge(
                tx: &mut Self,
                membership: i64,
                facts: &PaymentFacts,
                expires_at: i64,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(
                    "INSERT INTO membership_charges
                       (membership_id, telegram_payment_charge_id, amount_stars, paid_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(membership)
                .bind(&facts.charge_id)
                .bind(facts.total_amount)
                .bind(now)
                .bind(expires_at)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        }
    };
}

/// A membership's record of each period paid (what its renewals are told apart by).
pub(crate) trait MembershipCharges: Sized {
    async fn insert_charge(
        tx: &mut Self,
        membership: i64,
        facts: &PaymentFacts,
        expires_at: i64,
        now: i64,
    ) -> Result<(), sqlx::Error>;
}

async fn insert_membership_charge<T: MembershipCharges>(
    tx: &mut T,
    membership: i64,
    facts: &PaymentFacts,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    T::insert_charge(tx, membership, facts, expires_at, now).await
}

subject_store_for!(sqlx::Sqlite);
subject_store_for!(sqlx::Postgres);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_random_and_fit_a_start_parameter() {
        let a = new_gift_code();
        assert_ne!(a, new_gift_code());
        assert!(app::webapp::is_gift_code(&a));
        assert!(format!("g_{a}").len() <= 64);
    }

    #[test]
    fn invoice_texts_are_cut_by_characters() {
        assert_eq!(
            truncate_chars(&"é".repeat(40), TITLE_MAX).chars().count(),
            32
        );
        assert_eq!(truncate_chars("  short  ", TITLE_MAX), "short");
    }
}
