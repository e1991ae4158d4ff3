//! The Buy button: order on the server, Stars invoice in Telegram, then the server's word on
//! whether it was paid (the invoice's own close status is only a hint).

use crate::api::{checkout_status, start_checkout, OrderState};
use crate::format;
use crate::webapp;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Idle,
    Working(&'static str),
    Paid,
    Stopped(String),
}

/// How long the page waits for the payment to reach the server after the invoice closes.
const CONFIRM_POLLS: u32 = 60;

#[component]
pub fn BuyButton(slug: String, price_stars: u32) -> impl IntoView {
    let step = RwSignal::new(Step::Idle);
    let buy = move |_| {
        let slug = slug.clone();
        step.set(Step::Working("Preparing the invoice…"));
        spawn_local(async move {
            let checkout = match start_checkout(slug).await {
                Ok(checkout) => checkout,
                Err(err) => return step.set(Step::Stopped(server_message(&err))),
            };
            let order_id = checkout.order_id.clone();
            let opened = webapp::open_invoice(&checkout.invoice_link, move |status| {
                if status == "cancelled" {
                    step.set(Step::Stopped(
                        "Payment cancelled. You were not charged.".into(),
                    ));
                    return;
                }
                if status == "failed" {
                    step.set(Step::Stopped(
                        "The payment failed. You were not charged.".into(),
                    ));
                    return;
                }
                step.set(Step::Working("Confirming your payment…"));
                spawn_local(confirm(order_id, step));
            });
            if !opened {
                step.set(Step::Stopped(
                    "Open Starfront inside Telegram to pay with Stars.".into(),
                ));
            }
        });
    };

    view! {
        <div class="buy" data-step=move || match step.get() {
            Step::Idle => "idle",
            Step::Working(_) => "working",
            Step::Paid => "paid",
            Step::Stopped(_) => "stopped",
        }>
            {move || match step.get() {
                Step::Paid => view! {
                    <p class="buy-done" role="status">"Paid! It is in your library."</p>
                    <a class="button" href="/library">"Open my library"</a>
                }
                .into_any(),
                current => {
                    let busy = matches!(current, Step::Working(_));
                    let note = match current {
                        Step::Working(text) => Some(text.to_string()),
                        Step::Stopped(text) => Some(text),
                        _ => None,
                    };
                    view! {
                        <button class="button buy-button" type="button" on:click=buy.clone() disabled=busy>
                            {format!("Buy for ⭐ {}", format::stars(price_stars))}
                        </button>
                        {note.map(|text| view! { <p class="buy-note" role="status">{text}</p> })}
                    }
                    .into_any()
                }
            }}
        </div>
    }
}

async fn confirm(order_id: String, step: RwSignal<Step>) {
    for _ in 0..CONFIRM_POLLS {
        match checkout_status(order_id.clone()).await {
            Ok(OrderState::Paid) => return step.set(Step::Paid),
            Ok(OrderState::Pending) => {}
            Ok(other) => {
                return step.set(Step::Stopped(format!(
                    "This order is {}.",
                    format!("{other:?}").to_lowercase()
                )))
            }
            // A blip while polling is not the end of the purchase.
            Err(_) => {}
        }
        webapp::sleep(1000).await;
    }
    step.set(Step::Stopped(
        "Your payment is taking longer than usual. It will appear in your library once Telegram confirms it."
            .into(),
    ));
}

/// The message a server function error carries, without the transport's prefix.
fn server_message(err: &ServerFnError) -> String {
    match err {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}
