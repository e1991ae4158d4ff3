//! The studio's calls to its JSON API, from the browser. Every request carries the Mini App's
//! init data (`Authorization: tma …`); uploads go through XMLHttpRequest for progress events.
//! On the server these do nothing: studio pages load in the browser only.

use super::strings as s;
use crate::texts::fill;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A failed call: the server's message when it sent one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn error_from(status: u16, body: &str) -> CallError {
    let message = serde_json::from_str::<super::types::ApiErrorBody>(body)
        .map(|b| b.message)
        .unwrap_or_else(|_| fill(s::SERVER_ANSWERED(), &[("status", &status)]));
    CallError { status, message }
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, CallError> {
    call("GET", path, None::<&()>).await
}

/// Fetches `path` in the background into `into`; a failure goes to `error` in the words
/// `describe` gives it.
pub fn load_into<T: DeserializeOwned + Send + Sync + 'static>(
    path: &'static str,
    into: leptos::prelude::RwSignal<T>,
    error: leptos::prelude::RwSignal<Option<String>>,
    describe: fn(&CallError) -> String,
) {
    use leptos::prelude::Set;
    leptos::task::spawn_local(async move {
        match get::<T>(path).await {
            Ok(value) => into.set(value),
            Err(err) => error.set(Some(describe(&err))),
        }
    });
}

/// The server's own words for a failed call.
pub fn message(err: &CallError) -> String {
    err.message.clone()
}

pub async fn post<T: DeserializeOwned, B: Serialize>(
    path: &str,
    body: Option<&B>,
) -> Result<T, CallError> {
    call("POST", path, body).await
}

pub async fn put<T: DeserializeOwned, B: Serialize>(path: &str, body: &B) -> Result<T, CallError> {
    call("PUT", path, Some(body)).await
}

pub async fn delete(path: &str) -> Result<serde_json::Value, CallError> {
    call("DELETE", path, None::<&()>).await
}

#[cfg(feature = "hydrate")]
pub(crate) fn init_data() -> Option<String> {
    use wasm_bindgen::JsValue;
    let window = web_sys::window()?;
    let telegram = js_sys::Reflect::get(&window, &JsValue::from_str("Telegram")).ok()?;
    let web_app = js_sys::Reflect::get(&telegram, &JsValue::from_str("WebApp")).ok()?;
    js_sys::Reflect::get(&web_app, &JsValue::from_str("initData"))
        .ok()?
        .as_string()
        .filter(|s| !s.is_empty())
}

#[cfg(feature = "hydrate")]
async fn call<T: DeserializeOwned, B: Serialize>(
    method: &str,
    path: &str,
    body: Option<&B>,
) -> Result<T, CallError> {
    use wasm_bindgen::JsCast;
    let fail = |message: String| CallError { status: 0, message };
    let window = web_sys::window().ok_or_else(|| fail("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|_| fail("no headers".into()))?;
    if let Some(data) = init_data() {
        let _ = headers.set("Authorization", &format!("tma {data}"));
    }
    if let Some(body) = body {
        let json = serde_json::to_string(body).map_err(|e| fail(e.to_string()))?;
        let _ = headers.set("Content-Type", "application/json");
        init.set_body(&wasm_bindgen::JsValue::from_str(&json));
    }
    init.set_headers(&headers);
    let promise = window.fetch_with_str_and_init(path, &init);
    let response = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| fail(s::NETWORK().into()))?
        .dyn_into::<web_sys::Response>()
        .map_err(|_| fail("not a response".into()))?;
    let text = match response.text() {
        Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if !response.ok() {
        return Err(error_from(response.status(), &text));
    }
    serde_json::from_str(&text).map_err(|e| fail(fill(s::UNEXPECTED(), &[("detail", &e)])))
}

#[cfg(not(feature = "hydrate"))]
async fn call<T: DeserializeOwned, B: Serialize>(
    _method: &str,
    _path: &str,
    _body: Option<&B>,
) -> Result<T, CallError> {
    Err(CallError {
        status: 0,
        message: s::LOADS_IN_BROWSER().into(),
    })
}

/// Keeps Telegram from closing the Mini App while an upload runs (and lets it again after).
#[cfg(feature = "hydrate")]
pub fn closing_confirmation(on: bool) {
    use wasm_bindgen::{JsCast, JsValue};
    let Some(window) = web_sys::window() else {
        return;
    };
    let web_app = js_sys::Reflect::get(&window, &JsValue::from_str("Telegram"))
        .and_then(|t| js_sys::Reflect::get(&t, &JsValue::from_str("WebApp")));
    let Ok(web_app) = web_app else {
        return;
    };
    let name = if on {
        "enableClosingConfirmation"
    } else {
        "disableClosingConfirmation"
    };
    if let Ok(f) = js_sys::Reflect::get(&web_app, &JsValue::from_str(name)) {
        if let Ok(f) = f.dyn_into::<js_sys::Function>() {
            let _ = f.call0(&web_app);
        }
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn closing_confirmation(_on: bool) {}

/// Uploads the file chosen in the `<input type=file>` with id `input_id` to `path` as the
/// multipart part `file`, reporting progress (0–100). Resolves with the server's JSON answer.
#[cfg(feature = "hydrate")]
pub async fn upload<T: DeserializeOwned>(
    path: &str,
    input_id: &str,
    on_progress: impl Fn(u32) + 'static,
) -> Result<T, CallError> {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let fail = |message: &str| CallError {
        status: 0,
        message: message.to_owned(),
    };
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| fail("no document"))?;
    let input = document
        .get_element_by_id(input_id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .ok_or_else(|| fail("no file input"))?;
    let file = input
        .files()
        .and_then(|files| files.get(0))
        .ok_or_else(|| fail(s::CHOOSE_FILE_FIRST()))?;
    let form = web_sys::FormData::new().map_err(|_| fail("no form data"))?;
    form.append_with_blob_and_filename("file", &file, &file.name())
        .map_err(|_| fail("cannot read the file"))?;
    let xhr = web_sys::XmlHttpRequest::new().map_err(|_| fail("no XMLHttpRequest"))?;
    xhr.open("POST", path)
        .map_err(|_| fail("cannot open the upload"))?;
    // XMLHttpRequest does not pass through the page's fetch wrapper: sign it here.
    if let Some(data) = init_data() {
        let _ = xhr.set_request_header("Authorization", &format!("tma {data}"));
    }
    let progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                on_progress((e.loaded() / e.total() * 100.0).round() as u32);
            }
        });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let done = js_sys::Promise::new(&mut |resolve, _reject| {
        let resolve2 = resolve.clone();
        let on_load = Closure::once_into_js(move || {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        });
        let on_error = Closure::once_into_js(move || {
            let _ = resolve2.call0(&wasm_bindgen::JsValue::NULL);
        });
        xhr.set_onloadend(Some(on_load.unchecked_ref()));
        xhr.set_onerror(Some(on_error.unchecked_ref()));
    });
    closing_confirmation(true);
    let sent = xhr.send_with_opt_form_data(Some(&form));
    if sent.is_ok() {
        let _ = wasm_bindgen_futures::JsFuture::from(done).await;
    }
    closing_confirmation(false);
    drop(progress);
    let status = xhr.status().unwrap_or(0);
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    if status == 0 {
        return Err(fail(s::UPLOAD_BROKE_OFF()));
    }
    if !(200..300).contains(&status) {
        return Err(error_from(status, &text));
    }
    input.set_value("");
    serde_json::from_str(&text).map_err(|e| CallError {
        status,
        message: fill(s::UNEXPECTED(), &[("detail", &e)]),
    })
}

#[cfg(not(feature = "hydrate"))]
pub async fn upload<T: DeserializeOwned>(
    _path: &str,
    _input_id: &str,
    _on_progress: impl Fn(u32) + 'static,
) -> Result<T, CallError> {
    Err(CallError {
        status: 0,
        message: s::UPLOADS_IN_BROWSER().into(),
    })
}
