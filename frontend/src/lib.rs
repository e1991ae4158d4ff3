//! The browser entry: hydrates the server-rendered page with the same `App`.
// Leptos views are deeply nested types: hydrating the library and the studio's editor needs more
// room than the default limit.
#![recursion_limit = "256"]

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by Leptos' hydration script once the module is instantiated.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
