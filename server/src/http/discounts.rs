//! The studio's discount codes and pay-what-you-want prices over HTTP
//! (`/api/studio/discounts`, `/api/studio/products/{id}/pwyw`); the rules are in
//! `studio::discounts`.

use super::caller::Studio;
use crate::error::ApiError;
use crate::state::AppState;
use crate::studio::discounts::{create, disable, list, pay_what_you_want, set_pay_what_you_want};
use crate::studio::products;
use app::deals::{DiscountCode, DiscountCodeInput, PayWhatYouWant};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use clock::unix_now;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/studio/discounts", get(list_route).post(create_route))
        .route("/api/studio/discounts/{id}/disable", post(disable_route))
        .route(
            "/api/studio/products/{id}/pwyw",
            get(pwyw_route).put(set_pwyw_route),
        )
}

async fn list_route(
    State(state): State<AppState>,
    Studio(caller): Studio,
) -> Result<Json<Vec<DiscountCode>>, ApiError> {
    Ok(Json(list(&state.db, caller).await?))
}

async fn create_route(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Json(input): Json<DiscountCodeInput>,
) -> Result<Json<DiscountCode>, ApiError> {
    Ok(Json(
        create(&state.db, caller, state.studio, &input, unix_now()).await?,
    ))
}

async fn disable_route(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
) -> Result<Json<DiscountCode>, ApiError> {
    Ok(Json(disable(&state.db, caller, id, unix_now()).await?))
}

async fn pwyw_route(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
) -> Result<Json<PayWhatYouWant>, ApiError> {
    products::owned(&state.db, caller, id).await?;
    Ok(Json(pay_what_you_want(&state.db, id).await?))
}

async fn set_pwyw_route(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Json(input): Json<PayWhatYouWant>,
) -> Result<Json<PayWhatYouWant>, ApiError> {
    Ok(Json(
        set_pay_what_you_want(&state.db, caller, id, &input).await?,
    ))
}
