//! `/studio/support`: the support inbox. `/paysupport` requests not yet closed, each with the
//! buyer's recent Star charges as the ledger has them; the creator or admin answers (the bot
//! sends the answer to the buyer's chat), refunds a charge, or closes the request. Creators see
//! the requests about their products, admins every one.

use super::client::{self, CallError};
use super::frame::StudioPage;
use super::types::{SupportCharge, SupportRefundInput, SupportReplyInput, SupportRequest};
use crate::format;
use crate::i18n::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

super::studio_texts!(support_studio {
    TITLE => title,
    NO_REQUESTS => no_requests,
    REQUEST => request,
    FROM => from,
    STATUS_OPEN => status_open,
    STATUS_ANSWERED => status_answered,
    STATUS_CLOSED => status_closed,
    CHARGES => charges,
    NO_CHARGES => no_charges,
    TIP => tip,
    STATE_GRANTED => state_granted,
    STATE_HELD => state_held,
    STATE_REFUND_DUE => state_refund_due,
    STATE_REFUNDED => state_refunded,
    REFUND => refund,
    CONFIRM_REFUND => confirm_refund,
    YES_REFUND => yes_refund,
    CANCEL => cancel,
    ANSWERS => answers,
    ANSWER_LABEL => answer_label,
    SEND => send,
    CLOSE => close,
    REPLY_INVALID => reply_invalid,
    NOT_REFUNDABLE => not_refundable,
    FORBIDDEN => forbidden,
    FAILED => failed,
});

fn status(code: &str) -> &'static str {
    match code {
        "open" => STATUS_OPEN(),
        "answered" => STATUS_ANSWERED(),
        _ => STATUS_CLOSED(),
    }
}

fn state(code: &str) -> &'static str {
    match code {
        "granted" => STATE_GRANTED(),
        "held" => STATE_HELD(),
        "refund_due" => STATE_REFUND_DUE(),
        _ => STATE_REFUNDED(),
    }
}

/// A failed call in the reader's language (the server's own message is English).
fn failure(err: &CallError) -> String {
    match err.status {
        400 => REPLY_INVALID(),
        403 | 404 => FORBIDDEN(),
        409 => NOT_REFUNDABLE(),
        _ => FAILED(),
    }
    .to_owned()
}

/// `/studio/support`.
#[component]
pub fn StudioSupport() -> impl IntoView {
    view! {
        <StudioPage title=TITLE()>
            <Inbox />
        </StudioPage>
    }
}

#[component]
fn Inbox() -> impl IntoView {
    let requests = RwSignal::new(Vec::<SupportRequest>::new());
    let error = RwSignal::new(None::<String>);
    let load = move || client::load_into("/api/studio/support", requests, error, failure);
    Effect::new(move |_| load());
    let act = Callback::new(move |result: Result<(), CallError>| match result {
        Ok(()) => {
            error.set(None);
            load();
        }
        Err(err) => error.set(Some(failure(&err))),
    });
    view! {
        {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
        {move || {
            let list = requests.get();
            if list.is_empty() {
                return view! { <p class="status empty">{NO_REQUESTS()}</p> }.into_any();
            }
            view! {
                <ul class="support-requests">
                    {list.into_iter().map(|r| view! { <Request request=r act=act /> }).collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
}

#[component]
fn Request(request: SupportRequest, act: Callback<Result<(), CallError>>) -> impl IntoView {
    let id = request.id;
    let answer = RwSignal::new(String::new());
    let send = move |_| {
        let text = answer.get_untracked();
        spawn_local(async move {
            let body = SupportReplyInput { text };
            let result = client::post::<serde_json::Value, _>(
                &format!("/api/studio/support/{id}/reply"),
                Some(&body),
            )
            .await
            .map(|_| ());
            if result.is_ok() {
                answer.set(String::new());
            }
            act.run(result);
        });
    };
    let close = move |_| {
        spawn_local(async move {
            let result = client::post::<serde_json::Value, ()>(
                &format!("/api/studio/support/{id}/close"),
                None,
            )
            .await
            .map(|_| ());
            act.run(result);
        });
    };
    let charges = request.charges.clone();
    let replies = request.replies.clone();
    view! {
        <li class="support-request" data-request=id.to_string() data-status=request.status.clone()>
            <div class="order-line">
                <strong>{REQUEST()} " " {id}</strong>
                " · " {FROM()} " " {request.buyer_name.clone()}
                " · " <span class="status-chip">{status(&request.status)}</span>
            </div>
            <blockquote class="support-message">{request.message.clone()}</blockquote>
            <h3>{CHARGES()}</h3>
            {if charges.is_empty() {
                view! { <p class="status empty">{NO_CHARGES()}</p> }.into_any()
            } else {
                view! {
                    <ul class="support-charges">
                        {charges.into_iter().map(|c| view! { <Charge request=id charge=c act=act /> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
            {(!replies.is_empty()).then(|| view! {
                <h3>{ANSWERS()}</h3>
                <ul class="support-replies">
                    {replies.into_iter().map(|r| view! { <li>{r.text}</li> }).collect_view()}
                </ul>
            })}
            <label class="field">
                {ANSWER_LABEL()}
                <textarea name="support-answer" rows="3" maxlength="3500" bind:value=answer></textarea>
            </label>
            <div class="order-actions">
                <button class="button" type="button" on:click=send>{SEND()}</button>
                " "
                <button class="button secondary" type="button" on:click=close>{CLOSE()}</button>
            </div>
        </li>
    }
}

#[component]
fn Charge(
    request: i64,
    charge: SupportCharge,
    act: Callback<Result<(), CallError>>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let charge_id = charge.charge_id.clone();
    let refund = move |_| {
        let body = SupportRefundInput {
            charge_id: charge_id.clone(),
        };
        confirming.set(false);
        spawn_local(async move {
            let result = client::post::<serde_json::Value, _>(
                &format!("/api/studio/support/{request}/refund"),
                Some(&body),
            )
            .await
            .map(|_| ());
            act.run(result);
        });
    };
    let subject = match (charge.kind.as_str(), charge.subject.clone()) {
        ("tip", Some(creator)) => format!("{} {creator}", TIP()),
        (_, Some(title)) => title,
        (_, None) => charge.charge_id.clone(),
    };
    view! {
        <li class="support-charge" data-charge=charge.charge_id.clone() data-state=charge.state.clone()>
            <span>{subject} " · ⭐ " {format::stars(charge.amount_stars)} " · " {state(&charge.state)}</span>
            {charge.refundable.then(|| view! {
                " "
                {move || if confirming.get() {
                    let refund = refund.clone();
                    view! {
                        <span class="confirm" role="alert">{CONFIRM_REFUND()}</span>
                        " "
                        <button class="button danger" type="button" on:click=refund>{YES_REFUND()}</button>
                        " "
                        <button class="button secondary" type="button" on:click=move |_| confirming.set(false)>{CANCEL()}</button>
                    }
                    .into_any()
                } else {
                    view! {
                        <button class="button secondary" type="button" on:click=move |_| confirming.set(true)>{REFUND()}</button>
                    }
                    .into_any()
                }}
            })}
        </li>
    }
}
