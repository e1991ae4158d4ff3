//! The studio's reach over HTTP (`/api/studio/links`, `/api/studio/channels`,
//! `/api/studio/affiliates`); the rules are in `promotion`.

use super::caller::Studio;
use crate::error::ApiError;
use crate::promotion::{self, PromotionError};
use crate::state::{AppState, TelegramState};
use app::studio::types::{
    AffiliateSales, Channel, ChannelInput, ChannelPostInput, PromoLink, PromoLinkInput,
};
use app::text;
use app::texts::request_locale;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use clock::unix_now;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/studio/links", get(list_links).post(create_link))
        .route(
            "/api/studio/channels",
            get(list_channels).post(link_channel),
        )
        .route("/api/studio/channels/{id}/posts", post(post_to_channel))
        .route("/api/studio/affiliates", get(affiliates))
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Links and posts go through the bot: without one there is nothing to link to.
fn telegram(state: &AppState) -> Result<&TelegramState, ApiError> {
    state
        .telegram
        .as_ref()
        .ok_or_else(|| PromotionError::Refused(text!(errors.no_sharing)).into())
}

async fn list_links(
    State(state): State<AppState>,
    Studio(caller): Studio,
) -> ApiResult<Vec<PromoLink>> {
    let telegram = telegram(&state)?;
    Ok(Json(
        promotion::links(&state.db, &telegram.links, caller).await?,
    ))
}

async fn create_link(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Json(input): Json<PromoLinkInput>,
) -> ApiResult<PromoLink> {
    let telegram = telegram(&state)?;
    Ok(Json(
        promotion::create_link(&state.db, &telegram.links, caller, &input, unix_now()).await?,
    ))
}

async fn list_channels(
    State(state): State<AppState>,
    Studio(caller): Studio,
) -> ApiResult<Vec<Channel>> {
    Ok(Json(promotion::channels(&state.db, caller).await?))
}

async fn link_channel(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Json(input): Json<ChannelInput>,
) -> ApiResult<Channel> {
    let telegram = telegram(&state)?;
    Ok(Json(
        promotion::link_channel(&state.db, &telegram.bot, caller, &input.chat, unix_now()).await?,
    ))
}

async fn post_to_channel(
    State(state): State<AppState>,
    Studio(caller): Studio,
    Path(channel_id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<ChannelPostInput>,
) -> ApiResult<PromoLink> {
    let telegram = telegram(&state)?;
    // The post speaks the language the creator uses the studio in.
    let locale = request_locale(&headers, None);
    Ok(Json(
        promotion::post_to_channel(
            &state.db,
            &telegram.bot,
            &telegram.links,
            caller,
            channel_id,
            input.product_id,
            locale,
            unix_now(),
        )
        .await?,
    ))
}

async fn affiliates(
    State(state): State<AppState>,
    Studio(caller): Studio,
) -> ApiResult<Vec<AffiliateSales>> {
    Ok(Json(promotion::affiliates(&state.db, caller).await?))
}
