//! Who is calling: the Mini App sends its raw `initData` as `Authorization: tma <initData>`.

use crate::db::Db;
use crate::error::ApiError;
use crate::telegram::init_data::{InitData, InitDataError, Validator};
use crate::users;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::sync::Arc;

/// Validates init data and records the user. Shared by the axum extractor and the server functions.
#[derive(Clone, Debug)]
pub struct Authenticator {
    validator: Arc<Validator>,
    db: Db,
}

impl Authenticator {
    pub fn new(validator: Validator, db: Db) -> Self {
        Self {
            validator: Arc::new(validator),
            db,
        }
    }

    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<InitData, ApiError> {
        let raw = tma_init_data(headers)?;
        let data = self.validator.validate(raw, unix_now())?;
        users::upsert(&self.db, &data.user).await?;
        Ok(data)
    }
}

/// The raw init data from `Authorization: tma <initData>`.
fn tma_init_data(headers: &HeaderMap) -> Result<&str, InitDataError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or(InitDataError::Missing)?
        .to_str()
        .map_err(|_| InitDataError::Malformed("the Authorization header is not text"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("tma") {
        return Err(InitDataError::Malformed(
            "expected the `tma` authorization scheme",
        ));
    }
    Ok(rest.trim())
}

/// A 32-byte key for one `purpose`, derived from the bot token, so that every replica holding
/// the token agrees on it without further configuration.
pub fn derive_key(bot_token: &str, purpose: &str) -> [u8; 32] {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(bot_token.as_bytes())
        .expect("HMAC takes any key");
    mac.update(b"starfront ");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

pub use clock::unix_now;

/// An authenticated Mini App user, as an axum extractor.
#[derive(Clone, Debug)]
pub struct AuthUser(pub InitData);

impl<S> FromRequestParts<S> for AuthUser
where
    Authenticator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Authenticator::from_ref(state)
            .authenticate(&parts.headers)
            .await
            .map(AuthUser)
    }
}

impl From<crate::telegram::init_data::WebAppUser> for app::api::Viewer {
    fn from(user: crate::telegram::init_data::WebAppUser) -> Self {
        Self {
            id: user.id,
            first_name: user.first_name,
            last_name: user.last_name,
            username: user.username,
            language_code: user.language_code,
            is_premium: user.is_premium,
        }
    }
}
