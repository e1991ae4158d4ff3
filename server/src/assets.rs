//! The built front end under `/pkg/`: its content-hashed names, read once at start, and how its
//! files are served.

use app::Assets;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;

/// The manifest scripts/build.sh writes at the site's root, naming the current files.
pub const MANIFEST: &str = "assets.json";

#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a bundle manifest")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} names {name}, which is not a plain file name")]
    Name { path: String, name: String },
}

/// The current bundle's names from `<site_root>/assets.json`; without one (a server run before
/// any front-end build, as in the Rust tests) the unhashed names.
pub fn load(site_root: &Path) -> Result<Assets, AssetsError> {
    let path = site_root.join(MANIFEST);
    let shown = || path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(manifest = %shown(), "no bundle manifest: serving unhashed names");
            return Ok(Assets::default());
        }
        Err(source) => {
            return Err(AssetsError::Read {
                path: shown(),
                source,
            })
        }
    };
    let assets: Assets = serde_json::from_str(&text).map_err(|source| AssetsError::Parse {
        path: shown(),
        source,
    })?;
    // The names go into the HTML and under /pkg/ as they are.
    for name in [&assets.bundle, &assets.css] {
        let plain = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            && !name.starts_with('.');
        if !plain {
            return Err(AssetsError::Name {
                path: shown(),
                name: name.clone(),
            });
        }
    }
    Ok(assets)
}

/// `/pkg/`: the bundle's files, each under a name that changes with its content, so a browser
/// keeps them for a year and never revalidates. scripts/build.sh writes `.br` and `.gz` beside
/// each file: phones get the wasm at a third of its size and nothing is compressed per request.
/// Names of earlier builds are gone from the directory and answer 404.
pub fn router<S: Clone + Send + Sync + 'static>(pkg_dir: PathBuf) -> Router<S> {
    Router::new()
        .fallback_service(
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(middleware::from_fn(cache_for_a_year))
}

/// Only files found are immutable; a 404 must not stick in a cache (the file may appear with the
/// deploy that names it).
async fn cache_for_a_year(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let status = response.status();
    let value = if status.is_success() || status == StatusCode::NOT_MODIFIED {
        "public, max-age=31536000, immutable"
    } else {
        "no-store"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}
