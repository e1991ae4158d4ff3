//! Mini App `initData` validation: the signed query string Telegram hands the page.
//!
//! First-party (we hold the bot token): `secret = HMAC_SHA256(key = "WebAppData", bot_token)`,
//! `hash = hex(HMAC_SHA256(secret, data_check_string))`. Third-party (Bot API 8.0, we know only
//! the bot id): an Ed25519 `signature` by Telegram over `"{bot_id}:WebAppData\n" + data_check_string`
//! without `hash` and `signature`. The data-check-string is every field as received, percent-decoded
//! (never re-serialised), sorted by key, `key=value` joined by `\n`.

use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// Longest init data accepted, in bytes. Telegram's is about 1 KB (user, chat and receiver objects
/// with photo URLs, hash and signature); the bound keeps a hostile header cheap to refuse.
pub const MAX_INIT_DATA_BYTES: usize = 8 * 1024;
/// Most fields accepted. Telegram sends at most a dozen (`query_id`, `user`, `receiver`, `chat`,
/// `chat_type`, `chat_instance`, `start_param`, `can_send_after`, `auth_date`, `hash`, `signature`).
pub const MAX_INIT_DATA_FIELDS: usize = 32;

/// Telegram's published Ed25519 keys for third-party validation.
const TELEGRAM_PUBLIC_KEY: [u8; 32] =
    hex_literal("e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d");
const TELEGRAM_TEST_PUBLIC_KEY: [u8; 32] =
    hex_literal("40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec");

/// The Mini App user as Telegram describes it in `initData.user`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebAppUser {
    pub id: i64,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
    #[serde(default)]
    pub is_premium: bool,
    #[serde(default)]
    pub photo_url: Option<String>,
}

/// Validated init data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitData {
    pub user: WebAppUser,
    pub auth_date: i64,
    pub query_id: Option<String>,
    pub start_param: Option<String>,
    pub chat_type: Option<String>,
}

/// Why init data was refused. The `code` goes to clients; the message says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    #[error("no init data: send `Authorization: tma <initData>`")]
    Missing,
    #[error("init data is malformed: {0}")]
    Malformed(&'static str),
    #[error("init data is longer than {MAX_INIT_DATA_BYTES} bytes")]
    TooLong,
    #[error("init data has more than {MAX_INIT_DATA_FIELDS} fields")]
    TooManyFields,
    #[error("init data carries no hash or signature")]
    SignatureMissing,
    #[error("init data signature does not match")]
    SignatureInvalid,
    #[error("init data has no auth_date")]
    AuthDateMissing,
    #[error("init data auth_date is not a Unix time")]
    AuthDateInvalid,
    #[error(
        "init data expired {age_secs} s after issue (limit {max_age_secs} s): reopen the Mini App"
    )]
    Expired { age_secs: i64, max_age_secs: u64 },
    #[error("init data has no valid user")]
    UserInvalid,
}

impl InitDataError {
    pub fn code(&self) -> &'static str {
        match self {
            InitDataError::Missing => "init_data_missing",
            InitDataError::Malformed(_) => "init_data_malformed",
            InitDataError::TooLong | InitDataError::TooManyFields => "init_data_too_large",
            InitDataError::SignatureMissing => "init_data_unsigned",
            InitDataError::SignatureInvalid => "init_data_forged",
            InitDataError::AuthDateMissing | InitDataError::AuthDateInvalid => {
                "init_data_malformed"
            }
            InitDataError::Expired { .. } => "init_data_expired",
            InitDataError::UserInvalid => "init_data_no_user",
        }
    }
}

/// Checks init data for one bot.
#[derive(Clone)]
pub struct Validator {
    /// `HMAC_SHA256("WebAppData", bot_token)`, when the bot token is known.
    secret: Option<[u8; 32]>,
    third_party: Option<(i64, VerifyingKey)>,
    max_age: Option<Duration>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("first_party", &self.secret.is_some())
            .field("third_party_bot", &self.third_party.map(|(id, _)| id))
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl Validator {
    /// `max_age = None` turns the freshness check off.
    pub fn new(bot_token: Option<&str>, max_age: Option<Duration>) -> Self {
        let secret = bot_token.map(|token| {
            let mut mac = HmacSha256::new_from_slice(b"WebAppData").expect("HMAC takes any key");
            mac.update(token.as_bytes());
            mac.finalize().into_bytes().into()
        });
        Self {
            secret,
            third_party: None,
            max_age,
        }
    }

    /// Also accept init data that Telegram signed for `bot_id` (test environment keys if asked).
    pub fn with_third_party(mut self, bot_id: i64, test_environment: bool) -> Self {
        let key = if test_environment {
            TELEGRAM_TEST_PUBLIC_KEY
        } else {
            TELEGRAM_PUBLIC_KEY
        };
        let key = VerifyingKey::from_bytes(&key).expect("Telegram's published key is valid");
        self.third_party = Some((bot_id, key));
        self
    }

    /// Also accept init data signed for `bot_id` with another Ed25519 key than Telegram's: the
    /// dev preview's emulator plays Telegram and signs with its own.
    pub fn with_third_party_key(mut self, bot_id: i64, public_key: [u8; 32]) -> Self {
        match VerifyingKey::from_bytes(&public_key) {
            Ok(key) => self.third_party = Some((bot_id, key)),
            Err(err) => tracing::warn!(error = %err, "not an Ed25519 public key; ignored"),
        }
        self
    }

    /// Validates raw init data at time `now` (Unix seconds).
    pub fn validate(&self, raw: &str, now: i64) -> Result<InitData, InitDataError> {
        self.validate_within(raw, now, self.max_age)
    }

    /// As [`Validator::validate`], with a stricter age: the shorter of `max_age` and the
    /// validator's own (for refunds and studio writes).
    pub fn validate_within(
        &self,
        raw: &str,
        now: i64,
        max_age: Option<Duration>,
    ) -> Result<InitData, InitDataError> {
        let max_age = match (self.max_age, max_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(InitDataError::Missing);
        }
        let pairs = parse_pairs(raw)?;
        let field = |key: &str| {
            pairs
                .binary_search_by(|(k, _)| k.as_str().cmp(key))
                .ok()
                .map(|i| pairs[i].1.as_str())
        };

        // Data of our own bot carries a valid hash. Data Telegram signed for the third-party bot
        // carries a hash too (by that bot's token, which we lack), so a failed hash still leaves
        // the signature to try.
        let mut verified = Err(InitDataError::SignatureMissing);
        if let (Some(secret), Some(hash)) = (self.secret, field("hash")) {
            verified = verify_hash(&secret, &pairs, hash);
        }
        if verified.is_err() {
            if let (Some((bot_id, key)), Some(signature)) = (&self.third_party, field("signature"))
            {
                verified = verify_signature(key, *bot_id, &pairs, signature);
            }
        }
        verified?;

        // Freshness is checked only on signed data, so an attacker learns nothing from it.
        let auth_date: i64 = field("auth_date")
            .ok_or(InitDataError::AuthDateMissing)?
            .parse()
            .map_err(|_| InitDataError::AuthDateInvalid)?;
        if let Some(max_age) = max_age {
            let age_secs = now.saturating_sub(auth_date);
            if age_secs > max_age.as_secs() as i64 {
                return Err(InitDataError::Expired {
                    age_secs,
                    max_age_secs: max_age.as_secs(),
                });
            }
        }
        let user: WebAppUser = field("user")
            .and_then(|json| serde_json::from_str(json).ok())
            .ok_or(InitDataError::UserInvalid)?;
        Ok(InitData {
            user,
            auth_date,
            query_id: field("query_id").map(str::to_owned),
            start_param: field("start_param").map(str::to_owned),
            chat_type: field("chat_type").map(str::to_owned),
        })
    }
}

/// Signs init data the way Telegram does (first-party hash). The dev preview uses it to log in
/// demo users, and tests use it to make valid data.
pub fn sign(bot_token: &str, fields: &[(&str, &str)]) -> String {
    let validator = Validator::new(Some(bot_token), None);
    let secret = validator.secret.expect("a token was given");
    let mut pairs: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| *k != "hash")
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let hash = hex::encode(hmac(&secret, &data_check_string(&pairs, &[])));
    // As Telegram writes it (encodeURIComponent): `-_.~` and alphanumerics stay as they are, so
    // `auth_date`, `chat_type` and a base64url `signature` read as in real init data.
    const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, COMPONENT).to_string();
    let mut query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    query.push(format!("hash={hash}"));
    query.join("&")
}

/// Signs init data as Telegram hands it to a Mini App since Bot API 8.0: the Ed25519
/// `signature` for third parties (`sign_data_check_string` signs `"{bot_id}:WebAppData\n"` and
/// the data-check-string without `hash` and `signature`, Mini Apps docs, "Validating data for
/// Third-Party Use"), then the bot's `hash` over every field, `signature` included.
pub fn sign_with_signature(
    bot_token: &str,
    fields: &[(&str, &str)],
    sign_data_check_string: impl FnOnce(&str) -> [u8; 64],
) -> String {
    let mut pairs: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| *k != "hash" && *k != "signature")
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sign_data_check_string(&data_check_string(&pairs, &[])));
    let mut all: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.push(("signature", &signature));
    sign(bot_token, &all)
}

fn verify_hash(
    secret: &[u8; 32],
    pairs: &[(String, String)],
    hash: &str,
) -> Result<(), InitDataError> {
    let expected = hex::decode(hash).map_err(|_| InitDataError::SignatureInvalid)?;
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(data_check_string(pairs, &["hash"]).as_bytes());
    // verify_slice compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| InitDataError::SignatureInvalid)
}

fn verify_signature(
    key: &VerifyingKey,
    bot_id: i64,
    pairs: &[(String, String)],
    signature: &str,
) -> Result<(), InitDataError> {
    // Telegram sends URL-safe base64 without padding.
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature.trim_end_matches('='))
        .map_err(|_| InitDataError::SignatureInvalid)?;
    let signature = Signature::from_slice(&bytes).map_err(|_| InitDataError::SignatureInvalid)?;
    let message = format!(
        "{bot_id}:WebAppData\n{}",
        data_check_string(pairs, &["hash", "signature"])
    );
    key.verify_strict(message.as_bytes(), &signature)
        .map_err(|_| InitDataError::SignatureInvalid)
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Sorted `key=value` lines of every field but `skip`. `pairs` must be sorted by key.
fn data_check_string(pairs: &[(String, String)], skip: &[&str]) -> String {
    let mut out = String::new();
    for (k, v) in pairs.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Splits a query string into percent-decoded pairs sorted by key, strictly: every field needs
/// `=`, escapes must be well formed UTF-8, and no key may repeat (two values would make the check
/// ambiguous). Size and field count are bounded before anything is decoded, and repeats are found
/// next to each other once sorted, so hostile input costs at most `n log n` on a small `n`.
fn parse_pairs(raw: &str) -> Result<Vec<(String, String)>, InitDataError> {
    if raw.len() > MAX_INIT_DATA_BYTES {
        return Err(InitDataError::TooLong);
    }
    if raw.bytes().filter(|&b| b == b'&').count() >= MAX_INIT_DATA_FIELDS {
        return Err(InitDataError::TooManyFields);
    }
    let mut pairs = Vec::with_capacity(MAX_INIT_DATA_FIELDS);
    for part in raw.split('&') {
        let (k, v) = part
            .split_once('=')
            .ok_or(InitDataError::Malformed("a field without '='"))?;
        let (k, v) = (decode(k)?, decode(v)?);
        if k.is_empty() {
            return Err(InitDataError::Malformed("an empty field name"));
        }
        pairs.push((k, v));
    }
    pairs.sort_unstable_by(|a: &(String, String), b| a.0.cmp(&b.0));
    if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(InitDataError::Malformed("a repeated field"));
    }
    Ok(pairs)
}

fn decode(s: &str) -> Result<String, InitDataError> {
    let bytes = s.as_bytes();
    for (i, _) in s.match_indices('%') {
        let well_formed = bytes.len() > i + 2
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit();
        if !well_formed {
            return Err(InitDataError::Malformed("a broken percent escape"));
        }
    }
    // URLSearchParams (how the WebApp builds initData) encodes spaces as '+'.
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| InitDataError::Malformed("invalid UTF-8"))
}

const fn hex_literal(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not lowercase hex"),
        }
    }
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Published vectors (Telegram-Mini-Apps/init-data-golang, validate_test.go and
    // validate_third_party_test.go).
    const TOKEN: &str = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8";
    const VECTOR: &str = "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2";
    const VECTOR_AUTH_DATE: i64 = 1662771648;
    const THIRD_PARTY: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ";
    const THIRD_PARTY_BOT: i64 = 7342037359;
    const DAY: Option<Duration> = Some(Duration::from_secs(86_400));

    #[test]
    fn the_published_vector_is_valid() {
        let data = Validator::new(Some(TOKEN), DAY)
            .validate(VECTOR, VECTOR_AUTH_DATE + 60)
            .unwrap();
        assert_eq!(data.user.id, 279058397);
        assert_eq!(data.user.first_name, "Vladislav");
        assert_eq!(data.user.username.as_deref(), Some("vdkfrost"));
        assert_eq!(data.user.language_code.as_deref(), Some("ru"));
        assert!(data.user.is_premium);
        assert_eq!(data.auth_date, VECTOR_AUTH_DATE);
        assert_eq!(data.query_id.as_deref(), Some("AAHdF6IQAAAAAN0XohDhrOrc"));
    }

    #[test]
    fn tampering_with_any_field_is_detected() {
        let v = Validator::new(Some(TOKEN), None);
        let tampered = [
            VECTOR.replace("279058397", "279058398"),
            VECTOR.replace("auth_date=1662771648", "auth_date=1662771649"),
            VECTOR.replace("hash=c501", "hash=d501"),
            format!("{VECTOR}abc"),
            format!("{VECTOR}&extra=1"),
        ];
        for data in tampered {
            assert_eq!(
                v.validate(&data, VECTOR_AUTH_DATE),
                Err(InitDataError::SignatureInvalid),
                "{data}"
            );
        }
        let other_bot = Validator::new(Some("1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), None);
        assert_eq!(
            other_bot.validate(VECTOR, VECTOR_AUTH_DATE),
            Err(InitDataError::SignatureInvalid)
        );
    }

    #[test]
    fn stale_data_is_refused_and_the_age_check_can_be_off() {
        let v = Validator::new(Some(TOKEN), DAY);
        let err = v.validate(VECTOR, VECTOR_AUTH_DATE + 86_401).unwrap_err();
        assert_eq!(
            err,
            InitDataError::Expired {
                age_secs: 86_401,
                max_age_secs: 86_400
            }
        );
        assert_eq!(err.code(), "init_data_expired");
        assert!(v.validate(VECTOR, VECTOR_AUTH_DATE + 86_400).is_ok());
        assert!(Validator::new(Some(TOKEN), None)
            .validate(VECTOR, i64::MAX)
            .is_ok());
    }

    #[test]
    fn missing_and_malformed_data_say_which() {
        let v = Validator::new(Some(TOKEN), DAY);
        assert_eq!(v.validate("", 0), Err(InitDataError::Missing));
        assert_eq!(
            v.validate("here comes something wrong;", 0)
                .unwrap_err()
                .code(),
            "init_data_malformed"
        );
        assert_eq!(
            v.validate("no_hash=true", 0),
            Err(InitDataError::SignatureMissing)
        );
        assert_eq!(
            v.validate("a=%zz&hash=00", 0).unwrap_err().code(),
            "init_data_malformed"
        );
        assert_eq!(
            v.validate("a=1&a=2&hash=00", 0).unwrap_err().code(),
            "init_data_malformed"
        );
        assert_eq!(
            v.validate("hash=zz", 0),
            Err(InitDataError::SignatureInvalid)
        );
    }

    #[test]
    fn signed_data_without_a_user_or_date_is_refused() {
        let no_user = sign(TOKEN, &[("auth_date", "100")]);
        assert_eq!(
            Validator::new(Some(TOKEN), None).validate(&no_user, 100),
            Err(InitDataError::UserInvalid)
        );
        let no_date = sign(TOKEN, &[("user", r#"{"id":1,"first_name":"A"}"#)]);
        assert_eq!(
            Validator::new(Some(TOKEN), None).validate(&no_date, 100),
            Err(InitDataError::AuthDateMissing)
        );
    }

    #[test]
    fn sign_produces_data_the_validator_accepts() {
        let user = r#"{"id":42,"first_name":"Zoë & Co","language_code":"en"}"#;
        let raw = sign(
            TOKEN,
            &[
                ("user", user),
                ("auth_date", "1700000000"),
                ("start_param", "p_rust"),
            ],
        );
        let data = Validator::new(Some(TOKEN), DAY)
            .validate(&raw, 1_700_000_100)
            .unwrap();
        assert_eq!(data.user.first_name, "Zoë & Co");
        assert_eq!(data.start_param.as_deref(), Some("p_rust"));
    }

    #[test]
    fn the_third_party_signature_is_checked_with_telegrams_key() {
        let v = Validator::new(None, None).with_third_party(THIRD_PARTY_BOT, false);
        let data = v.validate(THIRD_PARTY, 1733584787).unwrap();
        // JSON's "\/" is a plain slash once decoded.
        assert_eq!(data.user.first_name, "Vladislav + - ? /");
        assert_eq!(data.chat_type.as_deref(), Some("private"));

        let wrong_bot = Validator::new(None, None).with_third_party(THIRD_PARTY_BOT + 1, false);
        assert_eq!(
            wrong_bot.validate(THIRD_PARTY, 0),
            Err(InitDataError::SignatureInvalid)
        );
        let test_env = Validator::new(None, None).with_third_party(THIRD_PARTY_BOT, true);
        assert_eq!(
            test_env.validate(THIRD_PARTY, 0),
            Err(InitDataError::SignatureInvalid)
        );
        let tampered = THIRD_PARTY.replace("chat_type=private", "chat_type=group");
        assert_eq!(
            v.validate(&tampered, 0),
            Err(InitDataError::SignatureInvalid)
        );
        let expired = Validator::new(None, Some(Duration::from_secs(1)))
            .with_third_party(THIRD_PARTY_BOT, false);
        assert_eq!(
            expired
                .validate(THIRD_PARTY, 1733584787 + 5)
                .unwrap_err()
                .code(),
            "init_data_expired"
        );
    }

    #[test]
    fn a_third_party_bot_is_accepted_alongside_our_own_token() {
        let both = Validator::new(Some(TOKEN), None).with_third_party(THIRD_PARTY_BOT, false);
        let data = both.validate(THIRD_PARTY, 1733584787).unwrap();
        assert_eq!(data.user.id, 279058397);
        assert!(both.validate(VECTOR, VECTOR_AUTH_DATE).is_ok());
        // Neither the hash nor the signature fits: refused.
        let tampered = THIRD_PARTY.replace("chat_type=private", "chat_type=group");
        assert_eq!(
            both.validate(&tampered, 0),
            Err(InitDataError::SignatureInvalid)
        );
        let forged_hash = VECTOR.replace("hash=c501", "hash=d501");
        assert_eq!(
            both.validate(&forged_hash, 0),
            Err(InitDataError::SignatureInvalid)
        );
    }

    /// A query string of `n` distinct empty fields, like the hostile header in issue 15.
    fn many_keys(n: usize) -> String {
        (1..=n)
            .map(|i| format!("k{i}="))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn oversized_init_data_is_refused_before_any_parsing() {
        let v = Validator::new(Some(TOKEN), DAY).with_third_party(THIRD_PARTY_BOT, false);
        let huge = many_keys(60_000);
        assert!(huge.len() > 300_000);
        let err = v.validate(&huge, 0).unwrap_err();
        assert_eq!(err, InitDataError::TooLong);
        assert_eq!(err.code(), "init_data_too_large");
        let long_value = format!("{VECTOR}&x={}", "a".repeat(MAX_INIT_DATA_BYTES));
        assert_eq!(v.validate(&long_value, 0), Err(InitDataError::TooLong));
    }

    #[test]
    fn field_count_is_bounded_and_the_bound_itself_is_accepted() {
        let v = Validator::new(Some(TOKEN), None);
        let too_many = many_keys(MAX_INIT_DATA_FIELDS + 1);
        assert!(too_many.len() < MAX_INIT_DATA_BYTES);
        assert_eq!(v.validate(&too_many, 0), Err(InitDataError::TooManyFields));

        // Signed data with exactly the most fields passes (hash included in the count).
        let names: Vec<String> = (3..MAX_INIT_DATA_FIELDS).map(|i| format!("f{i}")).collect();
        let mut fields: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
        fields.push(("user", r#"{"id":7,"first_name":"A"}"#));
        fields.push(("auth_date", "100"));
        let raw = sign(TOKEN, &fields);
        assert_eq!(raw.matches('&').count() + 1, MAX_INIT_DATA_FIELDS);
        assert_eq!(v.validate(&raw, 100).unwrap().user.id, 7);
    }

    proptest::proptest! {
        /// The parser's answer matches a plain model: sorted pairs when keys are distinct, a
        /// repeated-field refusal when any key appears twice, limits before everything else.
        #[test]
        fn the_parser_agrees_with_a_simple_model(
            fields in proptest::collection::vec(("[a-c]{1,2}", "[a-z0-9]{0,3}"), 1..40),
        ) {
            let raw = fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            let distinct: std::collections::HashSet<&String> = fields.iter().map(|(k, _)| k).collect();
            let result = parse_pairs(&raw);
            if fields.len() > MAX_INIT_DATA_FIELDS {
                proptest::prop_assert_eq!(result, Err(InitDataError::TooManyFields));
            } else if distinct.len() < fields.len() {
                proptest::prop_assert_eq!(result, Err(InitDataError::Malformed("a repeated field")));
            } else {
                let mut expected = fields.clone();
                expected.sort();
                proptest::prop_assert_eq!(result, Ok(expected));
            }
        }

        #[test]
        fn arbitrary_input_never_panics(raw in ".{0,400}", now in proptest::num::i64::ANY) {
            let v = Validator::new(Some(TOKEN), DAY).with_third_party(THIRD_PARTY_BOT, false);
            let _ = v.validate(&raw, now);
        }

        #[test]
        fn query_shaped_input_never_panics(
            fields in proptest::collection::vec(("[a-z_%+0-9]{0,12}", "[ -~]{0,40}"), 0..8),
            now in proptest::num::i64::ANY,
        ) {
            let raw = fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            let v = Validator::new(Some(TOKEN), DAY).with_third_party(THIRD_PARTY_BOT, false);
            let _ = v.validate(&raw, now);
        }
    }
}
