//! Gifts: an order paid for somebody else. The ledger records its payment like any purchase's
//! and makes the gift (`payable::Kind::Gift`), which grants nothing yet; whoever holds the gift's
//! link claims it once, and the order then grants them what a purchase would, through the same
//! [`SubjectStore::grant_order`]. A refund before the claim cancels the gift, after it revokes the
//! friend's access (`payable`'s revoke, which follows the order's entitlements to whoever holds
//! them).

use app::api::GiftState;

use super::payable::{SubjectStore, OWNS};
use super::PaymentError;
use crate::db::Db;

/// Why a gift link cannot be claimed by this user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiftRefusal {
    /// No gift has this code.
    NotFound,
    /// Somebody claimed it first.
    Claimed,
    /// Refunded before anybody claimed it.
    Cancelled,
    /// The payer opened their own gift's link: it is for somebody else.
    OwnGift,
    /// The friend owns the product already; the gift stays claimable for somebody else.
    AlreadyOwned,
}

impl From<GiftRefusal> for PaymentError {
    fn from(refusal: GiftRefusal) -> Self {
        PaymentError::Gift(refusal)
    }
}

/// A gift as its link's holder sees it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Gift {
    pub code: String,
    pub order_id: i64,
    pub payer: i64,
    pub product_id: i64,
    pub slug: String,
    pub title: String,
    pub cover_key: Option<String>,
    /// The payer's first name.
    pub from: String,
    pub claimed_by: Option<i64>,
    pub cancelled: bool,
}

impl Gift {
    /// Where the gift stands for `viewer`.
    pub fn state_for(&self, viewer: i64) -> GiftState {
        match self.claimed_by {
            Some(friend) if friend == viewer => GiftState::ClaimedByYou,
            _ if self.payer == viewer => GiftState::FromYou,
            Some(_) => GiftState::Claimed,
            None if self.cancelled => GiftState::Cancelled,
            None => GiftState::Open,
        }
    }
}

/// The gift with this code, if any.
pub async fn find(db: &Db, code: &str) -> Result<Option<Gift>, PaymentError> {
    if !app::webapp::is_gift_code(code) {
        return Ok(None);
    }
    Ok(crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT g.code, g.order_id, o.user_id AS payer, o.product_id, p.slug, p.title, p.cover_key,
                u.first_name AS \"from\", g.claimed_by, g.cancelled_at IS NOT NULL AS cancelled
         FROM gifts g
         JOIN orders o ON o.id = g.order_id
         JOIN products p ON p.id = o.product_id
         JOIN users u ON u.id = o.user_id
         WHERE g.code = $1",
    )
    .bind(code)
    .fetch_optional(pool)
    .await)?)
}

/// Claims the gift `code` for `user` at `now`: the gift becomes theirs and its order grants them
/// the product (and a bundle's parts) in the same transaction. Claiming again one's own claimed
/// gift changes nothing; every other state refuses with its reason.
pub async fn claim(db: &Db, code: &str, user: i64, now: i64) -> Result<Gift, PaymentError> {
    let gift = find(db, code).await?.ok_or(GiftRefusal::NotFound)?;
    match gift.state_for(user) {
        GiftState::Open => {}
        GiftState::ClaimedByYou => return Ok(gift),
        GiftState::Claimed => return Err(GiftRefusal::Claimed.into()),
        GiftState::Cancelled => return Err(GiftRefusal::Cancelled.into()),
        GiftState::FromYou => return Err(GiftRefusal::OwnGift.into()),
    }
    let claimed = crate::on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        // Written first, so of two friends claiming at once one wins and the other finds it
        // claimed; a refund that cancelled it meanwhile leaves it unclaimable too.
        let order: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE gifts SET claimed_by = $1, claimed_at = $2
             WHERE code = $3 AND claimed_by IS NULL AND cancelled_at IS NULL
             RETURNING order_id, (SELECT product_id FROM orders WHERE orders.id = gifts.order_id)",
        )
        .bind(user)
        .bind(now)
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((order_id, product_id)) = order else {
            return Ok::<_, PaymentError>(false);
        };
        let owned: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {OWNS}")))
            .bind(user)
            .bind(product_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        if owned {
            tx.rollback().await?;
            return Err(GiftRefusal::AlreadyOwned.into());
        }
        tx.grant_order(user, order_id, product_id, None, now)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
    .await)?;
    let gift = find(db, code).await?.ok_or(GiftRefusal::NotFound)?;
    if claimed {
        return Ok(gift);
    }
    // Lost a race: say what happened instead.
    Err(match gift.state_for(user) {
        GiftState::Cancelled => GiftRefusal::Cancelled,
        _ => GiftRefusal::Claimed,
    }
    .into())
}

/// A gift `payer` paid for, for their library.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SentGiftRow {
    pub code: String,
    pub title: String,
    /// The friend's first name once claimed.
    pub claimed_by: Option<String>,
    pub cancelled: bool,
}

/// The gifts `payer` paid for, newest first.
pub async fn sent_by(db: &Db, payer: i64) -> Result<Vec<SentGiftRow>, PaymentError> {
    Ok(crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT g.code, p.title, u.first_name AS claimed_by,
                g.cancelled_at IS NOT NULL AS cancelled
         FROM gifts g
         JOIN orders o ON o.id = g.order_id
         JOIN products p ON p.id = o.product_id
         LEFT JOIN users u ON u.id = g.claimed_by
         WHERE o.user_id = $1
         ORDER BY g.id DESC",
    )
    .bind(payer)
    .fetch_all(pool)
    .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::payable::new_gift_code;

    fn gift(payer: i64, claimed_by: Option<i64>, cancelled: bool) -> Gift {
        Gift {
            code: new_gift_code(),
            order_id: 1,
            payer,
            product_id: 2,
            slug: "s".into(),
            title: "t".into(),
            cover_key: None,
            from: "Alex".into(),
            claimed_by,
            cancelled,
        }
    }

    #[test]
    fn each_viewer_sees_where_the_gift_stands_for_them() {
        assert_eq!(gift(1, None, false).state_for(2), GiftState::Open);
        assert_eq!(gift(1, None, false).state_for(1), GiftState::FromYou);
        assert_eq!(
            gift(1, Some(2), false).state_for(2),
            GiftState::ClaimedByYou
        );
        assert_eq!(gift(1, Some(2), false).state_for(3), GiftState::Claimed);
        assert_eq!(gift(1, Some(2), false).state_for(1), GiftState::FromYou);
        assert_eq!(gift(1, None, true).state_for(2), GiftState::Cancelled);
    }
}
