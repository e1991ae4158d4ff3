//! `/p/:slug/review`: the signed-in buyer rates a product and writes what they thought, or edits
//! what they wrote. A screen of its own, loaded when opened: most buyers read reviews, few write.

use super::server_message;
use crate::api::{get_my_review, save_review, MyReview};
use crate::i18n::*;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn WriteReview() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let mine = LocalResource::new(move || get_my_review(slug()));
    view! {
        <Title text=t_string!(i18n, reviews.your_review).to_string() />
        <h1 class="page-title">{t!(i18n, reviews.your_review)}</h1>
        <Suspense fallback=move || view! { <p class="status">{t!(i18n, reviews.loading)}</p> }>
            {move || Suspend::new(async move {
                match mine.await {
                    Ok(review) if review.eligible => {
                        view! { <ReviewForm slug=slug() review /> }.into_any()
                    }
                    Ok(_) => view! {
                        <p class="status not-eligible" role="status">{t!(i18n, reviews.not_eligible)}</p>
                    }
                    .into_any(),
                    Err(err) => view! {
                        <p class="status error" role="alert">{server_message(&err)}</p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
        <a class="button secondary" href=move || format!("/p/{}", slug())>{t!(i18n, reviews.back)}</a>
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Saving {
    Idle,
    Working,
    Saved,
    Refused(String),
}

#[component]
fn ReviewForm(slug: String, review: MyReview) -> impl IntoView {
    let i18n = use_i18n();
    let rating = RwSignal::new(review.rating.unwrap_or(0));
    let body = RwSignal::new(review.body.clone());
    let hidden = RwSignal::new(review.hidden);
    let state = RwSignal::new(Saving::Idle);
    let slug = StoredValue::new(slug);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if rating.get_untracked() == 0 {
            state.set(Saving::Refused(
                t_string!(i18n, reviews.pick_rating).to_string(),
            ));
            return;
        }
        state.set(Saving::Working);
        spawn_local(async move {
            match save_review(
                slug.get_value(),
                rating.get_untracked(),
                body.get_untracked(),
            )
            .await
            {
                Ok(saved) => {
                    hidden.set(saved.hidden);
                    state.set(Saving::Saved);
                }
                Err(err) => state.set(Saving::Refused(server_message(&err))),
            }
        });
    };
    let star = move |stars: u8| {
        view! {
            <label class="star" data-selected=move || (rating.get() >= stars).then_some("true")>
                <input type="radio" name="rating" value=stars
                    prop:checked=move || rating.get() == stars
                    on:change=move |_| rating.set(stars) />
                <span aria-hidden="true">"★"</span>
                <span class="visually-hidden">{t!(i18n, reviews.star, stars = move || stars)}</span>
            </label>
        }
    };
    view! {
        <p class="status review-hidden" role="status" hidden=move || !hidden.get()>
            {t!(i18n, reviews.hidden)}
        </p>
        <form class="review-form" on:submit=submit>
            <fieldset class="stars-input">
                <legend>{t!(i18n, reviews.your_rating)}</legend>
                {(1..=5u8).map(star).collect_view()}
            </fieldset>
            <label>
                {t!(i18n, reviews.body_label)}
                <textarea name="body" rows="5" maxlength="2000"
                    prop:value=move || body.get()
                    on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            </label>
            <button class="button" type="submit" disabled=move || state.get() == Saving::Working>
                {t!(i18n, reviews.save)}
            </button>
            <p class="review-state" role="status" data-state=move || match state.get() {
                Saving::Saved => "saved",
                Saving::Refused(_) => "refused",
                _ => "idle",
            }>
                {move || match state.get() {
                    Saving::Saved => t_string!(i18n, reviews.saved).to_string(),
                    Saving::Refused(message) => message,
                    _ => String::new(),
                }}
            </p>
        </form>
        {review.reply_html.map(|reply| view! {
            <div class="review-reply">
                <p class="muted">{t!(i18n, reviews.reply)}</p>
                <div inner_html=reply></div>
            </div>
        })}
    }
}
