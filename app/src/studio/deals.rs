//! The studio's deals: discount codes (`/studio/discounts`: create, list, switch off) and a
//! product's pay-what-you-want minimum (a section of the product editor). The server checks
//! every field and says which one is wrong.

use super::client::{self, CallError};
use super::frame::StudioPage;
use super::types::{StudioProduct, StudioProductRow};
use crate::deals::{DiscountCode, DiscountCodeInput, PayWhatYouWant};
use crate::format;
use crate::i18n::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

super::studio_texts!(deals_studio {
    DISCOUNTS => discounts,
    NO_DISCOUNTS => no_discounts,
    CODE => code,
    CODE_PRODUCT => code_product,
    ALL_PRODUCTS => all_products,
    PERCENT_OFF => percent_off,
    STARS_OFF => stars_off,
    MAX_USES => max_uses,
    EXPIRES_ON => expires_on,
    CREATE_CODE => create_code,
    DISABLE => disable,
    DISABLED => disabled,
    USES => uses,
    USES_OF => uses_of,
    PWYW => pwyw,
    PWYW_MIN => pwyw_min,
    PWYW_OFF => pwyw_off,
    PWYW_SAVE => pwyw_save,
});

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The end of a `YYYY-MM-DD` day (UTC) in Unix seconds: a code "expires on" a date is good
/// through that whole day.
pub fn end_of_day(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some((days_from_civil(y, m, d) + 1) * 86_400 - 1)
}

/// `/studio/discounts`.
#[component]
pub fn StudioDiscounts() -> impl IntoView {
    view! {
        <StudioPage title=DISCOUNTS()>
            <Discounts />
        </StudioPage>
    }
}

#[component]
fn Discounts() -> impl IntoView {
    let codes = RwSignal::new(Vec::<DiscountCode>::new());
    let products = RwSignal::new(Vec::<StudioProductRow>::new());
    let error = RwSignal::new(None::<String>);
    let load = move || client::load_into("/api/studio/discounts", codes, error, client::message);
    Effect::new(move |_| {
        load();
        spawn_local(async move {
            if let Ok(list) = client::get::<Vec<StudioProductRow>>("/api/studio/products").await {
                products.set(list);
            }
        });
    });

    let code = RwSignal::new(String::new());
    let product = RwSignal::new(String::new());
    let kind = RwSignal::new("percent".to_string());
    let value = RwSignal::new(String::new());
    let max_uses = RwSignal::new(String::new());
    let expires = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Unreadable numbers go as 0 so the server names the field.
        let number = |s: String| (!s.trim().is_empty()).then(|| s.trim().parse().unwrap_or(0));
        let amount = number(value.get_untracked());
        let percent = kind.get_untracked() == "percent";
        let input = DiscountCodeInput {
            code: code.get_untracked(),
            product_id: product.get_untracked().parse().ok(),
            percent_off: if percent { amount } else { None },
            stars_off: if percent { None } else { amount },
            max_uses: number(max_uses.get_untracked()),
            // An unreadable date goes as the epoch, which the server refuses by name.
            expires_at: (!expires.get_untracked().trim().is_empty())
                .then(|| end_of_day(&expires.get_untracked()).unwrap_or(0)),
        };
        spawn_local(async move {
            match client::post::<DiscountCode, _>("/api/studio/discounts", Some(&input)).await {
                Ok(_) => {
                    error.set(None);
                    code.set(String::new());
                    value.set(String::new());
                    max_uses.set(String::new());
                    expires.set(String::new());
                    load();
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let disable = move |id: i64| {
        spawn_local(async move {
            match client::post::<DiscountCode, ()>(
                &format!("/api/studio/discounts/{id}/disable"),
                None,
            )
            .await
            {
                Ok(_) => load(),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };

    view! {
        <form class="studio-form discount-form" on:submit=create>
            <label>
                {CODE()}
                <input name="code" required maxlength="32" autocomplete="off"
                    prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev)) />
            </label>
            <label>
                {CODE_PRODUCT()}
                <select name="product_id" on:change=move |ev| product.set(event_target_value(&ev))>
                    <option value="">{ALL_PRODUCTS()}</option>
                    {move || products.get().into_iter().map(|p| view! {
                        <option value=p.id.to_string()>{p.title}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                <select name="kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="percent">{PERCENT_OFF()}</option>
                    <option value="stars">{STARS_OFF()}</option>
                </select>
                <input name="value" type="number" min="1" required
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            </label>
            <label>
                {MAX_USES()}
                <input name="max_uses" type="number" min="1"
                    prop:value=move || max_uses.get() on:input=move |ev| max_uses.set(event_target_value(&ev)) />
            </label>
            <label>
                {EXPIRES_ON()}
                <input name="expires" type="date"
                    prop:value=move || expires.get() on:input=move |ev| expires.set(event_target_value(&ev)) />
            </label>
            <button class="button" type="submit">{CREATE_CODE()}</button>
        </form>
        {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
        {move || {
            let list = codes.get();
            if list.is_empty() {
                return view! { <p class="status empty">{NO_DISCOUNTS()}</p> }.into_any();
            }
            view! {
                <ul class="discount-codes">
                    {list.into_iter().map(|c| {
                        let off = match (c.percent_off, c.stars_off) {
                            (Some(p), _) => format!("−{p}%"),
                            (_, Some(s)) => format!("−⭐ {}", format::stars(s)),
                            _ => String::new(),
                        };
                        let uses = match c.max_uses {
                            Some(max) => USES_OF()
                                .replace("{used}", &c.used.to_string())
                                .replace("{max}", &max.to_string())
                                .replace("{paid}", &c.paid.to_string()),
                            None => USES()
                                .replace("{used}", &c.used.to_string())
                                .replace("{paid}", &c.paid.to_string()),
                        };
                        let id = c.id;
                        view! {
                            <li class="discount-code" data-code=c.code.clone() data-disabled=c.disabled_at.is_some().then_some("true")>
                                <code>{c.code.clone()}</code>
                                " " <span class="badge">{off}</span>
                                " " <span>{c.product_title.clone().unwrap_or_else(|| ALL_PRODUCTS().to_string())}</span>
                                " · " <span class="uses">{uses}</span>
                                {c.expires_at.map(|at| view! { " · " {EXPIRES_ON()} " " {format::civil_date(at)} })}
                                {if c.disabled_at.is_some() {
                                    view! { " · " <span class="badge status-badge">{DISABLED()}</span> }.into_any()
                                } else {
                                    view! {
                                        " " <button class="button secondary" type="button" on:click=move |_| disable(id)>{DISABLE()}</button>
                                    }.into_any()
                                }}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
}

/// The product editor's pay-what-you-want section: a minimum turns it on.
#[component]
pub fn PayWhatYouWantSection(product: RwSignal<Option<StudioProduct>>) -> impl IntoView {
    let min = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let id = move || product.with_untracked(|p| p.as_ref().map_or(0, |p| p.id));
    Effect::new(move |_| {
        let Some(pid) = product.with(|p| p.as_ref().map(|p| p.id)) else {
            return;
        };
        spawn_local(async move {
            let current: Result<PayWhatYouWant, CallError> =
                client::get(&format!("/api/studio/products/{pid}/pwyw")).await;
            if let Ok(current) = current {
                min.set(
                    current
                        .min_price_stars
                        .map(|m| m.to_string())
                        .unwrap_or_default(),
                );
            }
        });
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = min.get_untracked();
        let input = PayWhatYouWant {
            // Unreadable goes as 0, which the server refuses naming the field.
            min_price_stars: (!typed.trim().is_empty()).then(|| typed.trim().parse().unwrap_or(0)),
        };
        spawn_local(async move {
            match client::put::<PayWhatYouWant, _>(
                &format!("/api/studio/products/{}/pwyw", id()),
                &input,
            )
            .await
            {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                }
                Err(err) => {
                    saved.set(false);
                    error.set(Some(err.message));
                }
            }
        });
    };
    view! {
        <section class="studio-section pwyw-settings">
            <h2>{PWYW()}</h2>
            <form class="studio-form" on:submit=save>
                <label>
                    {PWYW_MIN()}
                    <input name="min_price_stars" type="number" min="1" placeholder=PWYW_OFF()
                        prop:value=move || min.get() on:input=move |ev| {
                            saved.set(false);
                            min.set(event_target_value(&ev));
                        } />
                </label>
                <button class="button secondary" type="submit">{PWYW_SAVE()}</button>
                {move || saved.get().then(|| view! { <span class="status" role="status">"✓"</span> })}
            </form>
            {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expiry_date_lasts_the_whole_day_in_utc() {
        // 2026-11-29 23:59:59 UTC.
        assert_eq!(end_of_day("2026-11-29"), Some(1_795_996_799));
        assert_eq!(end_of_day("1970-01-01"), Some(86_399));
        assert_eq!(end_of_day("2000-03-01"), Some(951_955_199));
        assert_eq!(end_of_day("2026-13-01"), None);
        assert_eq!(end_of_day("soon"), None);
    }
}
