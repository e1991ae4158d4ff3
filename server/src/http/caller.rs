//! Who may use the studio, as extractors: the signed-in caller with their role, resolved on the
//! server before a studio handler runs.

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;
use crate::studio::roles::{self, Caller};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The authenticated caller and their role; handlers decide what the role allows.
pub struct StudioCaller(pub Caller);

impl FromRequestParts<AppState> for StudioCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(data) = AuthUser::from_request_parts(parts, state).await?;
        let caller = roles::resolve(&state.db, &state.admin_ids, data.user.id).await?;
        Ok(StudioCaller(caller))
    }
}

/// A caller who may use the studio (creator or admin); everyone else gets 403 here.
pub struct Studio(pub Caller);

impl FromRequestParts<AppState> for Studio {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let StudioCaller(caller) = StudioCaller::from_request_parts(parts, state).await?;
        Ok(Studio(caller.require_studio()?))
    }
}
