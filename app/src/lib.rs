//! Starfront's Leptos application. `App` is hydrated in the browser; `shell` wraps it in the HTML
//! document the server renders.

// The studio editor's view types nest deeper than the default limit allows in the wasm build.
#![recursion_limit = "256"]

pub mod api;
mod checkout;
pub mod components;
pub mod format;
mod pages;
pub mod studio;
pub mod webapp;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The name of the hydration bundle (`/pkg/<name>.js`, `.wasm`, `.css`).
pub const OUTPUT_NAME: &str = "starfront";

/// Every same-origin request from inside Telegram carries the Mini App's signed init data, which
/// the server checks on each API call and server function (`Authorization: tma <initData>`).
const TMA_FETCH: &str = r#"(function () {
  var plain = window.fetch;
  window.fetch = function (input, init) {
    var webApp = window.Telegram && window.Telegram.WebApp;
    var data = webApp && webApp.initData;
    var url = typeof input === "string" ? input : input.url;
    if (data && new URL(url, location.href).origin === location.origin) {
      init = Object.assign({}, init);
      var headers = new Headers(init.headers || (typeof input === "string" ? undefined : input.headers));
      if (!headers.has("Authorization")) headers.set("Authorization", "tma " + data);
      init.headers = headers;
    }
    return plain.call(this, input, init);
  };
})();"#;

/// Whether the server runs the browser dev preview; decides which Telegram WebApp script loads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DevPreview(pub bool);

/// Telegram's WebApp script in Telegram; the dev preview's stand-in otherwise.
fn webapp_script() -> &'static str {
    if use_context::<DevPreview>().unwrap_or_default().0 {
        "/dev/webapp.js"
    } else {
        "https://telegram.org/js/telegram-web-app.js"
    }
}

/// The whole HTML document, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <script src=webapp_script()></script>
                <script inner_html=TMA_FETCH></script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, so this flips once the wasm has hydrated the page.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <Stylesheet id="leptos" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <Title formatter=|title: String| {
            if title.is_empty() { "Starfront".to_string() } else { format!("{title} · Starfront") }
        } />
        <Router>
            <div class="app" data-hydrated=move || hydrated.get().then_some("true")>
                <header class="topbar">
                    <a class="brand" href="/">"⭐ Starfront"</a>
                    <a class="nav-link" href="/library">"My library"</a>
                    <a class="nav-link" href="/studio">"Studio"</a>
                </header>
                <main class="content">
                    <Routes fallback=pages::NotFound>
                        <Route path=path!("/") view=pages::Catalog ssr=SsrMode::Async />
                        <Route path=path!("/p/:slug") view=pages::Product ssr=SsrMode::Async />
                        <Route path=path!("/library") view=pages::Library />
                        <Route path=path!("/studio") view=studio::pages::StudioHome />
                        <Route path=path!("/studio/new") view=studio::pages::NewProduct />
                        <Route path=path!("/studio/p/:id") view=studio::pages::EditProduct />
                        <Route path=path!("/studio/sales") view=studio::pages::StudioSales />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
