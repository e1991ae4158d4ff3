//! "Support the creator": the buyer picks an amount of Stars and pays it through the same
//! Telegram invoice flow as a purchase; the server's word decides when it is paid.

use super::client;
use super::strings as s;
use super::types::{TipCheckout, TipRequest};
use crate::format;
use crate::i18n::td_string;
use crate::webapp;
use leptos::prelude::*;
use leptos::task::spawn_local;

const AMOUNTS: [u32; 4] = [10, 50, 100, 500];

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Closed,
    Choosing,
    Working(&'static str),
    Done,
    Stopped(String),
}

#[component]
pub fn TipButton(slug: String) -> impl IntoView {
    let step = RwSignal::new(Step::Closed);
    let custom = RwSignal::new(String::new());
    let slug = StoredValue::new(slug);
    let tip = move |amount: u32| {
        step.set(Step::Working(td_string!(s::locale(), buy.preparing)));
        let request = TipRequest {
            creator_id: None,
            slug: Some(slug.get_value()),
            amount_stars: amount,
        };
        spawn_local(async move {
            let checkout = match client::post::<TipCheckout, _>("/api/tips", Some(&request)).await {
                Ok(c) => c,
                Err(err) => return step.set(Step::Stopped(err.message)),
            };
            let tip_id = checkout.tip_id.clone();
            let opened = webapp::open_invoice(&checkout.invoice_link, move |status| {
                if status == "cancelled" || status == "failed" {
                    return step.set(Step::Stopped(s::TIP_NOT_SENT().into()));
                }
                step.set(Step::Working(s::TIP_CONFIRMING()));
                spawn_local(confirm(tip_id, step));
            });
            if !opened {
                step.set(Step::Stopped(
                    td_string!(s::locale(), buy.outside_telegram).into(),
                ));
            }
        });
    };
    view! {
        <div class="tip">
            {move || match step.get() {
                Step::Closed => view! {
                    <button class="button secondary tip-button" type="button" on:click=move |_| step.set(Step::Choosing)>
                        "💝 " {s::SUPPORT_CREATOR()}
                    </button>
                }.into_any(),
                Step::Choosing => view! {
                    <div class="tip-amounts" role="group" aria-label=s::SUPPORT_CREATOR()>
                        {AMOUNTS.map(|a| view! {
                            <button class="chip" type="button" on:click=move |_| tip(a)>{format!("⭐ {}", format::stars(a))}</button>
                        }).collect_view()}
                        <input class="tip-custom" type="number" min="1" inputmode="numeric" placeholder=s::TIP_OTHER_AMOUNT() bind:value=custom />
                        <button class="chip" type="button" on:click=move |_| {
                            match custom.get_untracked().trim().parse::<u32>() {
                                Ok(a) if a > 0 => tip(a),
                                _ => step.set(Step::Stopped(s::TIP_WHOLE_NUMBER().into())),
                            }
                        }>"OK"</button>
                    </div>
                }.into_any(),
                Step::Working(text) => view! { <p class="tip-note" role="status">{text}</p> }.into_any(),
                Step::Done => view! { <p class="tip-note tip-done" role="status">{s::TIP_THANKS()}</p> }.into_any(),
                Step::Stopped(text) => view! {
                    <p class="tip-note" role="status">{text}</p>
                    <button class="button secondary tip-button" type="button" on:click=move |_| step.set(Step::Choosing)>
                        {s::SUPPORT_CREATOR()}
                    </button>
                }.into_any(),
            }}
        </div>
    }
}

async fn confirm(tip_id: String, step: RwSignal<Step>) {
    for _ in 0..60 {
        if let Ok(v) = client::get::<serde_json::Value>(&format!("/api/tips/{tip_id}")).await {
            match v["status"].as_str() {
                Some("paid") => return step.set(Step::Done),
                Some("pending") | None => {}
                Some("expired") => return step.set(Step::Stopped(s::TIP_EXPIRED().into())),
                Some(_) => return step.set(Step::Stopped(s::TIP_CANCELLED().into())),
            }
        }
        webapp::sleep(1000).await;
    }
    step.set(Step::Stopped(s::TIP_SLOW().into()));
}
