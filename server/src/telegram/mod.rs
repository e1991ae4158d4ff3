//! Everything that talks to Telegram: Mini App authentication, the Bot API client, updates, bot
//! commands, inline mode, sharing, and the links and buttons into the Mini App. (Telegram's side for the
//! dev preview and the tests is the `telegram-emulator` crate.)

pub mod bot;
mod commands;
pub mod dispatch;
pub mod init_data;
pub(crate) mod inline;
pub mod links;
mod route;
pub mod share;
pub mod updates;
