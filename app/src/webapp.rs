//! Telegram's WebApp as the pages use it: start-up (`ready`, `expand`, theme and safe areas),
//! the MainButton and BackButton, haptics, invoices and downloads. In the browser the calls reach
//! `window.Telegram.WebApp` (Telegram's script, or the dev preview's stand-in); on the server, and
//! in a browser outside Telegram, they do nothing and report so.

#[cfg(feature = "hydrate")]
pub use browser::*;
#[cfg(not(feature = "hydrate"))]
pub use server::*;

/// The Bot API version that brought each call (`isVersionAtLeast` gates them; older clients get
/// the fallback).
pub const INVOICES_SINCE: &str = "6.1";
pub const DOWNLOADS_SINCE: &str = "8.0";
pub const SHARE_MESSAGE_SINCE: &str = "8.0";
pub const STORIES_SINCE: &str = "7.8";

/// `https://t.me/share/url`: Telegram's own chat picker for a link, which any client opens.
pub fn share_url(link: &str, text: &str) -> String {
    use crate::api::encode_query;
    format!(
        "https://t.me/share/url?url={}&text={}",
        encode_query(link),
        encode_query(text)
    )
}

/// Whether `code` could be a gift's code (URL-safe, as the server makes them): what gift links
/// and the gift page accept.
pub fn is_gift_code(code: &str) -> bool {
    (16..=60).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Deep links: `https://t.me/<bot>/<app>?startapp=p_<slug>` opens that product page, and
/// `startapp=g_<code>` a gift's page.
pub fn start_param_path(param: &str) -> Option<String> {
    if let Some(code) = param.strip_prefix("g_") {
        return is_gift_code(code).then(|| format!("/gift/{code}"));
    }
    let slug = param.strip_prefix("p_")?;
    let valid = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid.then(|| format!("/p/{slug}"))
}

#[cfg(not(feature = "hydrate"))]
mod server {
    /// Nothing to start outside the browser.
    pub fn init() {}
    pub fn language_code() -> Option<String> {
        None
    }
    pub fn start_param() -> Option<String> {
        None
    }
    pub fn is_version_at_least(_version: &str) -> bool {
        false
    }
    pub fn haptic_notification(_kind: &str) {}
    pub fn haptic_selection() {}
    pub fn open_invoice(_url: &str, _on_closed: impl FnOnce(String) + 'static) -> bool {
        false
    }
    pub fn download_file(_url: &str, _file_name: &str) {}
    pub fn share_message(_id: &str, _on_done: impl FnOnce(bool) + 'static) -> bool {
        false
    }
    pub fn open_telegram_link(_url: &str) -> bool {
        false
    }
    pub fn share_to_story(_media_url: &str, _text: &str) -> bool {
        false
    }
    pub fn set_closing_confirmation(_enabled: bool) {}
    pub fn use_main_button(
        _text: impl Fn() -> Option<String> + Send + Sync + 'static,
        _busy: impl Fn() -> bool + Send + Sync + 'static,
        _on_click: impl Fn() + 'static,
    ) {
    }
    pub fn use_back_button(_on_back: impl Fn() + 'static) {}
    pub fn set_back_button(_visible: bool) {}
    pub fn history_back() -> bool {
        false
    }
    pub async fn sleep(_ms: i32) {}
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};

    fn get(target: &JsValue, key: &str) -> Option<JsValue> {
        js_sys::Reflect::get(target, &JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    fn web_app() -> Option<JsValue> {
        let window: JsValue = web_sys::window()?.into();
        get(&get(&window, "Telegram")?, "WebApp")
    }

    /// Calls `target.method(args…)`; false when the method is missing or throws.
    fn call(target: &JsValue, method: &str, args: &[JsValue]) -> bool {
        let Some(function) =
            get(target, method).and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            return false;
        };
        let args: js_sys::Array = args.iter().collect();
        function.apply(target, &args).is_ok()
    }

    fn web_app_call(path: &[&str], method: &str, args: &[JsValue]) -> bool {
        let Some(mut target) = web_app() else {
            return false;
        };
        for key in path {
            match get(&target, key) {
                Some(next) => target = next,
                None => return false,
            }
        }
        call(&target, method, args)
    }

    pub fn is_version_at_least(version: &str) -> bool {
        let Some(web_app) = web_app() else {
            return false;
        };
        get(&web_app, "isVersionAtLeast")
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call1(&web_app, &JsValue::from_str(version)).ok())
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    fn init_data_unsafe(key: &str) -> Option<JsValue> {
        get(&get(&web_app()?, "initDataUnsafe")?, key)
    }

    /// The signed-in user's Telegram language (`en`, `ru`, …).
    pub fn language_code() -> Option<String> {
        get(&init_data_unsafe("user")?, "language_code")?.as_string()
    }

    /// The `startapp` parameter the Mini App was opened with.
    pub fn start_param() -> Option<String> {
        init_data_unsafe("start_param")?.as_string()
    }

    /// The MainButton's handler and the id of the screen that set it.
    type MainAction = (u64, Rc<dyn Fn()>);

    thread_local! {
        static MAIN_ACTION: RefCell<Option<MainAction>> = const { RefCell::new(None) };
        static BACK_ACTION: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
        static NEXT_ID: Cell<u64> = const { Cell::new(1) };
    }

    /// Tells Telegram the page is ready, takes the full height, and keeps the page's CSS in step
    /// with the theme and the safe areas. Called once, as early as the app hydrates.
    pub fn init() {
        let Some(app) = web_app() else {
            return;
        };
        call(&app, "ready", &[]);
        call(&app, "expand", &[]);
        apply_theme();
        apply_insets();
        let on = |event: &str, handler: fn()| {
            let closure = Closure::<dyn Fn()>::new(handler);
            call(
                &app,
                "onEvent",
                &[JsValue::from_str(event), closure.into_js_value()],
            );
        };
        on("themeChanged", apply_theme);
        on("viewportChanged", apply_insets);
        on("safeAreaChanged", apply_insets);
        on("contentSafeAreaChanged", apply_insets);
        // One handler each for the whole session; screens swap the action behind it.
        on("mainButtonClicked", || {
            let action = MAIN_ACTION.with_borrow(|a| a.as_ref().map(|(_, f)| f.clone()));
            if let Some(action) = action {
                action();
            }
        });
        on("backButtonClicked", || {
            let action = BACK_ACTION.with_borrow(|a| a.clone());
            if let Some(action) = action {
                action();
            }
        });
    }

    fn root_style() -> Option<web_sys::CssStyleDeclaration> {
        let root = web_sys::window()?.document()?.document_element()?;
        Some(root.dyn_into::<web_sys::HtmlElement>().ok()?.style())
    }

    /// `themeParams` as `--tg-theme-*` variables (Telegram's names, `_` → `-`), and the colour
    /// scheme on `<html data-theme>` so styles without a Telegram colour follow it too.
    fn apply_theme() {
        let (Some(app), Some(style)) = (web_app(), root_style()) else {
            return;
        };
        if let Some(params) = get(&app, "themeParams") {
            let entries = js_sys::Object::entries(&params.unchecked_into());
            for entry in entries.iter() {
                let pair: js_sys::Array = entry.unchecked_into();
                if let (Some(key), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string())
                {
                    let name = format!("--tg-theme-{}", key.replace('_', "-"));
                    let _ = style.set_property(&name, &value);
                }
            }
        }
        if let Some(scheme) = get(&app, "colorScheme").and_then(|s| s.as_string()) {
            let root = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element());
            if let Some(root) = root {
                let _ = root.set_attribute("data-theme", &scheme);
            }
        }
    }

    /// Safe-area and content-safe-area insets, and the stable viewport height, as CSS variables.
    fn apply_insets() {
        let (Some(app), Some(style)) = (web_app(), root_style()) else {
            return;
        };
        for (field, prefix) in [
            ("safeAreaInset", "--tg-safe-area-inset"),
            ("contentSafeAreaInset", "--tg-content-safe-area-inset"),
        ] {
            let Some(inset) = get(&app, field) else {
                continue;
            };
            for side in ["top", "bottom", "left", "right"] {
                if let Some(px) = get(&inset, side).and_then(|v| v.as_f64()) {
                    let _ = style.set_property(&format!("{prefix}-{side}"), &format!("{px}px"));
                }
            }
        }
        if let Some(height) = get(&app, "viewportStableHeight").and_then(|v| v.as_f64()) {
            if height > 0.0 {
                let _ = style.set_property("--tg-viewport-stable-height", &format!("{height}px"));
            }
        }
    }

    /// `success`, `error` or `warning`.
    pub fn haptic_notification(kind: &str) {
        web_app_call(
            &["HapticFeedback"],
            "notificationOccurred",
            &[JsValue::from_str(kind)],
        );
    }

    pub fn haptic_selection() {
        web_app_call(&["HapticFeedback"], "selectionChanged", &[]);
    }

    /// Opens a Stars invoice; `on_closed` gets Telegram's status (`paid`, `cancelled`, `failed`,
    /// `pending`), a hint only: the order's state on the server is the truth. False when the page
    /// is not inside a Telegram that can pay.
    pub fn open_invoice(url: &str, on_closed: impl FnOnce(String) + 'static) -> bool {
        if !is_version_at_least(super::INVOICES_SINCE) {
            return false;
        }
        let callback = Closure::once_into_js(move |status: JsValue| {
            on_closed(status.as_string().unwrap_or_default())
        });
        web_app_call(&[], "openInvoice", &[JsValue::from_str(url), callback])
    }

    /// Downloads through Telegram's own dialog where the client has it (mobile webviews ignore
    /// `<a download>`), through a plain link otherwise.
    pub fn download_file(url: &str, file_name: &str) {
        if is_version_at_least(super::DOWNLOADS_SINCE) {
            let params = js_sys::Object::new();
            let absolute = web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .map(|origin| {
                    if url.starts_with('/') {
                        format!("{origin}{url}")
                    } else {
                        url.to_owned()
                    }
                })
                .unwrap_or_else(|| url.to_owned());
            let _ = js_sys::Reflect::set(&params, &"url".into(), &absolute.into());
            let _ = js_sys::Reflect::set(&params, &"file_name".into(), &file_name.into());
            if web_app_call(&[], "downloadFile", &[params.into()]) {
                return;
            }
        }
        let link = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("a").ok())
            .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok());
        if let Some(link) = link {
            link.set_href(url);
            link.set_download(file_name);
            link.click();
        }
    }

    /// Lets the user send a prepared message to a chat they pick (`shareMessage`, Bot API 8.0);
    /// `on_done` hears whether it was sent. False when the client cannot.
    pub fn share_message(id: &str, on_done: impl FnOnce(bool) + 'static) -> bool {
        if !is_version_at_least(super::SHARE_MESSAGE_SINCE) {
            return false;
        }
        let callback = Closure::once_into_js(move |sent: JsValue| on_done(sent.is_truthy()));
        web_app_call(&[], "shareMessage", &[JsValue::from_str(id), callback])
    }

    /// Opens a `t.me` link inside Telegram (the Mini App stays open behind it).
    pub fn open_telegram_link(url: &str) -> bool {
        web_app_call(&[], "openTelegramLink", &[JsValue::from_str(url)])
    }

    /// Opens the story editor with `media_url` and `text` (`shareToStory`, Bot API 7.8).
    pub fn share_to_story(media_url: &str, text: &str) -> bool {
        if !is_version_at_least(super::STORIES_SINCE) {
            return false;
        }
        let params = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&params, &"text".into(), &text.into());
        web_app_call(
            &[],
            "shareToStory",
            &[JsValue::from_str(media_url), params.into()],
        )
    }

    /// Asks before the Mini App closes (an upload or a payment in flight).
    pub fn set_closing_confirmation(enabled: bool) {
        let method = if enabled {
            "enableClosingConfirmation"
        } else {
            "disableClosingConfirmation"
        };
        web_app_call(&[], method, &[]);
    }

    fn main_button(method: &str, args: &[JsValue]) {
        web_app_call(&["MainButton"], method, args);
    }

    /// Makes Telegram's MainButton this screen's primary action while the calling component
    /// lives: `text` (None hides it), `busy` (progress shown, taps ignored) and the action.
    pub fn use_main_button(
        text: impl Fn() -> Option<String> + Send + Sync + 'static,
        busy: impl Fn() -> bool + Send + Sync + 'static,
        on_click: impl Fn() + 'static,
    ) {
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        MAIN_ACTION.with_borrow_mut(|a| *a = Some((id, Rc::new(on_click))));
        Effect::new(move |_| match text() {
            Some(label) => {
                main_button("setText", &[JsValue::from_str(&label)]);
                main_button("show", &[]);
            }
            None => main_button("hide", &[]),
        });
        Effect::new(move |was_busy: Option<bool>| {
            let now = busy();
            if now {
                main_button("showProgress", &[JsValue::FALSE]);
                main_button("disable", &[]);
            } else if was_busy.is_some() {
                main_button("hideProgress", &[]);
                main_button("enable", &[]);
            }
            now
        });
        on_cleanup(move || {
            // Only the screen that still owns the button hides it: the next screen may already
            // have taken it over.
            let owned = MAIN_ACTION.with_borrow_mut(|a| {
                let owned = a.as_ref().is_some_and(|(current, _)| *current == id);
                if owned {
                    *a = None;
                }
                owned
            });
            if owned {
                main_button("hideProgress", &[]);
                main_button("hide", &[]);
            }
        });
    }

    /// What the BackButton does for the whole session.
    pub fn use_back_button(on_back: impl Fn() + 'static) {
        BACK_ACTION.with_borrow_mut(|a| *a = Some(Rc::new(on_back)));
    }

    pub fn set_back_button(visible: bool) {
        web_app_call(&["BackButton"], if visible { "show" } else { "hide" }, &[]);
    }

    /// Goes one page back in the browser's history.
    pub fn history_back() -> bool {
        web_sys::window()
            .and_then(|w| w.history().ok())
            .is_some_and(|h| h.back().is_ok())
    }

    /// Waits `ms` milliseconds in the browser.
    pub async fn sleep(ms: i32) {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_deep_links_map_to_product_pages() {
        assert_eq!(
            start_param_path("p_rust-in-action").as_deref(),
            Some("/p/rust-in-action")
        );
        assert_eq!(start_param_path("p_"), None);
        assert_eq!(start_param_path("p_../admin"), None);
        assert_eq!(start_param_path("invite_abc"), None);
        assert_eq!(start_param_path("P_Shout"), None);
    }

    #[test]
    fn gift_deep_links_map_to_gift_pages() {
        assert_eq!(
            start_param_path("g_Ab-9_cdefghijklmnopqrst").as_deref(),
            Some("/gift/Ab-9_cdefghijklmnopqrst")
        );
        assert_eq!(start_param_path("g_short"), None);
        assert_eq!(start_param_path("g_../../admin/aaaaaaaaaaaa"), None);
    }

    #[test]
    fn the_share_fallback_carries_the_link_and_the_title() {
        assert_eq!(
            share_url("https://t.me/shop_bot?startapp=p_a-b", "Rust & co"),
            "https://t.me/share/url?url=https%3A%2F%2Ft.me%2Fshop_bot%3Fstartapp%3Dp_a-b&text=Rust+%26+co"
        );
    }
}
