//! The reader: `/read/:file` (a bought PDF or EPUB, where the buyer stopped on any device) and
//! `/read/sample/:slug` (a product's free sample, for everyone). A lazy route: none of it is in
//! the first load.
//!
//! The viewers (PDF.js, foliate-js) run in a frame of their own, `/reader/frame.html`, which the
//! server sends with a Content Security Policy that lets no script of a book run: EPUB pages are
//! shown from `blob:` URLs of this origin, so they must not be able to reach the shop. The frame's
//! module (`frontend/reader/reader.js`) puts one object on its window, `starfrontReader`; this
//! page calls its `open` through the binding below with the file, the texts in the reader's
//! language and a callback for each page turn, which it saves on the server.

use super::{ErrorNote, NotFound};
use crate::api::{get_product, BookFormat, ReaderFile};
use crate::i18n::*;
use crate::studio::client;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// Both routes: one lazy module for the two, so the first load carries one loader entry.
#[component]
pub fn Reader() -> impl IntoView {
    let params = use_params_map();
    let sample = params.read_untracked().get("slug");
    match sample {
        Some(slug) => view! { <ReadSample slug /> }.into_any(),
        None => view! { <ReadFile /> }.into_any(),
    }
}

/// `/read/:file`: a file of the signed-in buyer's, with their place in it.
#[component]
fn ReadFile() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let file_id = move || {
        params
            .read()
            .get("file")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let file = LocalResource::new(move || {
        let id = file_id();
        async move {
            client::get::<ReaderFile>(&format!("/api/reader/{id}"))
                .await
                .map_err(|err| client::message(&err))
        }
    });
    view! {
        <Suspense fallback=move || view! { <p class="status">{t!(i18n, reader.loading)}</p> }>
            {move || Suspend::new(async move {
                match file.await {
                    Ok(file) => {
                        let save_to = format!("/api/reader/{}/position", file_id());
                        view! { <ReaderFrame file save_to=Some(save_to) /> }.into_any()
                    }
                    Err(message) => view! {
                        <ErrorNote message />
                        <a class="button" href="/library">{t!(i18n, library.title)}</a>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/read/sample/:slug`: a product's free sample, when it is a PDF or an EPUB. Nobody's place is
/// kept: it is open to everyone, signed in or not.
#[component]
fn ReadSample(slug: String) -> impl IntoView {
    let i18n = use_i18n();
    let product = LocalResource::new(move || get_product(slug.clone()));
    view! {
        <Suspense fallback=move || view! { <p class="status">{t!(i18n, reader.loading)}</p> }>
            {move || Suspend::new(async move {
                let sample = match product.await {
                    Ok(page) => page.and_then(|page| page.sample),
                    Err(err) => return view! { <ErrorNote message=super::server_message(&err) /> }.into_any(),
                };
                let file = sample.and_then(|sample| {
                    Some(ReaderFile {
                        format: BookFormat::of_name(&sample.name)?,
                        name: sample.name,
                        url: sample.url,
                        position: None,
                    })
                });
                match file {
                    Some(file) => view! {
                        <p class="badge">{t!(i18n, reader.sample)}</p>
                        <ReaderFrame file save_to=None />
                    }
                    .into_any(),
                    None => view! { <NotFound /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The frame with the viewer, opened on `file` once it has loaded; each page turn is saved to
/// `save_to` when given.
#[component]
fn ReaderFrame(file: ReaderFile, save_to: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let failed = RwSignal::new(false);
    // The frame's texts, in the reader's language; `{page}`, `{pages}` and `{percent}` are filled
    // there.
    let texts = serde_json::json!({
        "previous": t_string!(i18n, reader.previous).to_string(),
        "next": t_string!(i18n, reader.next).to_string(),
        "contents": t_string!(i18n, reader.contents).to_string(),
        "noContents": t_string!(i18n, reader.no_contents).to_string(),
        "zoomIn": t_string!(i18n, reader.zoom_in).to_string(),
        "zoomOut": t_string!(i18n, reader.zoom_out).to_string(),
        "pageOf": t_string!(i18n, reader.page_of).to_string(),
        "progress": t_string!(i18n, reader.progress).to_string(),
        "loading": t_string!(i18n, reader.loading).to_string(),
    });
    let options = serde_json::json!({
        "url": file.url,
        "name": file.name,
        "format": file.format.as_str(),
        "position": file.position,
        "texts": texts,
    })
    .to_string();
    let on_load = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        binding::open(&ev, &options, save_to.clone(), failed);
        #[cfg(not(feature = "hydrate"))]
        let _ = (&ev, &options, &save_to);
    };
    view! {
        <Title text=file.name.clone() />
        // Sized here rather than in the stylesheet: the stylesheet is part of every first load.
        <iframe class="reader-frame" src="/reader/frame.html" title=file.name.clone() on:load=on_load
            style="display:block;width:100%;height:calc(var(--tg-viewport-stable-height, 100vh) - 6rem);min-height:20rem;border:0">
        </iframe>
        {move || failed.get().then(|| view! {
            <p class="status error" role="alert">{t!(i18n, reader.failed)}</p>
        })}
    }
}

/// The binding to the frame's viewer (`frontend/reader/reader.js`).
#[cfg(feature = "hydrate")]
mod binding {
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    #[wasm_bindgen]
    extern "C" {
        /// `window.starfrontReader` in the frame.
        type FrameReader;

        /// Opens the file `options` (JSON: url, name, format, position, texts) names; calls
        /// `on_position` with the new position after every page turn. Settles once the first
        /// page shows, or rejects when the file does not open.
        #[wasm_bindgen(method)]
        fn open(this: &FrameReader, options: &str, on_position: &JsValue) -> js_sys::Promise;
    }

    /// Opens the file in the frame that has just loaded (`ev`'s target).
    pub fn open(
        ev: &leptos::ev::Event,
        options: &str,
        save_to: Option<String>,
        failed: RwSignal<bool>,
    ) {
        let reader = ev
            .target()
            .and_then(|frame| js_sys::Reflect::get(&frame, &"contentWindow".into()).ok())
            .and_then(|window| js_sys::Reflect::get(&window, &"starfrontReader".into()).ok())
            .filter(|reader| reader.is_object());
        let Some(reader) = reader else {
            failed.set(true);
            return;
        };
        let on_position = match save_to {
            Some(path) => Closure::<dyn Fn(String)>::new(move |position: String| {
                let path = path.clone();
                leptos::task::spawn_local(async move {
                    let body = crate::api::ReadingPosition { position };
                    // A lost save costs one page of memory; the next turn saves again.
                    let _ =
                        crate::studio::client::put::<crate::api::ReadingPosition, _>(&path, &body)
                            .await;
                });
            })
            .into_js_value(),
            None => JsValue::NULL,
        };
        let opened = reader
            .unchecked_into::<FrameReader>()
            .open(options, &on_position);
        leptos::task::spawn_local(async move {
            if wasm_bindgen_futures::JsFuture::from(opened).await.is_err() {
                failed.set(true);
            }
        });
    }
}
