//! The few Telegram WebApp calls the pages make. In the browser they reach
//! `window.Telegram.WebApp`; on the server they do nothing.

/// Opens a Stars invoice; `on_closed` gets Telegram's status (`paid`, `cancelled`, `failed`,
/// `pending`), a hint only: the order's state on the server is the truth. False when the page is
/// not inside Telegram (or a dev preview of it).
#[cfg(feature = "hydrate")]
pub fn open_invoice(url: &str, on_closed: impl FnOnce(String) + 'static) -> bool {
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    let Some(web_app) = web_app() else {
        return false;
    };
    let Some(open) = js_sys::Reflect::get(&web_app, &JsValue::from_str("openInvoice"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        return false;
    };
    let callback = Closure::once_into_js(move |status: JsValue| {
        on_closed(status.as_string().unwrap_or_default())
    });
    open.call2(&web_app, &JsValue::from_str(url), &callback)
        .is_ok()
}

#[cfg(not(feature = "hydrate"))]
pub fn open_invoice(_url: &str, _on_closed: impl FnOnce(String) + 'static) -> bool {
    false
}

#[cfg(feature = "hydrate")]
fn web_app() -> Option<wasm_bindgen::JsValue> {
    use wasm_bindgen::JsValue;
    let window = web_sys::window()?;
    let telegram = js_sys::Reflect::get(&window, &JsValue::from_str("Telegram")).ok()?;
    let web_app = js_sys::Reflect::get(&telegram, &JsValue::from_str("WebApp")).ok()?;
    (!web_app.is_undefined() && !web_app.is_null()).then_some(web_app)
}

/// Waits `ms` milliseconds in the browser.
#[cfg(feature = "hydrate")]
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[cfg(not(feature = "hydrate"))]
pub async fn sleep(_ms: i32) {}
