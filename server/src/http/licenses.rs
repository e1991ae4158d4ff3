//! License keys over HTTP: the public check creators' software calls
//! (`GET /api/licenses/verify?product=<slug>&key=<key>`, rate-limited in `rate_limit`), and the
//! studio's side (`/api/studio/licenses`: the modes, the pools, the keys and their states). The
//! rules are in `licenses`.

use super::caller::Studio;
use crate::error::ApiError;
use crate::licenses::{self, Verification};
use crate::state::AppState;
use app::studio::types::{LicensePoolInput, LicenseSettingsInput, StudioLicenses};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(crate::rate_limit::VERIFY_PATH, get(verify))
        .route("/api/studio/licenses", get(list))
        .route("/api/studio/licenses/{product_id}", put(configure))
        .route("/api/studio/licenses/{product_id}/pool", post(add_to_pool))
}

#[derive(serde::Deserialize)]
struct VerifyQuery {
    #[serde(default)]
    product: String,
    #[serde(default)]
    key: String,
}

async fn verify(
    State(state): State<AppState>,
    Query(query): Query<VerifyQuery>,
) -> Result<Json<Verification>, ApiError> {
    let now = state.clock.now();
    Ok(Json(
        licenses::verify(&state.db, &query.product, &query.key, now).await?,
    ))
}

async fn list(
    State(state): State<AppState>,
    Studio(caller): Studio,
) -> Result<Json<Vec<StudioLicenses>>, ApiError> {
    Ok(Json(licenses::for_studio(&state.db, caller).await?))
}

async fn configure(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(product_id): Path<i64>,
    Json(input): Json<LicenseSettingsInput>,
) -> Result<Json<Vec<StudioLicenses>>, ApiError> {
    let now = state.clock.now();
    let served = licenses::configure(
        &state.db,
        caller,
        product_id,
        input.mode,
        input.format.as_deref(),
        now,
    )
    .await?;
    tell_served(&state, served);
    list(State(state), Studio(caller)).await
}

async fn add_to_pool(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(product_id): Path<i64>,
    Json(input): Json<LicensePoolInput>,
) -> Result<Json<Vec<StudioLicenses>>, ApiError> {
    let now = state.clock.now();
    let (_, served) =
        licenses::add_to_pool(&state.db, caller, product_id, &input.keys, now).await?;
    tell_served(&state, served);
    list(State(state), Studio(caller)).await
}

/// Buyers who waited for a key hear of it in the background: the studio's answer does not wait
/// on Telegram.
fn tell_served(state: &AppState, served: Vec<i64>) {
    if served.is_empty() {
        return;
    }
    if let Some(telegram) = &state.telegram {
        let (db, bot) = (state.db.clone(), telegram.bot.clone());
        tokio::spawn(async move { licenses::tell_served(&db, &bot, &served).await });
    }
}
