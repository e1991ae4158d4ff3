//! The studio's reviews (`/studio/reviews`): what buyers wrote about the creator's products, the
//! one reply each review may get, and hiding the abusive ones (they stop counting, and their
//! authors are told). The server checks every rule.

use super::client;
use super::frame::StudioPage;
use super::types::{ReviewHiddenInput, ReviewReplyInput, StudioReview};
use crate::i18n::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

super::studio_texts!(reviews_studio {
    REVIEWS => reviews,
    EMPTY => empty,
    REPLY_LABEL => reply_label,
    SEND_REPLY => send_reply,
    YOUR_REPLY => your_reply,
    HIDE => hide,
    UNHIDE => unhide,
    HIDDEN => hidden,
    REFUNDED => refunded,
});

/// `/studio/reviews`.
#[component]
pub fn StudioReviews() -> impl IntoView {
    view! {
        <StudioPage title=REVIEWS()>
            <ReviewList />
        </StudioPage>
    }
}

#[component]
fn ReviewList() -> impl IntoView {
    let reviews = RwSignal::new(None::<Vec<StudioReview>>);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        spawn_local(async move {
            match client::get::<Vec<StudioReview>>("/api/studio/reviews").await {
                Ok(list) => reviews.set(Some(list)),
                Err(err) => error.set(Some(err.message)),
            }
        });
    });
    view! {
        {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
        {move || match reviews.get() {
            None => ().into_any(),
            Some(list) if list.is_empty() => view! { <p class="status empty">{EMPTY()}</p> }.into_any(),
            Some(list) => view! {
                <ul class="studio-reviews">
                    {list.into_iter().map(|review| view! { <ReviewRow review reviews error /> }).collect_view()}
                </ul>
            }
            .into_any(),
        }}
    }
}

#[component]
fn ReviewRow(
    review: StudioReview,
    reviews: RwSignal<Option<Vec<StudioReview>>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = review.id;
    let reply = RwSignal::new(String::new());
    // Both changes answer with the list as it now is.
    let apply = move |result: Result<Vec<StudioReview>, client::CallError>| match result {
        Ok(list) => {
            error.set(None);
            reviews.set(Some(list));
        }
        Err(err) => error.set(Some(err.message)),
    };
    let send_reply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = ReviewReplyInput {
            text: reply.get_untracked(),
        };
        spawn_local(async move {
            let path = format!("/api/studio/reviews/{id}/reply");
            apply(client::post(&path, Some(&input)).await);
        });
    };
    let hidden = review.hidden;
    let toggle = move |_| {
        let input = ReviewHiddenInput { hidden: !hidden };
        spawn_local(async move {
            let path = format!("/api/studio/reviews/{id}/hidden");
            apply(client::post(&path, Some(&input)).await);
        });
    };
    let stars = usize::from(review.rating.min(5));
    view! {
        <li class="studio-review" data-id=id data-hidden=hidden.then_some("true")>
            <p>
                <strong>{review.product_title}</strong> " · "
                <span class="stars">{"★".repeat(stars)}{"☆".repeat(5 - stars)}</span> " · "
                {review.author}
            </p>
            // Rendered and sanitised on the server.
            <div class="review-body" inner_html=review.body_html></div>
            {hidden.then(|| view! { <p class="badge muted">{HIDDEN()}</p> })}
            {review.refunded.then(|| view! { <p class="badge muted">{REFUNDED()}</p> })}
            {match review.reply_html {
                Some(html) => view! {
                    <div class="review-reply">
                        <p class="muted">{YOUR_REPLY()}</p>
                        <div inner_html=html></div>
                    </div>
                }
                .into_any(),
                None => view! {
                    <form class="studio-form reply-form" on:submit=send_reply>
                        <label>
                            {REPLY_LABEL()}
                            <textarea name="reply" rows="3" maxlength="2000" required
                                prop:value=move || reply.get()
                                on:input=move |ev| reply.set(event_target_value(&ev))></textarea>
                        </label>
                        <button class="button" type="submit">{SEND_REPLY()}</button>
                    </form>
                }
                .into_any(),
            }}
            <button class="button secondary hide-review" type="button" on:click=toggle>
                {if hidden { UNHIDE() } else { HIDE() }}
            </button>
        </li>
    }
}
