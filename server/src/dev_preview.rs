//! The browser dev preview: a stand-in for Telegram's WebApp (`/dev/webapp.js`) signed in as a
//! demo user of your choice, paying through the in-process Bot API emulator. Mounted only with
//! `DEV_PREVIEW` on.

use crate::config::DEV_ADMIN_ID;
use crate::state::AppState;
use crate::telegram::init_data::sign_with_signature;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use clock::unix_now;
use serde_json::json;
use telegram_emulator::EmulatedUser;

/// Who the preview can be signed in as: (id, first name, language, what they are for).
const DEMO_USERS: [(i64, &str, &str, &str); 4] = [
    (2001, "Alex", "en", "Alex, a buyer"),
    (2002, "Дарья", "ru", "Дарья, a buyer (ru)"),
    (1001, "Mira", "en", "Mira Patel, a creator"),
    (DEV_ADMIN_ID, "Sam", "en", "Sam, an admin"),
];
/// Query parameters that carry a deep link's payload to a Mini App (`t.me/bot/app?startapp=`).
const START_PARAMS: [&str; 2] = ["tgWebAppStartParam", "startapp"];
const COOKIE: &str = "starfront_dev_user";
const MOCK: &str = include_str!("dev_preview.js");

/// `/dev/webapp.js`: the chosen user's signed init data and the WebApp stand-in.
pub async fn webapp_js(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(emulator) = &state.emulator else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let chosen = cookie(&headers, COOKIE);
    let user = match chosen.as_deref() {
        Some("none") => None,
        Some(id) => DEMO_USERS
            .iter()
            .find(|u| u.0.to_string() == id)
            .or(DEMO_USERS.first()),
        None => DEMO_USERS.first(),
    };
    // Signed with the bot token the emulator plays, exactly as Telegram would sign it.
    let token = emulator.config().bot_token.clone();
    let now = unix_now();
    // Telegram signs a deep link's start_param into the init data; the page that loads this
    // script names it in its own URL, which the browser sends as the referrer.
    let start_param = start_param(&headers);
    let (init_data, user_json) = match user {
        Some(&(id, first_name, lang, _)) => {
            let mut demo = EmulatedUser::new(id, first_name);
            demo.language_code = Some(lang.into());
            // Telegram knows every user who opens the app; so must the emulator.
            if let Err(err) = emulator.set_user(demo).await {
                tracing::warn!(error = ?err, "cannot register the demo user");
            }
            let user = json!({ "id": id, "first_name": first_name, "language_code": lang });
            let user_field = user.to_string();
            let auth_date = now.to_string();
            let chat_instance = chat_instance(emulator.bot_id(), id).to_string();
            // As Telegram opens a Mini App from the user's private chat with the bot (Mini Apps
            // docs, WebAppInitData: `chat_type` "sender" for "a private chat with the user
            // opening the link", and `chat_instance`, the chat's global identifier).
            let mut fields = vec![
                ("user", user_field.as_str()),
                ("auth_date", &auth_date),
                ("chat_type", "sender"),
                ("chat_instance", &chat_instance),
            ];
            if let Some(param) = &start_param {
                fields.push(("start_param", param));
            }
            // The bot's `hash`, and the `signature` Telegram adds for third parties, here by
            // the emulator's key.
            let data =
                sign_with_signature(&token, &fields, |check| emulator.webapp_signature(check));
            (json!(data), user)
        }
        None => (json!(""), json!(null)),
    };
    let users: Vec<_> = DEMO_USERS
        .iter()
        .map(|(id, first_name, lang, label)| {
            json!({ "id": id, "first_name": first_name, "language_code": lang, "label": label })
        })
        .collect();
    let config = json!({
        "initData": init_data,
        "user": user_json,
        "authDate": now,
        "startParam": start_param,
        "users": users,
        // Which run of the shop served this page, when pages are to follow restarts.
        "reload": state.dev_reload.then(boot_id),
    });
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!("window.__STARFRONT_DEV__ = {config};\n{MOCK}"),
    )
        .into_response()
}

/// This run of the shop: set once at start, different after every restart.
fn boot_id() -> &'static str {
    static BOOT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BOOT.get_or_init(|| {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        format!("{started:x}-{:x}", std::process::id())
    })
}

/// `/dev/boot`: this run of the shop, which a dev preview page compares with the one that served
/// it (`scripts/dev.sh --watch` restarts the shop after each rebuild, and the page reloads).
/// 404 unless `DEV_RELOAD` is on.
pub async fn boot(State(state): State<AppState>) -> Response {
    if state.emulator.is_none() || !state.dev_reload {
        return StatusCode::NOT_FOUND.into_response();
    }
    ([(header::CACHE_CONTROL, "no-store")], boot_id()).into_response()
}

/// A stable identifier of the chat between the bot and `user`, shaped like Telegram's (a
/// signed 64-bit number): the same chat always gets the same one.
fn chat_instance(bot_id: i64, user: i64) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("chat_instance:{bot_id}:{user}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The deep-link payload in the referring page's query, if any; Telegram allows up to 512
/// characters of `A-Z a-z 0-9 _ -`, and anything else is ignored as Telegram would refuse it.
fn start_param(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let url = url::Url::parse(referer).ok()?;
    url.query_pairs()
        .filter(|(k, _)| START_PARAMS.contains(&k.as_ref()))
        .map(|(_, v)| v.into_owned())
        .find(|v| {
            !v.is_empty()
                && v.len() <= 512
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
