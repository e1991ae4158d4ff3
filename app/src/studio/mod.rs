//! The creator studio: a section of the Mini App where creators upload, publish and sell, see
//! their sales and refund buyers. Its pages load everything in the browser from the studio's
//! JSON API (`/api/studio/*`), which checks the caller's role on every request.

pub mod bundles;
pub mod charges;
pub mod client;
pub mod deals;
pub mod frame;
pub mod licenses;
pub mod pages;
pub mod reach;
pub mod reviews;
pub mod strings;
pub mod support;
pub mod tip;
pub mod types;

/// The language the studio's texts are read in.
pub(crate) fn locale() -> crate::i18n::Locale {
    leptos::prelude::use_context::<leptos_i18n::I18nContext<crate::i18n::Locale>>()
        .map(|i18n| i18n.get_locale_untracked())
        .unwrap_or_default()
}

/// One function per text of a locale section: `studio_texts!(section { NAME => key, … })`.
macro_rules! studio_texts {
    ($section:ident { $($name:ident => $key:ident),* $(,)? }) => {
        $(
            #[allow(non_snake_case)]
            fn $name() -> &'static str {
                td_string!(super::locale(), $section.$key)
            }
        )*
    };
}
pub(crate) use studio_texts;
