//! One dispatcher for every update, whichever way it arrived. The handlers (`commands`,
//! `inline`) take it as their context and fail with its error, while the routing that calls them
//! (`route`) sits above: so the type and its error live here, below both, and a handler never
//! imports what routes to it.

use super::bot::{Bot, BotError};
use super::links::Links;
use crate::db::Db;
use crate::payments::PaymentError;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("the update cannot be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Bot(#[from] BotError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Support(#[from] crate::support::SupportError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
}

/// Handles updates through the methods in `route`; kept apart from them so that the handlers,
/// which take it, sit below the routing.
#[derive(Clone)]
pub struct Dispatcher {
    pub(super) db: Db,
    pub(super) bot: Bot,
    /// Buttons and links into the Mini App.
    pub(super) links: Links,
    /// `ADMIN_IDS`: who may use admin commands such as `/makecreator`.
    pub(super) admin_ids: std::sync::Arc<[i64]>,
    /// The shop's clock: pre-checkout judges an order's time by it.
    pub(super) clock: crate::clock::Clock,
}

impl Dispatcher {
    pub fn new(db: Db, bot: Bot, links: Links) -> Self {
        Self {
            db,
            bot,
            links,
            admin_ids: std::sync::Arc::new([]),
            clock: crate::clock::Clock::default(),
        }
    }

    /// The shop's clock (shared with the dev preview's emulator).
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_admins(mut self, admin_ids: &[i64]) -> Self {
        self.admin_ids = admin_ids.into();
        self
    }
}
