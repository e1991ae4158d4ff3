//! The browser entry: hydrates the server-rendered page with the same `App`.
// Leptos views are deeply nested types: hydrating the library and the studio's editor needs more
// room than the default limit.
#![recursion_limit = "256"]

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by Leptos' hydration script once the module is instantiated. Lazy routes
/// (app/src/screens.rs) need the asynchronous hydration: a page opened on one of them waits for
/// its module before hydrating.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
