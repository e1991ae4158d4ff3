//! Starfront's backend: configuration, database, catalog, storage and the HTTP router.

pub mod catalog;
pub mod config;
pub mod db;
pub mod http;
pub mod seed;
pub mod shop;
pub mod storage;
pub mod telegram;

use config::Config;
use leptos::prelude::LeptosOptions;
use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("cannot load the demo catalog")]
    Seed(#[from] seed::SeedError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server stopped with an error")]
    Serve(#[source] std::io::Error),
}

/// Everything start-up prepares: the state behind the router.
pub async fn prepare(config: &Config) -> Result<http::AppState, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let db = db::connect(&config.database_url).await?;
    let storage = storage::LocalStorage::new(config.files_dir());
    if config.seed_demo {
        let report = seed::apply(&db, &storage).await?;
        tracing::info!(added = report.products_added, "demo catalog ready");
    }
    let leptos = LeptosOptions::builder()
        .output_name(app::OUTPUT_NAME)
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.bind)
        .build();
    Ok(http::AppState::new(leptos, db, storage.public_dir()))
}

/// Runs the shop until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> Result<(), StartError> {
    let state = prepare(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    tracing::info!(%addr, dev_preview = config.dev_preview, "listening");
    println!("Starfront is running at http://{addr}/");
    axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(StartError::Serve)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
