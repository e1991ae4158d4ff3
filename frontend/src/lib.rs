//! The browser entry: hydrates the server-rendered page with the same `App`.
// Leptos views are deeply nested types; hydration code for the library page needs more room.
#![recursion_limit = "256"]

// The studio's view types (in `app`) nest deeper than the default limit allows.
#![recursion_limit = "256"]

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by Leptos' hydration script once the module is instantiated.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
