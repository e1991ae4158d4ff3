//! Reusable pieces of the catalog UI.

use crate::api::{ProductCard, ProductKind};
use crate::format;
use leptos::prelude::*;

/// One product in a grid: cover, title, creator, kind and price.
#[component]
pub fn ProductCardView(card: ProductCard) -> impl IntoView {
    let href = format!("/p/{}", card.slug);
    let kind = card.kind;
    view! {
        <li class="card" data-kind=kind.as_str()>
            <a href=href class="card-link">
                <Cover url=card.cover_url title=card.title.clone() />
                <div class="card-body">
                    <span class="badge">{kind.label()}</span>
                    <h2 class="card-title">{card.title}</h2>
                    <p class="card-creator">{card.creator_name}</p>
                    <p class="price">"⭐ " {format::stars(card.price_stars)}</p>
                </div>
            </a>
        </li>
    }
}

/// A cover image with fixed proportions so nothing shifts while it loads.
#[component]
pub fn Cover(url: Option<String>, title: String) -> impl IntoView {
    match url {
        Some(src) => view! {
            <img class="cover" src=src alt=format!("Cover of {title}") width="300" height="400" loading="lazy" decoding="async" />
        }
        .into_any(),
        None => view! { <div class="cover cover-empty" aria-hidden="true"></div> }.into_any(),
    }
}

/// The kind filter. Plain links: the router turns a click into a client-side navigation, and the
/// same links still work before (or without) the wasm.
#[component]
pub fn KindFilter(#[prop(into)] selected: Signal<Option<ProductKind>>) -> impl IntoView {
    let option = move |kind: Option<ProductKind>| {
        let (href, label) = match kind {
            None => ("/".to_string(), "All"),
            Some(k) => (format!("/?kind={}", k.as_str()), k.label_plural()),
        };
        let current = move || (selected.get() == kind).then_some("page");
        view! {
            <a class="chip" href=href aria-current=current>
                {label}
            </a>
        }
    };
    view! {
        <nav class="filters" aria-label="Filter by kind">
            {option(None)}
            {ProductKind::ALL.map(|k| option(Some(k))).collect_view()}
        </nav>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_card_renders_title_creator_price_and_link() {
        let card = ProductCard {
            slug: "rust-in-action".into(),
            title: "Rust <in> Action".into(),
            kind: ProductKind::Ebook,
            price_stars: 1500,
            creator_name: "Ada".into(),
            cover_url: Some("/media/covers/rust.svg".into()),
        };
        let html = Owner::new().with(|| view! { <ProductCardView card /> }.to_html());
        assert!(html.contains(r#"href="/p/rust-in-action""#), "{html}");
        assert!(
            html.contains("Rust &lt;in&gt; Action"),
            "title must be escaped: {html}"
        );
        assert!(html.contains("1,500 Stars"), "{html}");
        assert!(html.contains(r#"data-kind="ebook""#), "{html}");
        assert!(html.contains(r#"src="/media/covers/rust.svg""#), "{html}");
    }

    #[test]
    fn the_filter_marks_the_selected_kind() {
        let html = Owner::new().with(|| {
            view! { <KindFilter selected=Signal::stored(Some(ProductKind::Course)) /> }.to_html()
        });
        let course = html
            .split("<a")
            .find(|a| a.contains("?kind=course"))
            .expect("a course link");
        assert!(course.contains(r#"aria-current="page""#), "{html}");
        let all = html
            .split("<a")
            .find(|a| a.contains(r#"href="/""#))
            .expect("an all link");
        assert!(!all.contains("aria-current"), "{html}");
    }
}
