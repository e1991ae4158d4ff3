//! `/gift/:code`: a gift link opened in the Mini App (from `startapp=g_<code>` or the payer's
//! library). Whoever opens it first claims it, and the product lands in their library. A screen
//! of its own, loaded when opened.

use super::server_message;
use crate::api::{claim_gift, get_gift, GiftState, GiftView};
use crate::components::Cover;
use crate::i18n::*;
use crate::{texts, webapp};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn Gift() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let gift = LocalResource::new(move || get_gift(code()));
    view! {
        <Title text=t_string!(i18n, gift.title).to_string() />
        <Suspense fallback=move || view! { <p class="status">{t!(i18n, gift.loading)}</p> }>
            {move || Suspend::new(async move {
                match gift.await {
                    Ok(gift) => view! { <GiftCard gift /> }.into_any(),
                    Err(err) => view! {
                        <section class="status error" role="alert">
                            <p>{server_message(&err)}</p>
                            <p>{t!(i18n, gift.outside_telegram)}</p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GiftCard(gift: GiftView) -> impl IntoView {
    let i18n = use_i18n();
    let state = RwSignal::new(gift.state);
    let busy = RwSignal::new(false);
    let refusal = RwSignal::new(None::<String>);
    let code = gift.code.clone();
    let claim = move |_| {
        let code = code.clone();
        busy.set(true);
        spawn_local(async move {
            match claim_gift(code).await {
                Ok(claimed) => {
                    webapp::haptic_notification("success");
                    state.set(claimed.state);
                }
                Err(err) => {
                    webapp::haptic_notification("error");
                    refusal.set(Some(server_message(&err)));
                }
            }
            busy.set(false);
        });
    };
    let from = texts::fill(t_string!(i18n, gift.from), &[("from", &gift.from)]);
    view! {
        <article class="gift" data-state=move || format!("{:?}", state.get())>
            <p class="gift-from">{from}</p>
            <Cover url=gift.cover_url title=gift.title.clone() />
            <h1>
                <a href=format!("/p/{}", gift.slug)>{gift.title}</a>
            </h1>
            {move || match state.get() {
                GiftState::Open => view! {
                    <button class="button gift-claim" type="button" on:click=claim.clone()
                        disabled=move || busy.get()>
                        {move || if busy.get() {
                            t!(i18n, gift.claiming).into_any()
                        } else {
                            t!(i18n, gift.claim).into_any()
                        }}
                    </button>
                }
                .into_any(),
                GiftState::ClaimedByYou => view! {
                    <p class="status gift-yours" role="status">{t!(i18n, gift.claimed_by_you)}</p>
                    <a class="button" href="/library">{t!(i18n, buy.open_library)}</a>
                }
                .into_any(),
                GiftState::Claimed => view! {
                    <p class="status gift-taken" role="status">{t!(i18n, gift.claimed)}</p>
                }
                .into_any(),
                GiftState::Cancelled => view! {
                    <p class="status gift-cancelled" role="status">{t!(i18n, gift.cancelled)}</p>
                }
                .into_any(),
                GiftState::FromYou => view! {
                    <p class="status gift-own" role="status">{t!(i18n, gift.from_you)}</p>
                }
                .into_any(),
            }}
            {move || refusal.get().map(|text| view! { <p class="status error" role="alert">{text}</p> })}
        </article>
    }
}
