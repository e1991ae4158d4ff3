//! `/p/:slug`: one product, its sample or free lessons, and the Buy button.

use super::price::PricedBuy;
use super::{server_message, ErrorNote, NotFound};
use crate::api::{
    get_product, share_product, Billing, BookFormat, ProductKind, ProductPage, Share,
};
#[cfg(feature = "ssr")]
use crate::api::{AudioTrack, BundlePart, Reviews};
use crate::components::{Cover, KindLabel};
use crate::format;
use crate::i18n::*;
use crate::webapp;
use leptos::lazy;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

#[component]
pub fn Product() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let product = Resource::new(slug, get_product);

    view! {
        <Suspense fallback=move || view! { <p class="status">{t!(i18n, product.loading)}</p> }>
            {move || Suspend::new(async move {
                match product.await {
                    Ok(Some(page)) => view! { <ProductView page /> }.into_any(),
                    Ok(None) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <ErrorNote message=server_message(&err) /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProductView(page: ProductPage) -> impl IntoView {
    let i18n = use_i18n();
    let card = page.card;
    let size = format::bytes(page.content_bytes);
    let files = page.content_files;
    let creator = card.creator_name.clone();
    let summary: String = page.description.chars().take(160).collect();
    let slug = card.slug.clone();
    let preview = page.lessons.iter().find(|l| l.is_preview).map(|l| l.id);
    view! {
        <Title text=card.title.clone() />
        <Meta name="description" content=summary />
        <article class="product">
            <Cover url=card.cover_url.clone() title=card.title.clone() />
            <div class="product-info">
                <span class="badge"><KindLabel kind=card.kind /></span>
                <h1>{card.title}</h1>
                <p class="card-creator">{t!(i18n, product.by, creator = move || creator.clone())}</p>
                {(page.billing == Billing::Monthly).then(|| {
                    let amount = format::stars(card.price_stars);
                    view! { <p class="membership-note">{t!(i18n, product.membership, amount = move || amount.clone())}</p> }
                })}
                <PricedBuy slug=card.slug.clone() price_stars=card.price_stars min_price_stars=page.min_price_stars
                    bundle={card.bundle_parts > 0} />
                {(page.billing != Billing::Monthly).then(|| view! {
                    <crate::checkout::BuyButton slug=card.slug.clone() price_stars=card.price_stars gift=true />
                })}
                <crate::studio::tip::TipButton slug=card.slug.clone() />
                <ShareButton slug=card.slug.clone() cover=card.cover_url.clone() />
                <p class="includes">
                    {t!(i18n, product.includes, files = move || files, size = move || size.clone())}
                </p>
                {page.sample.map(|sample| {
                    let size = format::bytes(sample.size_bytes);
                    // A PDF or EPUB sample opens in the reader too (a lazy route).
                    let read = BookFormat::of_name(&sample.name).map(|_| view! {
                        <a class="button secondary read-sample" href=format!("/read/sample/{slug}")>
                            {t!(i18n, product.read_sample)}
                        </a>
                    });
                    view! {
                        {read}
                        <a class="button secondary" href=sample.url download=sample.name.clone()>
                            {t!(i18n, product.free_sample, size = move || size.clone())}
                        </a>
                    }
                })}
                {preview.map(|id| view! {
                    <a class="button secondary open-preview" href=format!("/learn/{slug}/{id}")>
                        {t!(i18n, product.open_preview)}
                    </a>
                })}
            </div>
            // Markdown rendered and sanitised on the server.
            <section class="description" inner_html=page.description_html></section>
            {(card.kind == ProductKind::Course && !page.lessons.is_empty()).then(|| {
                let course = card.slug.clone();
                view! {
                    <section class="outline">
                        <h2>{t!(i18n, product.lessons)}</h2>
                        <ol class="lessons">
                            {page.lessons.into_iter().map(|lesson| {
                                let href = format!("/learn/{course}/{}", lesson.id);
                                view! {
                                    <li class="lesson-row" data-preview=lesson.is_preview.then_some("true")>
                                        {if lesson.is_preview {
                                            view! {
                                                <a href=href>{lesson.title}</a>
                                                <span class="tag">{t!(i18n, product.preview)}</span>
                                            }.into_any()
                                        } else {
                                            view! {
                                                <span>{lesson.title}</span>
                                                <span class="tag muted">{t!(i18n, product.locked)}</span>
                                            }.into_any()
                                        }}
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    </section>
                }
            })}
            <section class="tracks" hidden=page.tracks_html.is_empty() inner_html=page.tracks_html></section>
            <section class="bundle" hidden=page.bundle_html.is_empty() inner_html=page.bundle_html></section>
            <section class="reviews" id="reviews" inner_html=page.reviews_html></section>
        </article>
    }
}

/// The tracks' previews: a native player each (play, pause, seek, progress), fed by the
/// server's cut of the first `AUDIO_PREVIEW_SECONDS`, so the limit holds whatever the browser
/// does. Rendered on the server in `locale`, like the reviews; nothing in it needs the wasm.
#[cfg(feature = "ssr")]
pub fn tracks_html(tracks: &[AudioTrack], locale: crate::i18n::Locale) -> String {
    use crate::texts::fill;
    let note = fill(
        td_string!(locale, product.previews_note),
        &[("seconds", &crate::api::AUDIO_PREVIEW_SECONDS)],
    );
    let list = tracks
        .iter()
        .map(|track| {
            view! {
                <li class="track">
                    <span class="track-name">{track.name.clone()}</span>
                    <audio class="preview" controls preload="metadata" src=track.preview_url.clone()></audio>
                </li>
            }
        })
        .collect_view();
    view! {
        <h2>{td_string!(locale, product.tracks)}</h2>
        <p class="muted">{note}</p>
        <ul class="track-list">{list}</ul>
    }
    .to_html()
}

/// What a bundle holds, each part linked to its own page with its kind and price alone, and
/// what they cost one by one. Rendered on the server in `locale`, like the reviews.
#[cfg(feature = "ssr")]
pub fn bundle_html(parts: &[BundlePart], locale: crate::i18n::Locale) -> String {
    use crate::texts::fill;
    let separately: u32 = parts.iter().map(|p| p.price_stars).sum();
    let title = fill(
        td_string!(locale, bundle.inside),
        &[("count", &parts.len())],
    );
    let alone = fill(
        td_string!(locale, bundle.separately),
        &[("total", &format::stars(separately))],
    );
    let list = parts
        .iter()
        .map(|part| {
            let about = format!(
                "{} · ⭐ {}",
                crate::api::kind_name(part.kind, false, locale),
                format::stars(part.price_stars)
            );
            view! {
                <li class="bundle-part" data-slug=part.slug.clone()>
                    <a href=format!("/p/{}", part.slug)>{part.title.clone()}</a>
                    " "<span class="muted">{about}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <h2>{title}</h2>
        <ul class="bundle-parts">{list}</ul>
        <p class="muted">{alone}</p>
    }
    .to_html()
}

/// The reviews section: the average, how many gave each number of stars, the newest reviews
/// with the creator's replies, and the way to write one (a screen of its own). Rendered on the
/// server in `locale` (see `ProductPage::reviews_html`); it is static once shown.
#[cfg(feature = "ssr")]
pub fn reviews_html(slug: &str, reviews: &Reviews, locale: crate::i18n::Locale) -> String {
    use crate::texts::fill;
    let total = reviews.rating.map_or(0, |r| r.count).max(1);
    let summary = match reviews.rating {
        Some(rating) => {
            let text = fill(
                td_string!(locale, reviews.summary),
                &[("average", &rating.average()), ("count", &rating.count)],
            );
            view! {
                <p class="reviews-summary" data-average=rating.average_x100 data-count=rating.count>
                    {text}
                </p>
            }
            .into_any()
        }
        None => view! { <p class="muted">{td_string!(locale, reviews.none)}</p> }.into_any(),
    };
    let bars = (1..=5usize)
        .rev()
        .map(|stars| {
            let count = reviews.distribution[stars - 1];
            let width = format!("width:{}%", count * 100 / total);
            view! {
                <li data-stars=stars>
                    <span class="bar-label">{stars} " ★"</span>
                    <span class="bar"><span style=width></span></span>
                    <span class="bar-count">{count}</span>
                </li>
            }
        })
        .collect_view();
    let list = reviews
        .newest
        .iter()
        .map(|review| {
            let stars = usize::from(review.rating.min(5));
            let reply = review.reply_html.clone().map(|reply| {
                view! {
                    <div class="review-reply">
                        <p class="muted">{td_string!(locale, reviews.reply)}</p>
                        <div inner_html=reply></div>
                    </div>
                }
            });
            view! {
                <li class="review" data-rating=review.rating>
                    <p class="review-head">
                        <span class="stars">{"★".repeat(stars)}{"☆".repeat(5 - stars)}</span>
                        " "<span class="review-author">{review.author.clone()}</span>
                    </p>
                    // Markdown rendered and sanitised on the server.
                    <div class="review-body" inner_html=review.body_html.clone()></div>
                    {reply}
                </li>
            }
        })
        .collect_view();
    let counted = reviews.rating.is_some();
    view! {
        <h2>{td_string!(locale, reviews.title)}</h2>
        {summary}
        {counted.then(|| view! { <ol class="distribution">{bars}</ol> })}
        <ul class="review-list">{list}</ul>
        <a class="button secondary write-review" href=format!("/p/{slug}/review")>
            {td_string!(locale, reviews.write)}
        </a>
    }
    .to_html()
}

#[derive(Clone, Debug, PartialEq)]
enum Sharing {
    Idle,
    Preparing,
    Sent,
    /// Outside Telegram: the link to copy, when there is one.
    Outside(Option<String>),
    Refused(String),
}

/// Share: the product's card sent to a chat the user picks (`shareMessage`), Telegram's share
/// sheet for its link on older clients, and the cover to a story where the client has stories.
#[component]
fn ShareButton(slug: String, cover: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let state = RwSignal::new(Sharing::Idle);
    // Known only in the browser: rendered after hydration so both sides agree first.
    let stories = RwSignal::new(false);
    let has_cover = cover.is_some();
    Effect::new(move |_| {
        stories.set(has_cover && webapp::is_version_at_least(webapp::STORIES_SINCE));
    });
    let slug = StoredValue::new(slug);
    let cover = StoredValue::new(cover);
    let start = move |story: bool| {
        if state.get_untracked() == Sharing::Preparing {
            return;
        }
        state.set(Sharing::Preparing);
        let (slug, cover) = (slug.get_value(), cover.get_value());
        leptos::task::spawn_local(share_now(slug, cover, story, state));
    };
    let note = move || match state.get() {
        Sharing::Sent => Some(t_string!(i18n, share.sent).to_string()),
        Sharing::Outside(link) => Some(format!(
            "{} {}",
            t_string!(i18n, share.outside_telegram),
            link.unwrap_or_default()
        )),
        Sharing::Refused(message) => Some(message),
        Sharing::Idle | Sharing::Preparing => None,
    };
    // One flat view: each conditional branch here would be code in every buyer's first load.
    view! {
        <div class="share" data-state=move || match state.get() {
            Sharing::Idle => "idle",
            Sharing::Preparing => "working",
            Sharing::Sent => "sent",
            _ => "stopped",
        }>
            <button class="button secondary share-button" type="button" on:click=move |_| start(false)
                disabled=move || state.get() == Sharing::Preparing>
                {t!(i18n, share.button)}
            </button>
            <button class="button secondary story-button" type="button" on:click=move |_| start(true)
                hidden=move || !stories.get()>
                {t!(i18n, share.story)}
            </button>
            <p class="share-note" role="status" hidden=move || note().is_none()>{note}</p>
        </div>
    }
}

/// Prepares the share and hands it to Telegram. Split out of the first load (`#[lazy]`): its
/// code is fetched when the user first taps Share.
#[lazy]
async fn share_now(slug: String, cover: Option<String>, story: bool, state: RwSignal<Sharing>) {
    match share_product(slug).await {
        Ok(share) if story => send_story(share, cover.as_deref(), state),
        Ok(share) => send_message(share, state),
        Err(err) => state.set(Sharing::Refused(server_message(&err))),
    }
}

/// The prepared message through `shareMessage`, else the link through `t.me/share`.
fn send_message(share: Share, state: RwSignal<Sharing>) {
    if let Some(id) = &share.prepared_message_id {
        let sent = webapp::share_message(id, move |sent| {
            state.set(if sent { Sharing::Sent } else { Sharing::Idle });
        });
        if sent {
            return;
        }
    }
    let opened = share
        .link
        .as_deref()
        .is_some_and(|link| webapp::open_telegram_link(&webapp::share_url(link, &share.title)));
    state.set(if opened {
        Sharing::Idle
    } else {
        Sharing::Outside(share.link)
    });
}

/// The cover in the story editor, with the title and the product's link as its text.
fn send_story(share: Share, cover: Option<&str>, state: RwSignal<Sharing>) {
    let origin = web_origin();
    let media = cover.map(|path| format!("{origin}{path}"));
    let text = match &share.link {
        Some(link) => format!("{} {link}", share.title),
        None => share.title.clone(),
    };
    let opened = media.is_some_and(|media| webapp::share_to_story(&media, &text));
    state.set(if opened {
        Sharing::Idle
    } else {
        Sharing::Outside(share.link)
    });
}

/// Where the page was served from, for absolute URLs Telegram can fetch.
fn web_origin() -> String {
    #[cfg(feature = "hydrate")]
    if let Some(origin) = web_sys::window().and_then(|w| w.location().origin().ok()) {
        return origin;
    }
    String::new()
}
