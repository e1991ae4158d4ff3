//! The support inbox's HTTP surface, `/api/studio/support/*`: the caller must be a creator or
//! an admin (the studio's extractor); the domain decides which requests they may see.

use super::caller::Studio;
use crate::error::ApiError;
use crate::state::AppState;
use crate::support;
use app::studio::types::{SupportRefundInput, SupportReplyInput, SupportRequest};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/studio/support", get(inbox))
        .route("/api/studio/support/{id}/reply", post(reply))
        .route("/api/studio/support/{id}/close", post(close))
        .route("/api/studio/support/{id}/refund", post(refund))
}

type Done = Result<Json<serde_json::Value>, ApiError>;

async fn inbox(
    State(state): State<AppState>,
    Studio(caller): Studio,
) -> Result<Json<Vec<SupportRequest>>, ApiError> {
    Ok(Json(support::inbox(&state.db, caller).await?))
}

fn bot(state: &AppState) -> Result<&crate::telegram::bot::Bot, ApiError> {
    Ok(&state.telegram.as_ref().ok_or(ApiError::not_found())?.bot)
}

async fn reply(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Json(input): Json<SupportReplyInput>,
) -> Done {
    support::reply(
        &state.db,
        bot(&state)?,
        caller,
        id,
        &input.text,
        state.clock.now(),
    )
    .await?;
    Ok(Json(serde_json::json!({ "status": "answered" })))
}

async fn close(State(state): State<AppState>, Studio(caller): Studio, Path(id): Path<i64>) -> Done {
    support::close(&state.db, caller, id, state.clock.now()).await?;
    Ok(Json(serde_json::json!({ "status": "closed" })))
}

async fn refund(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Json(input): Json<SupportRefundInput>,
) -> Done {
    support::refund(&state.db, bot(&state)?, caller, id, &input.charge_id).await?;
    Ok(Json(serde_json::json!({ "status": "refunded" })))
}
