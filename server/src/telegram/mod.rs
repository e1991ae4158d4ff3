//! Everything that talks to Telegram: Mini App authentication, the Bot API client, updates, bot
//! commands, and the emulator of Telegram's side used by the dev preview and the tests.

pub mod bot;
mod commands;
pub mod dispatch;
pub mod emulator;
pub mod init_data;
pub mod texts;
pub mod updates;
