//! Starfront's Leptos application. `App` is hydrated in the browser; `shell` wraps it in the HTML
//! document the server renders.

// The studio editor's view types nest deeper than the default limit allows in the wasm build.
#![recursion_limit = "256"]

pub mod api;
mod checkout;
pub mod components;
pub mod deals;
pub mod format;
mod pages;
mod screens;
pub mod studio;
pub mod texts;
pub mod webapp;

// The typed translations (`i18n::Locale`, `t!`, `td_string!`) generated from `app/locales/*.json`.
// The macro is deprecated in favour of a build script, but that build script's dependencies
// (ICU data exporters, rayon, an HTTP client) would add minutes to every clean build on our
// 2-core CI for no change in the generated code.
#[allow(deprecated)]
mod i18n_gen {
    leptos_i18n::load_locales!();
}
pub use i18n_gen::i18n;

use i18n::*;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{path, Lazy, NavigateOptions, SsrMode};

/// The name of the hydration bundle before content hashing (`/pkg/<name>.js`, `.wasm`, `.css`).
pub const OUTPUT_NAME: &str = "starfront";

/// The built front end's file names under `/pkg/`. scripts/build.sh names each file by its
/// content (`starfront.<hash>.js` and `.wasm` share one hash: the glue belongs to its wasm) and
/// writes these names beside the site; the server reads them once at start, sets Leptos'
/// `output_name` to `bundle` (so `HydrationScripts` loads `<bundle>.js` and `<bundle>.wasm`) and
/// provides this as context for the stylesheet link. A new build is a new name, so browsers may
/// keep every file for a year without asking again.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assets {
    /// `<bundle>.js` and `<bundle>.wasm`.
    pub bundle: String,
    /// The stylesheet's file name.
    pub css: String,
}

impl Default for Assets {
    /// The names of an unhashed build (no manifest beside the site).
    fn default() -> Self {
        Self {
            bundle: OUTPUT_NAME.to_owned(),
            css: format!("{OUTPUT_NAME}.css"),
        }
    }
}

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
    let stylesheet = format!(
        "/{}/{}",
        options.site_pkg_dir,
        use_context::<Assets>().unwrap_or_default().css
    );
    view! {
        <!DOCTYPE html>
        // `lang` comes from the i18n provider, so the browser hydrates with the server's locale.
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <link rel="stylesheet" href=stylesheet />
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
    #[cfg(feature = "ssr")]
    provide_server_i18n();
    view! {
        <I18nContextProvider>
            <Router>
                <Shell />
            </Router>
        </I18nContextProvider>
    }
}

/// The i18n context of a server render, provided before `I18nContextProvider` (which then uses
/// it instead of making its own).
///
/// leptos_i18n 0.6 keeps its language cookie in step with an isomorphic effect, which on the
/// server is a task spawned on the runtime, not run during the render. A worker thread may poll
/// it while the render's owner is being disposed (route listing disposes of its render at once)
/// and it then reads the disposed locale signal: the panic in reactive_graph's `traits.rs`. Here
/// the context is made under an owner of its own that is paused at once, so the effect does not
/// run on the server (a run begun before the pause finds the render just started, all alive);
/// the cookie is still read on the server, and the browser still writes it. The options must
/// stay those `<I18nContextProvider>` is given (none).
#[cfg(feature = "ssr")]
fn provide_server_i18n() {
    let Some(parent) = Owner::current() else {
        return;
    };
    let owner = parent.child();
    let i18n = owner.with(leptos_i18n::context::init_i18n_context::<Locale>);
    owner.pause();
    provide_context(i18n);
    // The parent keeps the owner, and with it the context's signals, for as long as it lives.
    StoredValue::new(owner);
}

/// Telegram's language for the app unless the user picked one here (remembered in the
/// browser); None when it is already in use.
#[cfg(feature = "hydrate")]
fn telegram_locale(current: Locale) -> Option<Locale> {
    let chosen_here = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(LANGUAGE_CHOSEN_KEY).ok().flatten())
        .is_some();
    if chosen_here {
        return None;
    }
    let wanted = locale_for(&webapp::language_code()?);
    (wanted != current).then_some(wanted)
}

#[cfg(feature = "hydrate")]
const LANGUAGE_CHOSEN_KEY: &str = "starfront_language_chosen";

/// The app's locale for a Telegram `language_code` (English unless we speak it).
pub fn locale_for(language_code: &str) -> Locale {
    spoken_locale(language_code).unwrap_or(Locale::en)
}

/// The shop's locale for a language tag (`ru`, `ru-RU`, `en_GB`), if the shop speaks it.
pub fn spoken_locale(language_code: &str) -> Option<Locale> {
    let primary = language_code.split(['-', '_']).next().unwrap_or_default();
    match primary.to_ascii_lowercase().as_str() {
        "ru" => Some(Locale::ru),
        "en" => Some(Locale::en),
        _ => None,
    }
}

#[component]
fn Shell() -> impl IntoView {
    let i18n = use_i18n();
    // Effects run only in the browser, so this flips once the wasm has hydrated the page.
    let (hydrated, set_hydrated) = signal(false);
    let location = use_location();
    let navigate = use_navigate();
    // Pages seen in this visit: the BackButton goes back while there is somewhere to go.
    let depth = RwSignal::new(0u32);
    Effect::new(move |_| {
        webapp::init();
        #[cfg(feature = "hydrate")]
        if let Some(locale) = telegram_locale(i18n.get_locale_untracked()) {
            i18n.set_locale(locale);
        }
        let back = navigate.clone();
        webapp::use_back_button(move || {
            if depth.get_untracked() > 1 && webapp::history_back() {
                return;
            }
            back("/", NavigateOptions::default());
        });
        open_deep_link(navigate.clone());
        set_hydrated.set(true);
    });
    Effect::new(move |_| {
        let path = location.pathname.get();
        depth.update(|d| *d += 1);
        webapp::set_back_button(path != "/");
    });

    let switch_language = move |ev: leptos::ev::Event| {
        let locale = locale_for(&event_target_value(&ev));
        #[cfg(feature = "hydrate")]
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(LANGUAGE_CHOSEN_KEY, locale.as_str());
        }
        i18n.set_locale(locale);
    };

    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "Starfront".to_string() } else { format!("{title} · Starfront") }
        } />
        <div class="app" data-hydrated=move || hydrated.get().then_some("true")>
            <header class="topbar">
                <a class="brand" href="/">{t!(i18n, brand)}</a>
                <nav class="topnav" aria-label=move || t_string!(i18n, nav.main)>
                    <a class="nav-link" href="/library">{t!(i18n, nav.library)}</a>
                    <a class="nav-link" href="/studio">{t!(i18n, nav.studio)}</a>
                    <label class="language">
                        <span class="visually-hidden">{t!(i18n, nav.language)}</span>
                        <select class="language-select" on:change=switch_language prop:value=move || i18n.get_locale().as_str()>
                            <option value="en" selected=move || i18n.get_locale() == Locale::en>"EN"</option>
                            <option value="ru" selected=move || i18n.get_locale() == Locale::ru>"RU"</option>
                        </select>
                    </label>
                </nav>
            </header>
            <main class="content">
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::Catalog ssr=SsrMode::Async />
                    <Route path=path!("/p/:slug") view=pages::Product ssr=SsrMode::Async />
                    <Route path=path!("/p/:slug/review") view={Lazy::<screens::WriteReviewScreen>::new()} />
                    // Lazy routes: their code is fetched when they open (app/src/screens.rs).
                    <Route path=path!("/library") view={Lazy::<screens::LibraryScreen>::new()} />
                    <Route path=path!("/gift/:code") view={Lazy::<screens::GiftScreen>::new()} />
                    <Route path=path!("/learn/:slug") view={Lazy::<screens::CourseScreen>::new()} />
                    <Route path=path!("/learn/:slug/:lesson") view={Lazy::<screens::LessonScreen>::new()} />
                    <Route path=path!("/read/:file") view={Lazy::<screens::ReaderScreen>::new()} />
                    <Route path=path!("/read/sample/:slug") view={Lazy::<screens::ReaderScreen>::new()} />
                    <Route path=path!("/studio") view={Lazy::<screens::StudioHomeScreen>::new()} />
                    <Route path=path!("/studio/new") view={Lazy::<screens::NewProductScreen>::new()} />
                    <Route path=path!("/studio/p/:id") view={Lazy::<screens::EditProductScreen>::new()} />
                    <Route path=path!("/studio/sales") view={Lazy::<screens::StudioSalesScreen>::new()} />
                    <Route path=path!("/studio/discounts") view={Lazy::<screens::StudioDiscountsScreen>::new()} />
                    <Route path=path!("/studio/charges") view={Lazy::<screens::StudioChargesScreen>::new()} />
                    <Route path=path!("/studio/support") view={Lazy::<screens::StudioSupportScreen>::new()} />
                    <Route path=path!("/studio/reach") view={Lazy::<screens::StudioReachScreen>::new()} />
                    <Route path=path!("/studio/reviews") view={Lazy::<screens::StudioReviewsScreen>::new()} />
                    <Route path=path!("/studio/licenses") view={Lazy::<screens::StudioLicensesScreen>::new()} />
                </Routes>
            </main>
        </div>
    }
}

/// Opens the page a `startapp` deep link names, once per visit (a reload stays where it is):
/// a product (`p_<slug>`) or a gift (`g_<code>`) at once, a creator's link (`r_<code>`) once
/// the server has counted the visit and said where it lands.
fn open_deep_link(navigate: impl Fn(&str, NavigateOptions) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        const SEEN: &str = "starfront_start_param_seen";
        let Some(param) = webapp::start_param() else {
            return;
        };
        let product = webapp::start_param_path(&param);
        if product.is_none() && !param.starts_with("r_") {
            return;
        }
        let storage = web_sys::window().and_then(|w| w.session_storage().ok().flatten());
        if let Some(storage) = &storage {
            if storage.get_item(SEEN).ok().flatten().is_some() {
                return;
            }
            let _ = storage.set_item(SEEN, "1");
        }
        let go = move |path: &str| {
            let replace = NavigateOptions {
                replace: true,
                ..Default::default()
            };
            navigate(path, replace)
        };
        match product {
            Some(path) => go(&path),
            None => leptos::task::spawn_local(async move {
                if let Some(path) = follow_link().await {
                    go(&path);
                }
            }),
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = navigate;
}

/// Counts the visit of the creator's link the app was opened with and says where it lands.
/// Split out of the first load: most openings come through no such link.
#[cfg(feature = "hydrate")]
#[leptos::lazy]
async fn follow_link() -> Option<String> {
    api::follow_link().await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_languages_pick_a_locale() {
        assert_eq!(locale_for("ru"), Locale::ru);
        assert_eq!(locale_for("ru-RU"), Locale::ru);
        assert_eq!(locale_for("en"), Locale::en);
        assert_eq!(locale_for("de"), Locale::en);
        assert_eq!(locale_for(""), Locale::en);
    }
}
