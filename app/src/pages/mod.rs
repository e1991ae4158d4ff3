//! One component per route, and the states every page shares.

mod catalog;
mod course;
mod gift;
mod library;
mod price;
mod product;
mod reader;
mod review;

pub use catalog::Catalog;
pub use course::{Course, Lesson};
pub use gift::Gift;
pub use library::Library;
pub use product::Product;
#[cfg(feature = "ssr")]
pub use product::{bundle_html, reviews_html, tracks_html};
pub use reader::Reader;
pub use review::WriteReview;

use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;

/// Any unknown path, and a product that does not exist (or is not published).
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, not_found.title).to_string() />
        <section class="status not-found">
            <h1>{t!(i18n, not_found.title)}</h1>
            <p>{t!(i18n, not_found.text)}</p>
            <a class="button" href="/">{t!(i18n, not_found.back)}</a>
        </section>
    }
}

/// A failed load: what happened and what to do about it.
#[component]
pub(crate) fn ErrorNote(message: String, #[prop(optional)] hint: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let hint_shown = hint.is_some();
    view! {
        <section class="status error" role="alert">
            <p>{t!(i18n, error.title, message = move || message.clone())}</p>
            {match hint {
                Some(hint) => view! { <p>{hint}</p> }.into_any(),
                None => view! { <p>{t!(i18n, error.retry)}</p> }.into_any(),
            }}
            {(!hint_shown).then(|| view! {
                <a class="button secondary" href="" on:click=|ev| {
                    ev.prevent_default();
                    reload();
                }>{t!(i18n, error.try_again)}</a>
            })}
        </section>
    }
}

fn reload() {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

/// The message a server function error carries, without the transport's prefix.
pub(crate) fn server_message(err: &ServerFnError) -> String {
    match err {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}
