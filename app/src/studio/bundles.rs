//! The editor's bundle section: which of the creator's other products this one holds, in the
//! order ticked. Saving an empty choice makes it a single product again. The server checks what
//! may go in (`studio::products::set_bundle`).

use super::client::{self, CallError};
use super::types::{BundleInput, StudioProduct, StudioProductRow};
use crate::i18n::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

super::studio_texts!(bundle_studio {
    BUNDLE => bundle,
    BUNDLE_HINT => bundle_hint,
    SAVE_BUNDLE => save_bundle,
    SAVED_BUNDLE => saved_bundle,
});

#[component]
pub fn BundleSection(
    product: RwSignal<Option<StudioProduct>>,
    apply: impl Fn(Result<StudioProduct, CallError>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let others = RwSignal::new(Vec::<StudioProductRow>::new());
    let chosen = RwSignal::new(Vec::<i64>::new());
    let saved = RwSignal::new(false);
    let id = move || product.with_untracked(|p| p.as_ref().map_or(0, |p| p.id));
    Effect::new(move |_| {
        let Some((this, creator, parts)) =
            product.with(|p| p.as_ref().map(|p| (p.id, p.creator_id, p.bundle.clone())))
        else {
            return;
        };
        chosen.set(parts);
        spawn_local(async move {
            if let Ok(list) = client::get::<Vec<StudioProductRow>>("/api/studio/products").await {
                others.set(
                    list.into_iter()
                        .filter(|p| p.id != this && p.creator_id == creator)
                        .collect(),
                );
            }
        });
    });
    let toggle = move |part: i64| {
        saved.set(false);
        chosen.update(|c| match c.iter().position(|p| *p == part) {
            Some(at) => {
                c.remove(at);
            }
            None => c.push(part),
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = BundleInput {
            product_ids: chosen.get_untracked(),
        };
        spawn_local(async move {
            let result = client::put::<StudioProduct, _>(
                &format!("/api/studio/products/{}/bundle", id()),
                &input,
            )
            .await;
            saved.set(result.is_ok());
            apply(result);
        });
    };
    view! {
        <section class="studio-section bundle-editor">
            <h2>{BUNDLE()}</h2>
            <p class="muted">{BUNDLE_HINT()}</p>
            <form class="studio-form" on:submit=save>
                {move || others.get().into_iter().map(|p| {
                    let part = p.id;
                    view! {
                        <label class="check">
                            <input type="checkbox" name="part" value=part
                                prop:checked=move || chosen.with(|c| c.contains(&part))
                                on:change=move |_| toggle(part) />
                            {p.title}
                        </label>
                    }
                }).collect_view()}
                <button class="button secondary" type="submit">{SAVE_BUNDLE()}</button>
                <p class="status" role="status" hidden=move || !saved.get()>{SAVED_BUNDLE()}</p>
            </form>
        </section>
    }
}
