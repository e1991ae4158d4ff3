//! `/p/:slug`: one product, its sample or free lessons, and the Buy button.

use super::price::PricedBuy;
use super::{server_message, ErrorNote, NotFound};
use crate::api::{get_product, Billing, ProductKind, ProductPage};
use crate::components::{Cover, KindLabel};
use crate::format;
use crate::i18n::*;
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
            <Cover url=card.cover_url title=card.title.clone() />
            <div class="product-info">
                <span class="badge"><KindLabel kind=card.kind /></span>
                <h1>{card.title}</h1>
                <p class="card-creator">{t!(i18n, product.by, creator = move || creator.clone())}</p>
                {(page.billing == Billing::Monthly).then(|| {
                    let amount = format::stars(card.price_stars);
                    view! { <p class="membership-note">{t!(i18n, product.membership, amount = move || amount.clone())}</p> }
                })}
                <PricedBuy slug=card.slug.clone() price_stars=card.price_stars min_price_stars=page.min_price_stars />
                <crate::studio::tip::TipButton slug=card.slug.clone() />
                <p class="includes">
                    {t!(i18n, product.includes, files = move || files, size = move || size.clone())}
                </p>
                {page.sample.map(|sample| {
                    let size = format::bytes(sample.size_bytes);
                    view! {
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
        </article>
    }
}
