//! Reusable pieces of the catalog UI.

use crate::api::{
    kind_name, CatalogPage, CatalogQuery, CatalogSort, ProductCard, ProductKind, Rating,
};
use crate::format;
use crate::i18n::*;
use leptos::prelude::*;

/// One product in a grid: cover, title, creator, kind and price.
#[component]
pub fn ProductCardView(card: ProductCard) -> impl IntoView {
    let i18n = use_i18n();
    let href = format!("/p/{}", card.slug);
    let kind = card.kind;
    let price = format::stars(card.price_stars);
    let rating = card.rating.map(|rating| view! { <RatingLine rating /> });
    let parts = card.bundle_parts;
    view! {
        <li class="card" data-kind=kind.as_str()>
            <a href=href class="card-link">
                <Cover url=card.cover_url title=card.title.clone() />
                <div class="card-body">
                    <span class="badge"><KindLabel kind /></span>
                    <span class="badge bundle-badge" hidden={parts == 0}>
                        {move || t_string!(i18n, bundle.badge)} {format!(" · {parts}")}
                    </span>
                    <h2 class="card-title">{card.title}</h2>
                    <p class="card-creator">{card.creator_name}</p>
                    <p class="price">"⭐ " {price}</p>
                    {rating}
                </div>
            </a>
        </li>
    }
}

/// The average and how many reviews it comes from: "★ 4.5 (12)" (numbers only, the same in
/// every language).
#[component]
pub fn RatingLine(rating: Rating) -> impl IntoView {
    let line = format!("★ {} ({})", rating.average(), rating.count);
    view! { <p class="rating" data-average=rating.average_x100>{line}</p> }
}

/// A kind's name in the reader's language.
#[component]
pub fn KindLabel(kind: ProductKind, #[prop(optional)] plural: bool) -> impl IntoView {
    let i18n = use_i18n();
    move || kind_name(kind, plural, i18n.get_locale())
}

/// A cover image with fixed proportions so nothing shifts while it loads.
#[component]
pub fn Cover(url: Option<String>, title: String) -> impl IntoView {
    match url {
        Some(src) => view! {
            <img class="cover" src=src alt=title width="300" height="400" loading="lazy" decoding="async" />
        }
        .into_any(),
        None => view! { <div class="cover cover-empty" aria-hidden="true"></div> }.into_any(),
    }
}

/// The search form. A plain GET form: it works before (or without) the wasm, and the router
/// turns its submission into a client-side navigation once hydrated.
#[component]
pub fn SearchBox(#[prop(into)] query: Signal<CatalogQuery>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form class="search" role="search" method="get" action="/">
            <label class="visually-hidden" for="catalog-search">{t!(i18n, catalog.search_label)}</label>
            <input id="catalog-search" class="search-input" type="search" name="q" autocomplete="off"
                enterkeyhint="search"
                placeholder=move || t_string!(i18n, catalog.search_placeholder).to_string()
                prop:value=move || query.read().q.clone().unwrap_or_default() />
            {move || query.read().kind.map(|kind| view! { <input type="hidden" name="kind" value=kind.as_str() /> })}
            {move || query.read().sort.filter(|s| *s != CatalogSort::Newest)
                .map(|sort| view! { <input type="hidden" name="sort" value=sort.as_str() /> })}
            <button class="button search-button" type="submit">{t!(i18n, catalog.search_button)}</button>
        </form>
    }
}

/// The kind filter. Plain links, keeping the search: the router turns a click into a
/// client-side navigation, and the same links still work before (or without) the wasm.
#[component]
pub fn KindFilter(#[prop(into)] query: Signal<CatalogQuery>) -> impl IntoView {
    let i18n = use_i18n();
    let option = move |kind: Option<ProductKind>| {
        let label = Signal::derive(move || match kind {
            None => t_string!(i18n, kind.all).to_string(),
            Some(kind) => kind_name(kind, true, i18n.get_locale()).to_string(),
        });
        view! {
            <FilterChip label
                href=Signal::derive(move || CatalogQuery { kind, page: None, ..query.get() }.href())
                current=Signal::derive(move || query.read().kind == kind) />
        }
    };
    view! {
        <nav class="filters" aria-label=move || t_string!(i18n, kind.filter_label).to_string()>
            {option(None)}
            {ProductKind::ALL.map(|k| option(Some(k))).collect_view()}
        </nav>
    }
}

/// Newest first or best rated first, keeping the kind and the search (plain links, as the kind
/// filter's).
#[component]
pub fn SortFilter(#[prop(into)] query: Signal<CatalogQuery>) -> impl IntoView {
    let i18n = use_i18n();
    let option = move |sort: CatalogSort| {
        let label = Signal::derive(move || match sort {
            CatalogSort::Newest => t_string!(i18n, catalog.sort_newest).to_string(),
            CatalogSort::Rating => t_string!(i18n, catalog.sort_rating).to_string(),
        });
        view! {
            <FilterChip label
                href=Signal::derive(move || {
                    CatalogQuery { sort: Some(sort), page: None, ..query.get() }.href()
                })
                current=Signal::derive(move || query.read().sort() == sort) />
        }
    };
    view! {
        <nav class="filters sort" aria-label=move || t_string!(i18n, catalog.sort_label).to_string()>
            {option(CatalogSort::Newest)}
            {option(CatalogSort::Rating)}
        </nav>
    }
}

/// One choice of a filter: a link that keeps the rest of the query, marked when it is the
/// current one. One component for every filter, so the bundle carries its code once.
#[component]
fn FilterChip(href: Signal<String>, current: Signal<bool>, label: Signal<String>) -> impl IntoView {
    view! {
        <a class="chip" href=href aria-current=move || current.get().then_some("page")>{label}</a>
    }
}

/// Previous / next links and where the reader is, when there is more than one page.
#[component]
pub fn Pagination(page: CatalogPage, query: CatalogQuery) -> impl IntoView {
    let i18n = use_i18n();
    let pages = page.pages();
    let current = page.page;
    (pages > 1).then(|| {
        let link = |to: u32| {
            CatalogQuery {
                page: Some(to),
                ..query.clone()
            }
            .href()
        };
        let previous = (current > 1).then(|| link(current - 1));
        let next = (current < pages).then(|| link(current + 1));
        view! {
            <nav class="pagination" aria-label=move || t_string!(i18n, catalog.pages_label).to_string()>
                {previous.map(|href| view! { <a class="button secondary" rel="prev" href=href>{t!(i18n, catalog.previous)}</a> })}
                <span class="page-of">{t!(i18n, catalog.page_of, page = move || current, pages = move || pages)}</span>
                {next.map(|href| view! { <a class="button secondary" rel="next" href=href>{t!(i18n, catalog.next)}</a> })}
            </nav>
        }
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn render(view: impl FnOnce() -> AnyView + Send + 'static) -> String {
        // The i18n provider reads the language cookie through a spawned task.
        let _ = any_spawner::Executor::init_futures_executor();
        Owner::new()
            .with(|| view! { <I18nContextProvider>{view()}</I18nContextProvider> }.to_html())
    }

    #[test]
    fn a_card_renders_title_creator_price_and_link() {
        let card = ProductCard {
            slug: "rust-in-action".into(),
            title: "Rust <in> Action".into(),
            kind: ProductKind::Ebook,
            price_stars: 1500,
            creator_name: "Ada".into(),
            cover_url: Some("/media/covers/rust.svg".into()),
            rating: Some(Rating {
                count: 12,
                average_x100: 467,
            }),
            bundle_parts: 3,
        };
        let html = render(move || view! { <ProductCardView card /> }.into_any());
        assert!(html.contains(r#"href="/p/rust-in-action""#), "{html}");
        assert!(
            html.contains("Rust &lt;in&gt; Action"),
            "title must be escaped: {html}"
        );
        assert!(html.contains("1,500"), "{html}");
        assert!(html.contains("E-book"), "{html}");
        assert!(html.contains(r#"data-kind="ebook""#), "{html}");
        assert!(html.contains(r#"src="/media/covers/rust.svg""#), "{html}");
        let text = html.replace("<!>", "");
        assert!(text.contains("4.7 (12)"), "the average and count: {html}");
        assert!(text.contains("Bundle · 3"), "a bundle says so: {html}");
    }

    #[test]
    fn the_sort_keeps_kind_and_search_and_starts_at_page_one() {
        let query = CatalogQuery {
            kind: Some(ProductKind::Ebook),
            q: Some("bread".into()),
            page: Some(3),
            sort: None,
        };
        let html = render(move || view! { <SortFilter query=Signal::stored(query) /> }.into_any());
        let rating = html
            .split("<a")
            .find(|a| a.contains("sort=rating"))
            .expect("a rating link");
        assert!(
            rating.contains(r#"href="/?kind=ebook&amp;q=bread&amp;sort=rating""#),
            "{html}"
        );
        assert!(!rating.contains("aria-current"), "{html}");
        let newest = html
            .split("<a")
            .find(|a| a.contains("Newest"))
            .expect("a newest link");
        assert!(newest.contains(r#"aria-current="page""#), "{html}");
    }

    #[test]
    fn the_filter_marks_the_selected_kind_and_keeps_the_search() {
        let query = CatalogQuery {
            kind: Some(ProductKind::Course),
            q: Some("rust".into()),
            page: Some(2),
            sort: None,
        };
        let html = render(move || view! { <KindFilter query=Signal::stored(query) /> }.into_any());
        let course = html
            .split("<a")
            .find(|a| a.contains("kind=course"))
            .expect("a course link");
        assert!(course.contains(r#"aria-current="page""#), "{html}");
        assert!(course.contains("q=rust"), "the search stays: {html}");
        assert!(
            !course.contains("page=2"),
            "a new kind starts at page 1: {html}"
        );
        let all = html
            .split("<a")
            .find(|a| a.contains(r#"href="/?q=rust""#))
            .expect("an all link");
        assert!(!all.contains("aria-current"), "{html}");
    }

    #[test]
    fn pagination_links_neighbours_only_when_there_are_pages() {
        let page = |page, total| CatalogPage {
            items: vec![],
            total,
            page,
            per_page: 10,
        };
        let query = CatalogQuery {
            q: Some("x".into()),
            ..Default::default()
        };
        let q = query.clone();
        let middle = render(move || view! { <Pagination page=page(2, 30) query=q /> }.into_any());
        assert!(
            middle.contains(r#"href="/?q=x""#),
            "page 1 drops the number: {middle}"
        );
        assert!(middle.contains(r#"href="/?q=x&amp;page=3""#), "{middle}");
        let text = middle.replace("<!>", "");
        assert!(text.contains("Page 2 of 3"), "{middle}");
        let single = render(move || view! { <Pagination page=page(1, 5) query /> }.into_any());
        assert!(!single.contains("pagination"), "{single}");
    }
}
