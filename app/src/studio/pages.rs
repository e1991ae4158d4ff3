//! The studio's pages: products, the product editor (uploads, lessons, publishing) and sales.

use super::client::{self, CallError};
use super::frame::{RequireStudio, StudioNav, StudioPage};
use super::strings as s;
use super::types::{
    LessonInput, ProductInput, ProductStatus, SalesDashboard, StudioFile, StudioOrder,
    StudioProduct, StudioProductRow, StudioVideo, VideoFailure, VideoStatus,
};
use crate::api::{Billing, ProductKind};
use crate::components::KindLabel;
use crate::format;
use crate::texts::fill;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

fn status_label(status: ProductStatus) -> &'static str {
    match status {
        ProductStatus::Draft => s::STATUS_DRAFT(),
        ProductStatus::Published => s::STATUS_PUBLISHED(),
        ProductStatus::Archived => s::STATUS_ARCHIVED(),
    }
}

/// `/studio`: the creator's products.
#[component]
pub fn StudioHome() -> impl IntoView {
    view! {
        <StudioPage title=s::STUDIO()>
            <ProductList />
        </StudioPage>
    }
}

#[component]
fn ProductList() -> impl IntoView {
    let products =
        LocalResource::new(|| client::get::<Vec<StudioProductRow>>("/api/studio/products"));
    view! {
        <Suspense fallback=|| view! { <p class="status">{s::LOADING()}</p> }>
            {move || Suspend::new(async move {
                match products.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="status empty">{s::NO_PRODUCTS()}</p>
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <ul class="studio-products">
                            {list.into_iter().map(|p| view! {
                                <li class="studio-product" data-status=p.status.as_str() data-slug=p.slug.clone()>
                                    <a href=format!("/studio/p/{}", p.id)>{p.title}</a>
                                    <span class="badge"><KindLabel kind=p.kind /></span>
                                    <span class="badge status-badge">{status_label(p.status)}</span>
                                    <span class="price">"⭐ " {format::stars(p.price_stars)}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(err) => view! { <p class="status error" role="alert">{err.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The fields shared by the new-product form and the editor.
#[derive(Clone, Copy)]
struct Fields {
    title: RwSignal<String>,
    kind: RwSignal<ProductKind>,
    price: RwSignal<String>,
    description: RwSignal<String>,
    billing: RwSignal<Billing>,
    stamp_copies: RwSignal<bool>,
}

impl Fields {
    fn new() -> Self {
        Fields {
            title: RwSignal::new(String::new()),
            kind: RwSignal::new(ProductKind::Ebook),
            price: RwSignal::new("100".into()),
            description: RwSignal::new(String::new()),
            billing: RwSignal::new(Billing::Once),
            stamp_copies: RwSignal::new(true),
        }
    }

    fn load(&self, p: &StudioProduct) {
        self.title.set(p.title.clone());
        self.kind.set(p.kind);
        self.price.set(p.price_stars.to_string());
        self.description.set(p.description.clone());
        self.billing.set(p.billing);
        self.stamp_copies.set(p.stamp_copies);
    }

    fn input(&self) -> Result<ProductInput, CallError> {
        let price = self
            .price
            .get_untracked()
            .trim()
            .parse::<u32>()
            .map_err(|_| CallError {
                status: 0,
                message: s::PRICE_WHOLE().into(),
            })?;
        Ok(ProductInput {
            title: self.title.get_untracked(),
            kind: self.kind.get_untracked(),
            description: self.description.get_untracked(),
            price_stars: price,
            billing: self.billing.get_untracked(),
            stamp_copies: self.stamp_copies.get_untracked(),
        })
    }
}

#[component]
fn FieldsForm(fields: Fields, kind_locked: Signal<bool>) -> impl IntoView {
    view! {
        <label class="field">
            <span>{s::TITLE()}</span>
            <input name="title" type="text" maxlength="200" required bind:value=fields.title />
        </label>
        <label class="field">
            <span>{s::KIND()}</span>
            <select
                name="kind"
                disabled=move || kind_locked.get()
                on:change=move |ev| {
                    if let Ok(kind) = event_target_value(&ev).parse::<ProductKind>() {
                        fields.kind.set(kind);
                    }
                }
            >
                {ProductKind::ALL.map(|k| view! {
                    <option value=k.as_str() selected=move || fields.kind.get() == k><KindLabel kind=k /></option>
                }).collect_view()}
            </select>
        </label>
        <label class="field">
            <span>{s::PRICE()}</span>
            <input name="price" type="number" min="1" inputmode="numeric" required bind:value=fields.price />
        </label>
        <label class="field">
            <span>{s::BILLING()}</span>
            <select
                name="billing"
                on:change=move |ev| {
                    if let Some(billing) = Billing::parse(&event_target_value(&ev)) {
                        fields.billing.set(billing);
                    }
                }
            >
                <option value="once" selected=move || fields.billing.get() == Billing::Once>{s::BILLING_ONCE()}</option>
                <option value="monthly" selected=move || fields.billing.get() == Billing::Monthly>{s::BILLING_MONTHLY()}</option>
            </select>
        </label>
        <label class="field">
            <span>{s::DESCRIPTION()}</span>
            <textarea name="description" rows="8" bind:value=fields.description></textarea>
        </label>
        <label class="check">
            <input type="checkbox" name="stamp-copies" bind:checked=fields.stamp_copies />
            {s::STAMP_COPIES()}
        </label>
    }
}

/// `/studio/new`.
#[component]
pub fn NewProduct() -> impl IntoView {
    let fields = Fields::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = match fields.input() {
            Ok(input) => input,
            Err(err) => return error.set(Some(err.message)),
        };
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match client::post::<StudioProduct, _>("/api/studio/products", Some(&input)).await {
                Ok(product) => navigate(&format!("/studio/p/{}", product.id), Default::default()),
                Err(err) => {
                    busy.set(false);
                    error.set(Some(err.message));
                }
            }
        });
    };
    view! {
        <Title text=s::NEW_PRODUCT() />
        <h1 class="page-title">{s::NEW_PRODUCT()}</h1>
        <RequireStudio>
            <StudioNav />
            <form class="studio-form" on:submit=submit.clone()>
                <FieldsForm fields kind_locked=Signal::from(false) />
                <button class="button" type="submit" disabled=move || busy.get()>{s::CREATE()}</button>
                {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
            </form>
        </RequireStudio>
    }
}

/// One file input with its upload button and progress.
#[component]
fn UploadField(
    label: &'static str,
    #[prop(into)] input_id: String,
    #[prop(into)] path: Signal<String>,
    accept: &'static str,
    on_done: Callback<()>,
) -> impl IntoView {
    let progress = RwSignal::new(None::<u32>);
    let error = RwSignal::new(None::<String>);
    let field_id = input_id.clone();
    let data_upload = input_id.clone();
    let start = move |_| {
        let path = path.get_untracked();
        let input_id = field_id.clone();
        error.set(None);
        progress.set(Some(0));
        spawn_local(async move {
            let result = client::upload::<serde_json::Value>(&path, &input_id, move |p| {
                progress.set(Some(p))
            })
            .await;
            progress.set(None);
            match result {
                Ok(_) => on_done.run(()),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <div class="upload" data-upload=data_upload>
            <label class="field">
                <span>{label}</span>
                <input id=input_id type="file" accept=accept />
            </label>
            <button class="button secondary" type="button" on:click=start disabled=move || progress.get().is_some()>
                {s::UPLOAD()}
            </button>
            {move || progress.get().map(|p| view! {
                <div class="upload-progress" role="status">
                    <progress max="100" value=p></progress>
                    <span>{format!("{p}%")}</span>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="status error upload-error" role="alert">{e}</p> })}
        </div>
    }
}

/// `/studio/p/:id`: everything about one product.
#[component]
pub fn EditProduct() -> impl IntoView {
    view! {
        <Title text=s::STUDIO() />
        <RequireStudio>
            <StudioNav />
            <Editor />
        </RequireStudio>
    }
}

#[component]
fn Editor() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read_untracked()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let product = RwSignal::new(None::<StudioProduct>);
    let error = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<&'static str>);
    let fields = Fields::new();
    let apply = move |result: Result<StudioProduct, CallError>| match result {
        Ok(p) => {
            fields.load(&p);
            product.set(Some(p));
            error.set(None);
        }
        Err(err) => error.set(Some(err.message)),
    };
    let reload = Callback::new(move |()| {
        spawn_local(async move {
            apply(client::get::<StudioProduct>(&format!("/api/studio/products/{}", id())).await);
        });
    });
    Effect::new(move |_| reload.run(()));

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = match fields.input() {
            Ok(input) => input,
            Err(err) => return error.set(Some(err.message)),
        };
        spawn_local(async move {
            let result =
                client::put::<StudioProduct, _>(&format!("/api/studio/products/{}", id()), &input)
                    .await;
            let ok = result.is_ok();
            apply(result);
            note.set(ok.then_some(s::SAVED()));
        });
    };
    let action = move |what: &'static str| {
        spawn_local(async move {
            apply(
                client::post::<StudioProduct, ()>(
                    &format!("/api/studio/products/{}/{what}", id()),
                    None,
                )
                .await,
            );
        });
    };
    let kind_locked = Signal::derive(move || {
        product.with(|p| p.as_ref().is_some_and(|p| p.status != ProductStatus::Draft))
    });
    let files_path = Signal::derive(move || format!("/api/studio/products/{}/files", id()));
    let sample_path =
        Signal::derive(move || format!("/api/studio/products/{}/files?role=sample", id()));
    let cover_path = Signal::derive(move || format!("/api/studio/products/{}/cover", id()));

    view! {
        {move || product.get().map(|p| view! {
            <header class="studio-head" data-status=p.status.as_str()>
                <h1 class="page-title">{p.title.clone()}</h1>
                <span class="badge status-badge">{status_label(p.status)}</span>
                {(p.status == ProductStatus::Published).then(|| view! {
                    <a class="nav-link" href=format!("/p/{}", p.slug)>{s::VIEW_IN_SHOP()}</a>
                })}
            </header>
        })}
        {move || product.get().and_then(|p| p.share_link).map(|link| view! {
            <section class="studio-section share-link">
                <label class="field">
                    <span>{s::SHARE_LINK()}</span>
                    // Read-only and selected whole on focus, ready to copy.
                    <input name="share_link" type="text" readonly value=link
                        on:focus=|ev| { event_target::<leptos::web_sys::HtmlInputElement>(&ev).select(); } />
                    <small>{s::SHARE_LINK_HINT()}</small>
                </label>
            </section>
        })}
        {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
        <form class="studio-form" on:submit=save>
            <FieldsForm fields kind_locked />
            <button class="button" type="submit">{s::SAVE()}</button>
            {move || note.get().map(|n| view! { <p class="status" role="status">{n}</p> })}
        </form>
        {move || product.get().map(|p| view! {
            <section class="studio-preview">
                <h2>{s::PREVIEW()}</h2>
                <div class="description" inner_html=p.description_html.clone()></div>
            </section>
        })}
        <section class="studio-section">
            {move || product.get().and_then(|p| p.cover_url).map(|url| view! {
                <img class="cover studio-cover" src=url alt="Cover" width="150" height="200" />
            })}
            <UploadField label=s::COVER() input_id="cover-file" path=cover_path accept="image/png,image/jpeg,image/webp" on_done=reload />
        </section>
        <section class="studio-section">
            <h2>{s::CONTENT_FILES()}</h2>
            <FileList product role="content" />
            <UploadField label=s::CHOOSE_FILE() input_id="content-file" path=files_path accept="" on_done=reload />
        </section>
        {move || product.with(|p| p.as_ref().is_some_and(|p| p.kind != ProductKind::Course)).then(|| view! {
            <section class="studio-section">
                <h2>{s::SAMPLE()}</h2>
                <FileList product role="sample" />
                <UploadField label=s::CHOOSE_FILE() input_id="sample-file" path=sample_path accept="" on_done=reload />
            </section>
        })}
        {move || product.with(|p| p.as_ref().is_some_and(|p| p.kind == ProductKind::Course)).then(|| view! {
            <LessonsEditor product apply />
        })}
        <super::deals::PayWhatYouWantSection product />
        <super::bundles::BundleSection product apply />
        <section class="studio-section studio-actions">
            {move || product.get().map(|p| match p.status {
                ProductStatus::Draft => view! {
                    <button class="button" type="button" on:click=move |_| action("publish")>{s::PUBLISH()}</button>
                }.into_any(),
                ProductStatus::Published => view! {
                    <button class="button secondary" type="button" on:click=move |_| action("archive")>{s::ARCHIVE()}</button>
                }.into_any(),
                ProductStatus::Archived => view! {
                    <button class="button" type="button" on:click=move |_| action("publish")>{s::PUBLISH_AGAIN()}</button>
                }.into_any(),
            })}
        </section>
    }
}

#[component]
fn FileList(product: RwSignal<Option<StudioProduct>>, role: &'static str) -> impl IntoView {
    let files = move || -> Vec<StudioFile> {
        product.with(|p| {
            p.as_ref()
                .map(|p| p.files.iter().filter(|f| f.role == role).cloned().collect())
                .unwrap_or_default()
        })
    };
    view! {
        <ul class="files studio-files" data-role=role>
            {move || files().into_iter().map(|f| view! {
                <li class="studio-file" data-name=f.name.clone()>
                    <span class="file-name">{f.name.clone()}</span>
                    " · " {format::bytes(f.size_bytes)}
                    " · v" {f.version}
                    " · " <code title=f.sha256.clone()>{f.sha256.get(..12).unwrap_or_default().to_string()}</code>
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn LessonsEditor(
    product: RwSignal<Option<StudioProduct>>,
    apply: impl Fn(Result<StudioProduct, CallError>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let preview = RwSignal::new(false);
    let file = RwSignal::new(String::new());
    let id = move || product.with_untracked(|p| p.as_ref().map_or(0, |p| p.id));
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = LessonInput {
            title: title.get_untracked(),
            body: body.get_untracked(),
            is_preview: preview.get_untracked(),
            file_id: file.get_untracked().parse().ok(),
        };
        spawn_local(async move {
            let result = client::post::<StudioProduct, _>(
                &format!("/api/studio/products/{}/lessons", id()),
                Some(&input),
            )
            .await;
            if result.is_ok() {
                title.set(String::new());
                body.set(String::new());
                preview.set(false);
            }
            apply(result);
        });
    };
    let lesson_call = move |method: &'static str, path: String| {
        spawn_local(async move {
            let result = match method {
                "DELETE" => match client::delete(&path).await {
                    Ok(_) => {
                        client::get::<StudioProduct>(&format!("/api/studio/products/{}", id()))
                            .await
                    }
                    Err(e) => Err(e),
                },
                _ => client::post::<StudioProduct, ()>(&path, None).await,
            };
            apply(result);
        });
    };
    let lessons =
        move || product.with(|p| p.as_ref().map(|p| p.lessons.clone()).unwrap_or_default());
    let files = move || product.with(|p| p.as_ref().map(|p| p.files.clone()).unwrap_or_default());
    view! {
        <section class="studio-section lessons-editor">
            <h2>{s::LESSONS()}</h2>
            <ol class="studio-lessons">
                {move || lessons().into_iter().map(|l| {
                    let lid = l.id;
                    view! {
                        <li class="studio-lesson" data-preview=l.is_preview.then_some("true")>
                            <span>{l.title}</span>
                            {l.is_preview.then(|| view! { <span class="badge">{s::FREE_PREVIEW()}</span> })}
                            <button class="chip" type="button" aria-label="Move up"
                                on:click=move |_| lesson_call("POST", format!("/api/studio/lessons/{lid}/move?dir=up"))>"↑"</button>
                            <button class="chip" type="button" aria-label="Move down"
                                on:click=move |_| lesson_call("POST", format!("/api/studio/lessons/{lid}/move?dir=down"))>"↓"</button>
                            <button class="chip" type="button" aria-label="Delete lesson"
                                on:click=move |_| lesson_call("DELETE", format!("/api/studio/lessons/{lid}"))>"✕"</button>
                            <LessonVideo lesson_id=lid video=l.video />
                        </li>
                    }
                }).collect_view()}
            </ol>
            <form class="studio-form" on:submit=add>
                <label class="field"><span>{s::TITLE()}</span>
                    <input name="lesson-title" type="text" required bind:value=title /></label>
                <label class="field"><span>{s::LESSON_TEXT()}</span>
                    <textarea name="lesson-body" rows="5" bind:value=body></textarea></label>
                <label class="field"><span>{s::ATTACHED_FILE()}</span>
                    <select name="lesson-file" on:change=move |ev| file.set(event_target_value(&ev))>
                        <option value="">{s::NO_FILE()}</option>
                        {move || files().into_iter().filter(|f| f.role == "content").map(|f| view! {
                            <option value=f.id.to_string()>{f.name}</option>
                        }).collect_view()}
                    </select></label>
                <label class="check"><input type="checkbox" name="lesson-preview" bind:checked=preview />
                    {s::FREE_PREVIEW()}</label>
                <button class="button secondary" type="submit">{s::ADD_LESSON()}</button>
            </form>
        </section>
    }
}

/// A lesson's video in the editor: upload one, then watch its preparation (asked again every
/// two seconds while it runs), and see why it failed if it did.
#[component]
fn LessonVideo(lesson_id: i64, video: Option<StudioVideo>) -> impl IntoView {
    let state = RwSignal::new(video);
    let status_path = format!("/api/studio/lessons/{lesson_id}/video/status");
    let refresh = {
        let path = status_path.clone();
        move || {
            let path = path.clone();
            spawn_local(async move {
                if let Ok(video) = client::get::<StudioVideo>(&path).await {
                    state.set(Some(video));
                }
            });
        }
    };
    let on_done = {
        let refresh = refresh.clone();
        Callback::new(move |()| refresh())
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if state.with(|v| v.as_ref().is_some_and(|v| v.status.pending())) {
            let refresh = refresh.clone();
            set_timeout(move || refresh(), std::time::Duration::from_secs(2));
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = refresh;
    view! {
        <div class="lesson-video-editor" data-video-status=move || state.with(|v| v.as_ref().map(|v| v.status.as_str()))>
            {move || state.get().map(|video| view! {
                <div class="video-state">
                    {match video.status {
                        VideoStatus::Queued => view! { <p class="status">{s::VIDEO_QUEUED()}</p> }.into_any(),
                        VideoStatus::Preparing => view! {
                            <p class="status upload-progress" role="status">{s::VIDEO_PREPARING()} " "
                                <progress max="100" value=video.progress></progress>
                                " " {format!("{}%", video.progress)}</p>
                        }.into_any(),
                        VideoStatus::Ready => view! { <p class="status video-ready">{s::VIDEO_READY()}</p> }.into_any(),
                        VideoStatus::Failed => view! {
                            <p class="status error video-failed" role="alert">
                                {s::VIDEO_FAILED()} " " {video_failure(video.failure)}
                            </p>
                        }.into_any(),
                    }}
                    {video.playing.map(|playing| view! {
                        <figure class="video-playing">
                            <img src=playing.poster_url alt="" width="160" height="90" />
                            <figcaption>{s::VIDEO_PLAYING()} " · " {format::duration(playing.duration_seconds)}</figcaption>
                        </figure>
                    })}
                </div>
            })}
            <UploadField label=s::VIDEO() input_id=format!("lesson-video-{lesson_id}")
                path=format!("/api/studio/lessons/{lesson_id}/video") accept="video/*" on_done />
        </div>
    }
}

fn video_failure(failure: Option<VideoFailure>) -> &'static str {
    match failure {
        Some(VideoFailure::Unreadable) | None => s::VIDEO_FAILED_UNREADABLE(),
        Some(VideoFailure::NoVideo) => s::VIDEO_FAILED_NO_VIDEO(),
        Some(VideoFailure::TooLong) => s::VIDEO_FAILED_TOO_LONG(),
        Some(VideoFailure::Stopped) => s::VIDEO_FAILED_STOPPED(),
    }
}

/// `/studio/sales`: the dashboard.
#[component]
pub fn StudioSales() -> impl IntoView {
    view! {
        <StudioPage title=s::SALES()>
            <Dashboard />
        </StudioPage>
    }
}

fn date(unix: i64) -> String {
    crate::format::civil_date(unix.div_euclid(86_400))
}

fn stars64(n: u64) -> String {
    format::stars(u32::try_from(n).unwrap_or(u32::MAX))
}

#[component]
fn Dashboard() -> impl IntoView {
    let data = RwSignal::new(None::<Result<SalesDashboard, CallError>>);
    let load = move || {
        spawn_local(async move {
            data.set(Some(
                client::get::<SalesDashboard>("/api/studio/sales").await,
            ));
        })
    };
    Effect::new(move |_| load());
    view! {
        {move || match data.get() {
            None => view! { <p class="status">{s::LOADING()}</p> }.into_any(),
            Some(Err(err)) => view! { <p class="status error" role="alert">{err.message}</p> }.into_any(),
            Some(Ok(d)) => {
                let t = d.totals.clone();
                view! {
                    <dl class="totals">
                        <div data-total="sales"><dt>{s::TOTAL_SALES()}</dt><dd>{t.sales}</dd></div>
                        <div data-total="gross"><dt>{s::GROSS()}</dt><dd>"⭐ " {stars64(t.gross_stars)}</dd></div>
                        <div data-total="refunds"><dt>{s::REFUNDS()}</dt><dd>{t.refunds} " · ⭐ " {stars64(t.refunded_stars)}</dd></div>
                        <div data-total="net"><dt>{s::NET()}</dt><dd>"⭐ " {stars64(t.net_stars)}</dd></div>
                    </dl>
                    // Drawn by the server from numbers only; it takes the page's colours.
                    <figure class="chart" inner_html=d.chart_svg.clone()></figure>
                    <h2>{s::MEMBERS()}</h2>
                    <dl class="totals memberships">
                        <div data-total="active-members"><dt>{s::ACTIVE_MEMBERS()}</dt><dd>{d.memberships.active}</dd></div>
                        <div data-total="churned"><dt>{s::CHURNED()}</dt><dd>{d.memberships.churned_30d}</dd></div>
                        <div data-total="recurring"><dt>{s::RECURRING_STARS()}</dt><dd>"⭐ " {stars64(d.memberships.recurring_stars_per_month)}</dd></div>
                    </dl>
                    <h2>{s::PER_PRODUCT()}</h2>
                    <table class="studio-table per-product">
                        <thead><tr><th>{s::TITLE()}</th><th>{s::TOTAL_SALES()}</th><th>{s::GROSS()}</th><th>{s::REFUNDS()}</th><th>{s::NET()}</th></tr></thead>
                        <tbody>
                            {d.products.into_iter().map(|p| view! {
                                <tr data-slug=p.slug.clone()>
                                    <td>{p.title}</td><td>{p.totals.sales}</td>
                                    <td>{p.totals.gross_stars}</td><td>{p.totals.refunds}</td><td>{p.totals.net_stars}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h2>{s::ORDERS()}</h2>
                    {if d.orders.is_empty() {
                        view! { <p class="status empty">{s::NO_ORDERS()}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="studio-orders">
                                {d.orders.into_iter().map(|o| view! { <OrderRow order=o reload=Callback::new(move |()| load()) /> }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    <h2>{s::SUPPORTERS()} " · ⭐ " {stars64(d.tips_stars)}</h2>
                    {if d.supporters.is_empty() {
                        view! { <p class="status empty">{s::NO_SUPPORTERS()}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="supporters">
                                {d.supporters.into_iter().map(|sp| view! {
                                    <li class="supporter">
                                        {sp.name} " · ⭐ " {format::stars(sp.amount_stars)} " · " {date(sp.paid_at)}
                                        {sp.product_title.map(|t| format!(" · {t}"))}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                }
                .into_any()
            }
        }}
    }
}

#[component]
fn OrderRow(order: StudioOrder, reload: Callback<()>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let order_id = order.order_id.clone();
    let refund = move |_| {
        let order_id = order_id.clone();
        spawn_local(async move {
            match client::post::<serde_json::Value, ()>(
                &format!("/api/studio/orders/{order_id}/refund"),
                None,
            )
            .await
            {
                Ok(_) => reload.run(()),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let paid = order.status == "paid";
    let amount = format::stars(order.amount_stars);
    let prompt = fill(
        s::REFUND_PROMPT(),
        &[("amount", &amount), ("buyer", &order.buyer_name)],
    );
    view! {
        <li class="studio-order" data-status=order.status.clone() data-order=order.order_id.clone()>
            <div class="order-line">
                <strong>{order.product_title.clone()}</strong>
                " · " {order.buyer_name.clone()}
                " · ⭐ " {amount.clone()}
                " · " {date(order.paid_at.unwrap_or(order.created_at))}
                " · " <span class="order-status">{order.status.clone()}</span>
                " · " <span class="order-downloads">{format!("{}: {}", s::DOWNLOADS(), order.downloads)}</span>
            </div>
            {paid.then(|| view! {
                <div class="order-actions">
                    {move || if confirming.get() {
                        view! {
                            <span class="confirm" role="alert">{prompt.clone()}</span>
                            <button class="button danger" type="button" on:click=refund.clone()>{s::CONFIRM_REFUND()}</button>
                            <button class="button secondary" type="button" on:click=move |_| confirming.set(false)>{s::CANCEL()}</button>
                        }.into_any()
                    } else {
                        view! {
                            <button class="button secondary" type="button" on:click=move |_| confirming.set(true)>{s::REFUND()}</button>
                        }.into_any()
                    }}
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
        </li>
    }
}
