//! The Bot API emulator on its own, for clients other than the shop (or a shop in another
//! process): `BIND=127.0.0.1:8081 BOT_TOKEN=… telegram-emulator`, then point the client at
//! `http://127.0.0.1:8081` and drive payments through `/control/…`. `WEBHOOK_CONNECTIONS` (1 to
//! 100, default 1: strictly in order) is how many webhook deliveries run at once.

use std::net::SocketAddr;
use std::process::ExitCode;
use telegram_emulator::{Emulator, EmulatorConfig, DEV_BOT_TOKEN};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let Ok(bind) = bind.parse::<SocketAddr>() else {
        eprintln!("telegram-emulator: BIND={bind:?} is invalid: expected host:port");
        return ExitCode::from(2);
    };
    let token = std::env::var("BOT_TOKEN").unwrap_or_else(|_| DEV_BOT_TOKEN.into());
    let mut config = EmulatorConfig::new(token);
    // Telegram delivers a webhook over up to 40 connections at once; 1 keeps updates in order.
    if let Ok(value) = std::env::var("WEBHOOK_CONNECTIONS") {
        match value.trim().parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => config.webhook_connections = n,
            _ => {
                eprintln!("telegram-emulator: WEBHOOK_CONNECTIONS={value:?} is invalid: expected 1 to 100");
                return ExitCode::from(2);
            }
        }
    }
    let emulator = Emulator::new(config);
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("telegram-emulator: cannot listen on {bind}: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("Telegram Bot API emulator at http://{bind}/ (control API under /control)");
    match axum::serve(listener, emulator.router()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("telegram-emulator: {err}");
            ExitCode::FAILURE
        }
    }
}
