//! Who may use the studio. Creators are rows in `creators`; admins are `ADMIN_IDS` (never the
//! database, so nobody can write themselves into being one). Every studio request resolves its
//! caller here before anything else.

use super::StudioError;
use crate::db::Db;
use app::studio::types::Role;
use app::text;

/// The authenticated caller with their role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: i64,
    pub role: Role,
}

impl Caller {
    pub fn is_admin(self) -> bool {
        self.role == Role::Admin
    }

    /// Creators and admins may use the studio; everyone else is refused.
    pub fn require_studio(self) -> Result<Self, StudioError> {
        match self.role {
            Role::Admin | Role::Creator => Ok(self),
            Role::Member => Err(StudioError::Forbidden(text!(studio_errors.not_a_creator))),
        }
    }

    pub fn require_admin(self) -> Result<Self, StudioError> {
        if self.is_admin() {
            Ok(self)
        } else {
            Err(StudioError::Forbidden(text!(studio_errors.admins_only)))
        }
    }

    /// Whether the caller may manage something `creator_id` owns.
    pub fn require_owner(self, creator_id: i64) -> Result<(), StudioError> {
        if self.is_admin() || self.user_id == creator_id {
            Ok(())
        } else {
            Err(StudioError::Forbidden(text!(studio_errors.not_yours)))
        }
    }
}

pub async fn resolve(db: &Db, admin_ids: &[i64], user_id: i64) -> Result<Caller, StudioError> {
    let role = if admin_ids.contains(&user_id) {
        Role::Admin
    } else if is_creator(db, user_id).await? {
        Role::Creator
    } else {
        Role::Member
    };
    Ok(Caller { user_id, role })
}

pub async fn is_creator(db: &Db, user_id: i64) -> Result<bool, sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM creators WHERE user_id = $1)"
    )
    .bind(user_id)
    .fetch_one(pool)
    .await)
}

pub async fn display_name(db: &Db, user_id: i64) -> Result<Option<String>, sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT display_name FROM creators WHERE user_id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await)
}

/// Makes a known user a creator, named after their Telegram name. Granting twice changes nothing.
/// False when the shop has never seen the user (they must open the bot or the Mini App first).
pub async fn grant_creator(db: &Db, user_id: i64) -> Result<bool, sqlx::Error> {
    let done = crate::on_db!(db, |pool| sqlx::query(
        "INSERT INTO creators (user_id, display_name)
         SELECT id, trim(first_name || ' ' || coalesce(last_name, '')) FROM users WHERE id = $1
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(done.rows_affected() > 0 || is_creator(db, user_id).await?)
}

/// A new one-time invite token.
pub async fn create_invite(db: &Db, admin_id: i64) -> Result<String, sqlx::Error> {
    let token = crate::payments::payload::new_public_id();
    crate::on_db!(db, |pool| sqlx::query(
        "INSERT INTO creator_invites (token, created_by) VALUES ($1, $2)"
    )
    .bind(&token)
    .bind(admin_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(token)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redeemed {
    /// The user is a creator now.
    Granted,
    /// The user was a creator already; the invite stays unused for someone else.
    AlreadyCreator,
    /// Unknown or used by someone else.
    Invalid,
}

/// Redeems an invite for a user the shop knows, in one transaction so a token works once.
pub async fn redeem_invite(db: &Db, token: &str, user_id: i64) -> Result<Redeemed, sqlx::Error> {
    if is_creator(db, user_id).await? {
        return Ok(Redeemed::AlreadyCreator);
    }
    crate::on_db!(db, |pool| {
        let mut tx = crate::db::BeginWrite::begin_write(pool).await?;
        let claimed = sqlx::query(
            "UPDATE creator_invites SET used_by = $1, used_at = unixepoch()
         WHERE token = $2 AND used_by IS NULL",
        )
        .bind(user_id)
        .bind(token)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(Redeemed::Invalid);
        }
        sqlx::query(
            "INSERT INTO creators (user_id, display_name)
         SELECT id, trim(first_name || ' ' || coalesce(last_name, '')) FROM users WHERE id = $1
         ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Redeemed::Granted)
    })
}
