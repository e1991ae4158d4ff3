//! The Buy button: order on the server, Stars invoice in Telegram, then the server's word on
//! whether it was paid (the invoice's own close status is only a hint). Inside Telegram the
//! MainButton does the same.

use crate::api::{checkout_status, start_checkout, OrderState};
use crate::deals::PriceChoice;
use crate::format;
use crate::i18n::*;
use crate::pages::server_message;
use crate::webapp;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Idle,
    Preparing,
    Confirming,
    Paid,
    Cancelled,
    Failed,
    OutsideTelegram,
    Slow,
    Settled(OrderState),
    Refused(String),
}

impl Step {
    fn busy(&self) -> bool {
        matches!(self, Step::Preparing | Step::Confirming)
    }
}

/// How long the page waits for the payment to reach the server after the invoice closes.
const CONFIRM_POLLS: u32 = 60;

/// `choice` carries a discount code or a pay-what-you-want amount (see `crate::deals`), and
/// `amount` what the button shows; without them the product's price is paid. A `gift` button
/// buys the same for somebody else: its link waits in the library, and Telegram's MainButton
/// stays the buyer's own Buy.
#[component]
pub fn BuyButton(
    slug: String,
    price_stars: u32,
    #[prop(optional, into)] choice: Option<Signal<PriceChoice>>,
    #[prop(optional, into)] amount: Option<Signal<u32>>,
    #[prop(optional)] gift: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let step = RwSignal::new(Step::Idle);
    let choice = choice.unwrap_or_else(|| Signal::stored(PriceChoice::default()));
    let shown = amount.unwrap_or_else(|| Signal::stored(price_stars));
    let buy = move || {
        if step.get_untracked().busy() {
            return;
        }
        let slug = slug.clone();
        let PriceChoice {
            code, amount_stars, ..
        } = choice.get_untracked();
        step.set(Step::Preparing);
        spawn_local(async move {
            let checkout = match start_checkout(slug, code, amount_stars, gift).await {
                Ok(checkout) => checkout,
                Err(err) => {
                    webapp::haptic_notification("error");
                    return step.set(Step::Refused(server_message(&err)));
                }
            };
            let order_id = checkout.order_id.clone();
            let opened = webapp::open_invoice(&checkout.invoice_link, move |status| {
                match status.as_str() {
                    "cancelled" => step.set(Step::Cancelled),
                    "failed" => {
                        webapp::haptic_notification("error");
                        step.set(Step::Failed);
                    }
                    _ => {
                        step.set(Step::Confirming);
                        spawn_local(confirm(order_id, step));
                    }
                }
            });
            if !opened {
                step.set(Step::OutsideTelegram);
            }
        });
    };
    let amount = move || format::stars(shown.get());
    if !gift {
        webapp::use_main_button(
            move || {
                (step.get() != Step::Paid)
                    .then(|| format!("{} · ⭐ {}", t_string!(i18n, buy.main_button), amount()))
            },
            move || step.get().busy(),
            buy.clone(),
        );
    }

    view! {
        <div class="buy" data-step=move || match step.get() {
            Step::Idle => "idle",
            Step::Preparing | Step::Confirming => "working",
            Step::Paid => "paid",
            _ => "stopped",
        }>
            {move || match step.get() {
                Step::Paid => view! {
                    <p class="buy-done" role="status">
                        {if gift { t_string!(i18n, buy.gift_paid) } else { t_string!(i18n, buy.paid) }}
                    </p>
                    <a class="button" href="/library">{t!(i18n, buy.open_library)}</a>
                }
                .into_any(),
                current => {
                    let busy = current.busy();
                    let buy = buy.clone();
                    view! {
                        <button
                            class=if gift { "button gift-button secondary" } else { "button buy-button" }
                            type="button"
                            on:click=move |_| buy()
                            disabled=busy
                        >
                            {if gift {
                                t!(i18n, buy.gift_button).into_any()
                            } else {
                                t!(i18n, buy.button, amount = amount).into_any()
                            }}
                        </button>
                        <StepNote step=current />
                    }
                    .into_any()
                }
            }}
        </div>
    }
}

#[component]
fn StepNote(step: Step) -> impl IntoView {
    let i18n = use_i18n();
    let text = move || match &step {
        Step::Idle | Step::Paid => None,
        Step::Preparing => Some(t_string!(i18n, buy.preparing).to_string()),
        Step::Confirming => Some(t_string!(i18n, buy.confirming).to_string()),
        Step::Cancelled => Some(t_string!(i18n, buy.cancelled).to_string()),
        Step::Failed => Some(t_string!(i18n, buy.failed).to_string()),
        Step::OutsideTelegram => Some(t_string!(i18n, buy.outside_telegram).to_string()),
        Step::Slow => Some(t_string!(i18n, buy.slow).to_string()),
        Step::Settled(state) => Some(
            match state {
                OrderState::Pending => t_string!(i18n, buy.order_state.pending),
                OrderState::Paid => t_string!(i18n, buy.order_state.paid),
                OrderState::Refunded => t_string!(i18n, buy.order_state.refunded),
                OrderState::Cancelled => t_string!(i18n, buy.order_state.cancelled),
                OrderState::Expired => t_string!(i18n, buy.order_state.expired),
            }
            .to_string(),
        ),
        Step::Refused(message) => Some(message.clone()),
    };
    move || text().map(|text| view! { <p class="buy-note" role="status">{text}</p> })
}

async fn confirm(order_id: String, step: RwSignal<Step>) {
    for _ in 0..CONFIRM_POLLS {
        match checkout_status(order_id.clone()).await {
            Ok(OrderState::Paid) => {
                webapp::haptic_notification("success");
                return step.set(Step::Paid);
            }
            Ok(OrderState::Pending) => {}
            Ok(other) => return step.set(Step::Settled(other)),
            // A blip while polling is not the end of the purchase.
            Err(_) => {}
        }
        webapp::sleep(1000).await;
    }
    step.set(Step::Slow);
}
