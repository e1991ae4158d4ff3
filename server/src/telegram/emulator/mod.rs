//! An emulator of the Telegram Bot API (dev preview and tests).
