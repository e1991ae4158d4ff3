//! The studio's side of reviews over HTTP (`/api/studio/reviews`): the list, the one reply,
//! hiding; a change answers with the list as it is now. Buyers write theirs through the `Shop` port; the rules are in `reviews`.

use super::caller::Studio;
use crate::error::ApiError;
use crate::reviews;
use crate::state::AppState;
use app::studio::types::{ReviewHiddenInput, ReviewReplyInput, StudioReview};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use clock::unix_now;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/studio/reviews", get(list))
        .route("/api/studio/reviews/{id}/reply", post(reply))
        .route("/api/studio/reviews/{id}/hidden", post(set_hidden))
}

async fn list(
    State(state): State<AppState>,
    Studio(caller): Studio,
) -> Result<Json<Vec<StudioReview>>, ApiError> {
    Ok(Json(reviews::for_studio(&state.db, caller).await?))
}

async fn reply(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Json(input): Json<ReviewReplyInput>,
) -> Result<Json<Vec<StudioReview>>, ApiError> {
    reviews::reply(&state.db, caller, id, &input.text, unix_now()).await?;
    list(State(state), Studio(caller)).await
}

async fn set_hidden(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(id): Path<i64>,
    Json(input): Json<ReviewHiddenInput>,
) -> Result<Json<Vec<StudioReview>>, ApiError> {
    reviews::set_hidden(&state.db, caller, id, input.hidden, unix_now()).await?;
    list(State(state), Studio(caller)).await
}
