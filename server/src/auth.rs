//! Who is calling: the Mini App sends its raw `initData` as `Authorization: tma <initData>`.

use crate::db::Db;
use crate::error::ApiError;
use crate::telegram::init_data::{InitData, InitDataError, Validator, MAX_INIT_DATA_BYTES};
use crate::users;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use clock::unix_now;
use std::sync::Arc;
use std::time::Duration;

/// Why a request is not signed in.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    InitData(#[from] InitDataError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

/// Validates init data and records the user. Shared by the axum extractor and the server functions.
#[derive(Clone, Debug)]
pub struct Authenticator {
    validator: Arc<Validator>,
    db: Db,
    /// The stricter age for requests that move money or change the catalog.
    sensitive_max_age: Option<Duration>,
}

impl Authenticator {
    pub fn new(validator: Validator, db: Db) -> Self {
        Self {
            validator: Arc::new(validator),
            db,
            sensitive_max_age: None,
        }
    }

    /// Init data older than `max_age` is refused for refunds and studio writes
    /// (`INIT_DATA_SENSITIVE_MAX_AGE_SECS`), however long it stays valid for browsing.
    pub fn with_sensitive_max_age(mut self, max_age: Option<Duration>) -> Self {
        self.sensitive_max_age = max_age;
        self
    }

    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<InitData, AuthError> {
        self.authenticate_within(headers, None).await
    }

    /// For refunds and studio writes: the stricter age applies.
    pub async fn authenticate_sensitive(&self, headers: &HeaderMap) -> Result<InitData, AuthError> {
        self.authenticate_within(headers, self.sensitive_max_age)
            .await
    }

    /// The user a request's init data names, if it is valid; nothing is recorded (rate limits
    /// key on it before the handler authenticates).
    pub fn verified_user_id(&self, headers: &HeaderMap) -> Option<i64> {
        let raw = tma_init_data(headers).ok()?;
        self.validator
            .validate(raw, unix_now())
            .ok()
            .map(|data| data.user.id)
    }

    async fn authenticate_within(
        &self,
        headers: &HeaderMap,
        max_age: Option<Duration>,
    ) -> Result<InitData, AuthError> {
        let raw = tma_init_data(headers)?;
        let data = self.validator.validate_within(raw, unix_now(), max_age)?;
        users::upsert(&self.db, &data.user).await?;
        Ok(data)
    }
}

/// Requests that refund or change the studio's catalog: a leaked init data string should not
/// do these for a day.
fn is_sensitive(method: &Method, path: &str) -> bool {
    let writes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    writes && (path.starts_with("/api/studio/") || path.ends_with("/refund"))
}

/// The raw init data from `Authorization: tma <initData>`. An oversized header is refused by its
/// length alone, before a byte of it is read.
fn tma_init_data(headers: &HeaderMap) -> Result<&str, InitDataError> {
    let value = headers.get(AUTHORIZATION).ok_or(InitDataError::Missing)?;
    // "tma " and some spaces around the data.
    if value.len() > MAX_INIT_DATA_BYTES + 16 {
        return Err(InitDataError::TooLong);
    }
    let value = value
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
        let auth = Authenticator::from_ref(state);
        let data = if is_sensitive(&parts.method, parts.uri.path()) {
            auth.authenticate_sensitive(&parts.headers).await
        } else {
            auth.authenticate(&parts.headers).await
        };
        let data = data.map_err(ApiError::from)?;
        crate::language::learn_user(&parts.headers, data.user.language_code.as_deref());
        Ok(AuthUser(data))
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
