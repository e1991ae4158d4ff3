//! `/`: the published catalog, with kinds, search and pages.

use super::{server_message, ErrorNote};
use crate::api::{list_products, CatalogPage, CatalogQuery, CatalogSort, ProductKind};
use crate::components::{KindFilter, Pagination, ProductCardView, SearchBox, SortFilter};
use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

#[component]
pub fn Catalog() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let params = params.read();
        CatalogQuery {
            kind: params
                .get("kind")
                .and_then(|k| k.parse::<ProductKind>().ok()),
            q: params.get("q"),
            page: params.get("page").and_then(|p| p.parse().ok()),
            sort: params.get("sort").and_then(|s| CatalogSort::parse(&s)),
        }
    });
    let products = Resource::new(
        move || query.get(),
        |query| list_products(query.kind, query.q, query.page, query.sort),
    );

    view! {
        <Title text="" />
        <Meta name="description" content=t_string!(i18n, meta.description).to_string() />
        <SearchBox query />
        <KindFilter query />
        <SortFilter query />
        <Transition fallback=move || view! { <p class="status">{t!(i18n, catalog.loading)}</p> }>
            {move || Suspend::new(async move {
                let query = query.get_untracked();
                match products.await {
                    Ok(page) => results(page, query).into_any(),
                    Err(err) => view! { <ErrorNote message=server_message(&err) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn results(page: CatalogPage, query: CatalogQuery) -> impl IntoView {
    let i18n = use_i18n();
    if page.items.is_empty() {
        let searched = query.search().map(str::to_owned);
        return view! {
            <section class="status empty">
                {match searched {
                    Some(words) => {
                        let cleared = CatalogQuery { q: None, page: None, ..query.clone() };
                        view! {
                            <p>{t!(i18n, catalog.no_results, query = move || words.clone())}</p>
                            <a class="button secondary" href=cleared.href()>{t!(i18n, catalog.clear_search)}</a>
                        }
                        .into_any()
                    }
                    None => view! { <p>{t!(i18n, catalog.empty)}</p> }.into_any(),
                }}
            </section>
        }
        .into_any();
    }
    let total = page.total;
    let searching = query.search().is_some();
    view! {
        {searching.then(|| view! {
            <p class="results-count" role="status">{t!(i18n, catalog.results, total = move || total)}</p>
        })}
        <ul class="grid">
            {page.items.clone().into_iter().map(|card| view! { <ProductCardView card /> }).collect_view()}
        </ul>
        <Pagination page query />
    }
    .into_any()
}
