//! The product page's price and Buy button: a fixed price with a "Have a code?" field that asks
//! the server for the new price before buying, or, for pay-what-you-want products, an amount
//! prefilled with the suggested price. The server decides; the page only shows its quote.

use super::server_message;
use crate::api::quote_price;
use crate::checkout::BuyButton;
use crate::deals::{PriceChoice, Quote};
use crate::format;
use crate::i18n::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn PricedBuy(
    slug: String,
    price_stars: u32,
    min_price_stars: Option<u32>,
    bundle: bool,
) -> impl IntoView {
    match min_price_stars {
        Some(min) => view! { <PayWhatYouWant slug price_stars min /> }.into_any(),
        None => view! { <WithCode slug price_stars bundle /> }.into_any(),
    }
}

#[component]
fn WithCode(slug: String, price_stars: u32, bundle: bool) -> impl IntoView {
    let i18n = use_i18n();
    let typed = RwSignal::new(String::new());
    let applied = RwSignal::new(None::<Quote>);
    let note = RwSignal::new(None::<String>);
    if bundle {
        // A bundle costs a signed-in buyer less what they paid for the parts they own: the
        // server's quote says how much. Outside Telegram there is no buyer and no quote.
        let slug = slug.clone();
        Effect::new(move |_| {
            let slug = slug.clone();
            spawn_local(async move {
                if let Ok(quote) = quote_price(slug, None, None).await {
                    if quote.credit_stars > 0 {
                        applied.set(Some(quote));
                    }
                }
            });
        });
    }
    let choice = Signal::derive(move || PriceChoice {
        code: applied.get().and_then(|q| q.code),
        amount_stars: None,
        gift: false,
    });
    let amount =
        Signal::derive(move || applied.get().map(|q| q.amount_stars).unwrap_or(price_stars));
    let quote_slug = slug.clone();
    let apply = move || {
        let code = typed.get_untracked().trim().to_owned();
        if code.is_empty() {
            applied.set(None);
            return note.set(None);
        }
        let slug = quote_slug.clone();
        spawn_local(async move {
            match quote_price(slug, Some(code), None).await {
                Ok(quote) => {
                    applied.set(Some(quote));
                    note.set(None);
                }
                Err(err) => {
                    applied.set(None);
                    note.set(Some(server_message(&err)));
                }
            }
        });
    };
    view! {
        <p class="price">
            {move || match applied.get() {
                Some(q) => view! {
                    <s class="list-price">"⭐ " {format::stars(q.list_stars)}</s>
                    " "
                    <span class="deal-price">"⭐ " {format::stars(q.amount_stars)}</span>
                }
                .into_any(),
                None => view! { "⭐ " {format::stars(price_stars)} }.into_any(),
            }}
        </p>
        <BuyButton slug price_stars choice amount />
        <form class="code-form" on:submit=move |ev| {
            ev.prevent_default();
            apply();
        }>
            <label for="discount-code">{t!(i18n, deals.have_code)}</label>
            <div class="code-row">
                <input
                    id="discount-code"
                    name="code"
                    autocomplete="off"
                    autocapitalize="characters"
                    maxlength="32"
                    placeholder=move || t_string!(i18n, deals.code_placeholder).to_string()
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
                <button class="button secondary" type="submit">{t!(i18n, deals.apply)}</button>
            </div>
        </form>
        {move || applied.get().map(|q| {
            let code = q.code.clone().unwrap_or_default();
            let owned = q.owned_parts;
            let (amount, list) = (format::stars(q.amount_stars), format::stars(q.list_stars));
            let (a, l) = (amount.clone(), list.clone());
            let no_code = code.is_empty();
            // Filled as a plain string: an interpolated text would build a view (more code in
            // every buyer's first load, for a note only bundles show).
            let credit = move || {
                crate::texts::fill(
                    t_string!(i18n, deals.bundle_credit),
                    &[("owned", &owned), ("amount", &a), ("list", &l)],
                )
            };
            view! {
                <p class="code-applied" role="status" hidden=no_code>
                    {t!(i18n, deals.applied, code = move || code.clone(), amount = move || amount.clone(), list = move || list.clone())}
                </p>
                <p class="bundle-credit" role="status" hidden={q.credit_stars == 0}>
                    {credit}
                </p>
            }
        })}
        {move || note.get().map(|text| view! { <p class="code-note" role="alert">{text}</p> })}
    }
}

#[component]
fn PayWhatYouWant(slug: String, price_stars: u32, min: u32) -> impl IntoView {
    let i18n = use_i18n();
    let typed = RwSignal::new(price_stars.to_string());
    let parsed = move || typed.get().trim().parse::<u32>().ok();
    let choice = Signal::derive(move || PriceChoice {
        code: None,
        // An unreadable amount goes as 0, so the server's refusal says what the minimum is.
        amount_stars: Some(parsed().unwrap_or(0)),
        gift: false,
    });
    let amount = Signal::derive(move || parsed().unwrap_or(0));
    let too_low = move || parsed().is_none_or(|v| v < min);
    let (min_text, suggested) = (format::stars(min), format::stars(price_stars));
    let low_text = min_text.clone();
    view! {
        <div class="pwyw">
            <label for="pwyw-amount">{t!(i18n, deals.pwyw_label)}</label>
            <input
                id="pwyw-amount"
                name="amount"
                type="number"
                inputmode="numeric"
                min=min
                step="1"
                prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))
            />
            <p class="pwyw-hint">
                {t!(i18n, deals.pwyw_hint, min = move || min_text.clone(), suggested = move || suggested.clone())}
            </p>
            {move || too_low().then(|| {
                let low = low_text.clone();
                view! { <p class="pwyw-low" role="alert">{t!(i18n, deals.pwyw_too_low, min = move || low.clone())}</p> }
            })}
        </div>
        <BuyButton slug price_stars choice amount />
        <p class="pwyw-no-codes muted">{t!(i18n, deals.pwyw_no_codes)}</p>
    }
}
