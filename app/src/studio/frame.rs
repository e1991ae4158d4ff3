//! What every studio page shares: the role check, the studio's navigation and the page frame.

use super::client;
use super::locale;
use super::strings as s;
use super::types::{Role, StudioMe};
use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;

/// A studio page: its title, then, for creators and admins, the navigation and `children`.
#[component]
pub(crate) fn StudioPage(title: &'static str, children: ChildrenFn) -> impl IntoView {
    view! {
        <Title text=title />
        <h1 class="page-title">{title}</h1>
        <RequireStudio>
            <StudioNav />
            {children()}
        </RequireStudio>
    }
}

/// The role check every studio page starts with; the server checks again on every call.
#[component]
pub(crate) fn RequireStudio(children: ChildrenFn) -> impl IntoView {
    let me = LocalResource::new(|| client::get::<StudioMe>("/api/studio/me"));
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="status">{s::LOADING()}</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(me) if me.role != Role::Member => children.read_value()().into_any(),
                    Ok(_) => view! {
                        <section class="status error studio-denied" role="alert">
                            <p>{s::NOT_A_CREATOR()}</p>
                            <p>{s::ASK_FOR_INVITE()}</p>
                        </section>
                    }
                    .into_any(),
                    Err(err) => view! {
                        <section class="status error studio-denied" role="alert">
                            <p>{err.message}</p>
                            <p>{s::OPEN_IN_TELEGRAM()}</p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub(crate) fn StudioNav() -> impl IntoView {
    view! {
        <nav class="filters studio-nav" aria-label=s::STUDIO()>
            <a class="chip" href="/studio">{s::PRODUCTS()}</a>
            <a class="chip" href="/studio/sales">{s::SALES()}</a>
            <a class="chip" href="/studio/discounts">{td_string!(locale(), deals_studio.discounts)}</a>
            <a class="chip" href="/studio/charges">{td_string!(locale(), charges_studio.held)}</a>
            <a class="chip" href="/studio/support">{td_string!(locale(), support_studio.inbox)}</a>
            <a class="chip" href="/studio/reach">{td_string!(locale(), reach_studio.reach)}</a>
            <a class="chip" href="/studio/reviews">{td_string!(locale(), reviews_studio.reviews)}</a>
            <a class="chip" href="/studio/licenses">{td_string!(locale(), licenses_studio.licenses)}</a>
            <a class="chip" href="/studio/new">"+ " {s::NEW_PRODUCT()}</a>
        </nav>
    }
}
