//! `/studio/charges`: Star charges the shop's ledger holds for a person (an amount that differs
//! from the order's, a refund Telegram refused, …), each with its reason and one tap to refund
//! it or grant what it paid for. Creators see their own products' and tips' charges, admins all.

use super::client;
use super::frame::StudioPage;
use super::types::HeldCharge;
use crate::format;
use crate::i18n::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

super::studio_texts!(charges_studio {
    HELD => held,
    NO_HELD => no_held,
    BUYER => buyer,
    REFUND => refund,
    GRANT => grant,
    REASON_AMOUNT => reason_amount,
    REASON_CURRENCY => reason_currency,
    REASON_PAYER => reason_payer,
    REASON_REFUSED => reason_refused,
    REASON_BILLING => reason_billing,
    REASON_OTHER => reason_other,
});

/// Why the ledger holds a charge, in the reader's language (the code itself when unknown).
fn reason(code: &str) -> String {
    match code {
        "amount_mismatch" => REASON_AMOUNT().to_owned(),
        "wrong_currency" => REASON_CURRENCY().to_owned(),
        "unknown_payer" => REASON_PAYER().to_owned(),
        "refund_refused" => REASON_REFUSED().to_owned(),
        "not_a_subscription_charge" | "unexpected_subscription" => REASON_BILLING().to_owned(),
        other => format!("{} ({other})", REASON_OTHER()),
    }
}

/// `/studio/charges`.
#[component]
pub fn StudioCharges() -> impl IntoView {
    view! {
        <StudioPage title=HELD()>
            <HeldCharges />
        </StudioPage>
    }
}

#[component]
fn HeldCharges() -> impl IntoView {
    let charges = RwSignal::new(Vec::<HeldCharge>::new());
    let error = RwSignal::new(None::<String>);
    let load =
        move || client::load_into("/api/studio/charges/held", charges, error, client::message);
    Effect::new(move |_| load());
    let settle = move |charge_id: String, action: &'static str| {
        spawn_local(async move {
            match client::post::<serde_json::Value, ()>(
                &format!("/api/studio/charges/{charge_id}/{action}"),
                None,
            )
            .await
            {
                Ok(_) => {
                    error.set(None);
                    load();
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
        {move || {
            let list = charges.get();
            if list.is_empty() {
                return view! { <p class="status empty">{NO_HELD()}</p> }.into_any();
            }
            view! {
                <ul class="held-charges">
                    {list.into_iter().map(|c| {
                        let (refund_id, grant_id) = (c.charge_id.clone(), c.charge_id.clone());
                        view! {
                            <li class="held-charge" data-charge=c.charge_id.clone()>
                                <div class="order-line">
                                    <strong>{c.subject.clone().unwrap_or_default()}</strong>
                                    " · " {BUYER()} " " {c.payer_id}
                                    " · ⭐ " {format::stars(c.amount_stars)}
                                    " · " <span class="reason">{reason(&c.reason)}</span>
                                </div>
                                <div class="order-actions">
                                    <button class="button danger" type="button"
                                        on:click=move |_| settle(refund_id.clone(), "refund")>{REFUND()}</button>
                                    " "
                                    <button class="button secondary" type="button"
                                        on:click=move |_| settle(grant_id.clone(), "grant")>{GRANT()}</button>
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
}
