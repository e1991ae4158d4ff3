//! One component per route.

use crate::api::{get_product, list_products, my_library, ProductKind};
use crate::checkout::BuyButton;
use crate::components::{Cover, KindFilter, ProductCardView};
use crate::format;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

/// `/` and `/?kind=…`: the published catalog.
#[component]
pub fn Catalog() -> impl IntoView {
    let query = use_query_map();
    let kind = Memo::new(move |_| {
        query
            .read()
            .get("kind")
            .and_then(|k| k.parse::<ProductKind>().ok())
    });
    let products = Resource::new(move || kind.get(), list_products);

    view! {
        <Title text="" />
        <Meta name="description" content="E-books, courses and files from independent creators, paid in Telegram Stars." />
        <KindFilter selected=kind />
        <Transition fallback=|| view! { <p class="status">"Loading the catalog…"</p> }>
            {move || Suspend::new(async move {
                match products.await {
                    Ok(cards) if cards.is_empty() => view! {
                        <p class="status empty">"Nothing here yet. Try another kind."</p>
                    }
                    .into_any(),
                    Ok(cards) => view! {
                        <ul class="grid" aria-live="polite">
                            {cards.into_iter().map(|card| view! { <ProductCardView card /> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(err) => view! { <ErrorNote message=err.to_string() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/p/:slug`: one product.
#[component]
pub fn Product() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let product = Resource::new(slug, get_product);

    view! {
        <Suspense fallback=|| view! { <p class="status">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match product.await {
                    Ok(Some(page)) => {
                        let card = page.card;
                        view! {
                            <Title text=card.title.clone() />
                            <article class="product">
                                <Cover url=card.cover_url title=card.title.clone() />
                                <div class="product-info">
                                    <span class="badge">{card.kind.label()}</span>
                                    <h1>{card.title}</h1>
                                    <p class="card-creator">"by " {card.creator_name}</p>
                                    <p class="price">"⭐ " {format::stars(card.price_stars)}</p>
                                    <BuyButton slug=card.slug.clone() price_stars=card.price_stars />
                                    <crate::studio::tip::TipButton slug=card.slug.clone() />
                                    <p class="includes">
                                        {format!(
                                            "Includes {} file{} · {}",
                                            page.content_files,
                                            if page.content_files == 1 { "" } else { "s" },
                                            format::bytes(page.content_bytes),
                                        )}
                                    </p>
                                    {page.sample.map(|sample| view! {
                                        <a class="button secondary" href=sample.url download=sample.name.clone()>
                                            "Free sample (" {format::bytes(sample.size_bytes)} ")"
                                        </a>
                                    })}
                                </div>
                                // Markdown rendered and sanitised on the server.
                                <section class="description" inner_html=page.description_html></section>
                            </article>
                        }
                        .into_any()
                    }
                    Ok(None) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <ErrorNote message=err.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/library`: what the signed-in buyer owns. Loaded in the browser only: the Mini App's init
/// data, which proves who the buyer is, exists there and never in the page request.
#[component]
pub fn Library() -> impl IntoView {
    let items = LocalResource::new(my_library);
    view! {
        <Title text="My library" />
        <h1 class="page-title">"My library"</h1>
        <Suspense fallback=|| view! { <p class="status">"Loading your purchases…"</p> }>
            {move || Suspend::new(async move {
                match items.await {
                    Ok(list) if list.is_empty() => view! {
                        <section class="status empty">
                            <p>"You have no purchases yet."</p>
                            <a class="button" href="/">"Browse the catalog"</a>
                        </section>
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <ul class="library">
                            {list.into_iter().map(|item| view! {
                                <li class="library-item" data-slug=item.slug.clone()>
                                    <Cover url=item.cover_url title=item.title.clone() />
                                    <div>
                                        <h2 class="card-title">
                                            <a href=format!("/p/{}", item.slug)>{item.title}</a>
                                        </h2>
                                        <ul class="files">
                                            {item.files.into_iter().map(|file| view! {
                                                <li>
                                                    <a class="button secondary" href=file.url download=file.name.clone()>
                                                        {format!("Download {} ({})", file.name, format::bytes(file.size_bytes))}
                                                    </a>
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    </div>
                                </li>
                            }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(err) => view! {
                        <section class="status error" role="alert">
                            <p>{err.to_string()}</p>
                            <p>"Open Starfront from Telegram to see your purchases."</p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Any unknown path, and a product that does not exist (or is not published).
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <section class="status not-found">
            <h1>"Not found"</h1>
            <p>"This page does not exist, or the product is no longer on sale."</p>
            <a class="button" href="/">"Back to the catalog"</a>
        </section>
    }
}

#[component]
fn ErrorNote(message: String) -> impl IntoView {
    view! {
        <section class="status error" role="alert">
            <p>"Something went wrong: " {message}</p>
            <p>"Please try again in a moment."</p>
        </section>
    }
}
