//! Paid files: short-lived signed URLs bound to buyer and file, checked again against the
//! entitlement on every request (so a refund stops them), served with byte ranges, and logged.

use crate::db::Db;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// The query of a download link that is to be served by the shop itself, never redirected to
/// the store's pre-signed URL: the reader's (its frame fetches from the shop's origin only).
pub const VIA_SHOP: &str = "via=shop";
/// How long a download link works; the library hands out fresh ones on every visit.
pub const LINK_TTL: Duration = Duration::from_secs(15 * 60);
/// How long the store's pre-signed URL works (S3): only the hop right after the checks needs
/// it; a resumed download comes back through the link and is checked again.
pub const STORE_URL_TTL: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DownloadError {
    #[error("this download link is not valid")]
    BadLink,
    #[error("this download link has expired; open your library again for a fresh one")]
    Expired,
    #[error("you do not own this product (any more)")]
    NotEntitled,
    #[error("database error")]
    Db(String),
}

impl From<sqlx::Error> for DownloadError {
    fn from(err: sqlx::Error) -> Self {
        DownloadError::Db(err.to_string())
    }
}

/// What a valid link grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub user_id: i64,
    pub file_id: i64,
    pub expires: i64,
}

impl Grant {
    /// A signed-in buyer asking for one of their files themselves (the reader): the same
    /// entitlement check a link gets, with no link to expire.
    pub fn signed_in(user_id: i64, file_id: i64) -> Self {
        Grant {
            user_id,
            file_id,
            expires: i64::MAX,
        }
    }
}

/// A stream token's first field: negative, so no download link (whose first field is a user id)
/// starts with it.
const STREAM_TAG: i64 = -1;

/// Signs and checks download tokens (`base64url(user.file.expires) . base64url(hmac)`) and
/// video stream tokens.
#[derive(Clone)]
pub struct Signer {
    key: Arc<[u8; 32]>,
}

impl Signer {
    /// `key` should come from `auth::derive_key`, so every replica accepts every replica's links.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key: Arc::new(key) }
    }

    /// A key of this process only (no bot token configured): links die with the process.
    pub fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the OS random number generator is unavailable");
        Self { key: Arc::new(key) }
    }

    pub fn sign(&self, user_id: i64, file_id: i64, now: i64) -> String {
        self.seal(&format!(
            "{user_id}.{file_id}.{}",
            now + LINK_TTL.as_secs() as i64
        ))
    }

    pub fn verify(&self, token: &str, now: i64) -> Result<Grant, DownloadError> {
        let fields = self.open(token)?;
        let [user_id, file_id, expires] = fields[..] else {
            return Err(DownloadError::BadLink);
        };
        if now > expires {
            return Err(DownloadError::Expired);
        }
        Ok(Grant {
            user_id,
            file_id,
            expires,
        })
    }

    /// A paid file as a buyer is offered it, in the library and as a lesson's attachment: a
    /// link signed for them, and the player or the reader when its type has one.
    pub fn offer(
        &self,
        user_id: i64,
        file_id: i64,
        name: String,
        size_bytes: i64,
        mime_type: &str,
        signed_at: i64,
    ) -> app::api::LibraryFile {
        app::api::LibraryFile {
            name,
            size_bytes: u64::try_from(size_bytes).unwrap_or(0),
            url: format!("/download/{}", self.sign(user_id, file_id, signed_at)),
            audio: crate::audio::playable(mime_type),
            read_url: crate::reading::read_url(file_id, mime_type),
        }
    }

    /// A video lesson's stream, for `user_id` (0: a visitor watching a free preview) until
    /// `expires`. Its payload starts with a tag a download link's never has, so neither kind of
    /// token passes for the other.
    pub fn sign_stream(&self, user_id: i64, lesson_id: i64, expires: i64) -> String {
        self.seal(&format!("{STREAM_TAG}.{user_id}.{lesson_id}.{expires}"))
    }

    /// `(user_id, lesson_id)` of a stream token still valid at `now`.
    pub fn verify_stream(&self, token: &str, now: i64) -> Result<(i64, i64), DownloadError> {
        let fields = self.open(token)?;
        let [STREAM_TAG, user_id, lesson_id, expires] = fields[..] else {
            return Err(DownloadError::BadLink);
        };
        if now > expires {
            return Err(DownloadError::Expired);
        }
        Ok((user_id, lesson_id))
    }

    /// `base64url(payload) . base64url(hmac(payload))`.
    fn seal(&self, payload: &str) -> String {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(self.mac(payload.as_bytes()))
        )
    }

    /// The numbers a token signed by this key carries.
    fn open(&self, token: &str) -> Result<Vec<i64>, DownloadError> {
        let (payload, tag) = token.split_once('.').ok_or(DownloadError::BadLink)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| DownloadError::BadLink)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| DownloadError::BadLink)?;
        let mut mac = HmacSha256::new_from_slice(&*self.key).expect("HMAC takes any key");
        mac.update(&payload);
        mac.verify_slice(&tag).map_err(|_| DownloadError::BadLink)?;
        let payload = String::from_utf8(payload).map_err(|_| DownloadError::BadLink)?;
        payload
            .split('.')
            .map(|field| field.parse::<i64>().map_err(|_| DownloadError::BadLink))
            .collect()
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&*self.key).expect("HMAC takes any key");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
}

/// A file the grant may fetch, after checking the entitlement is still active.
#[derive(Debug, sqlx::FromRow)]
pub struct EntitledFile {
    pub product_id: i64,
    pub file_name: String,
    pub mime_type: String,
    pub storage_key: String,
    pub version: i64,
    pub size_bytes: i64,
    pub sha256: String,
    /// The product's switch for stamped copies.
    pub stamp_copies: bool,
}

impl EntitledFile {
    /// The file as `stamping` needs it to make or find the buyer's copy.
    pub fn stamping_source(&self, file_id: i64) -> crate::stamping::SourceFile {
        crate::stamping::SourceFile {
            id: file_id,
            product_id: self.product_id,
            version: self.version,
            file_name: self.file_name.clone(),
            mime_type: self.mime_type.clone(),
            size_bytes: self.size_bytes,
            sha256: self.sha256.clone(),
            storage_key: self.storage_key.clone(),
            stamp_copies: self.stamp_copies,
        }
    }
}

/// `now` is the shop's clock: a membership's files stop at the end of its paid period.
pub async fn entitled_file(
    db: &Db,
    grant: &Grant,
    now: i64,
) -> Result<EntitledFile, DownloadError> {
    crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT f.product_id, f.file_name, f.mime_type, f.storage_key, f.version, f.size_bytes,
                f.sha256, p.stamp_copies
         FROM product_files f
         JOIN products p ON p.id = f.product_id
         JOIN entitlements e ON e.product_id = f.product_id AND e.user_id = $1 AND e.revoked_at IS NULL
              AND (e.expires_at IS NULL OR e.expires_at > $3)
         WHERE f.id = $2 AND f.role = 'content'",
    )
    .bind(grant.user_id)
    .bind(grant.file_id)
    .bind(now)
    .fetch_optional(pool)
    .await)?
    .ok_or(DownloadError::NotEntitled)
}

pub async fn log(
    db: &Db,
    grant: &Grant,
    product_id: i64,
    status: u16,
    range: Option<&str>,
    bytes: u64,
) -> Result<(), sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query(
        "INSERT INTO downloads (user_id, product_id, file_id, status, range_header, bytes)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(grant.user_id)
    .bind(product_id)
    .bind(grant.file_id)
    .bind(i64::from(status))
    .bind(range)
    .bind(bytes as i64)
    .execute(pool)
    .await
    .map(crate::db::Done::from))
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_resist_tampering() {
        let signer = Signer::new(crate::auth::derive_key("bot-token", "download links"));
        let token = signer.sign(7, 42, 1_000);
        let grant = signer.verify(&token, 1_000).unwrap();
        assert_eq!((grant.user_id, grant.file_id), (7, 42));
        assert_eq!(grant.expires, 1_000 + LINK_TTL.as_secs() as i64);

        assert_eq!(
            signer.verify(&token, grant.expires + 1),
            Err(DownloadError::Expired)
        );
        let other = Signer::new(crate::auth::derive_key("another-bot", "download links"));
        assert_eq!(other.verify(&token, 1_000), Err(DownloadError::BadLink));
        let (payload, tag) = token.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode("8.42.99999999999");
        assert_eq!(
            signer.verify(&format!("{forged_payload}.{tag}"), 1_000),
            Err(DownloadError::BadLink)
        );
        for junk in ["", ".", "abc", &format!("{payload}."), "%%%.%%%"] {
            assert_eq!(
                signer.verify(junk, 1_000),
                Err(DownloadError::BadLink),
                "{junk}"
            );
        }
    }
}
