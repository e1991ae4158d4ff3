//! The course viewer: `/learn/:slug` (the outline, resume where you stopped) and
//! `/learn/:slug/:lesson` (one lesson, then the next). Loaded in the browser, where the buyer's
//! init data is; free preview lessons open for everyone.

use super::{server_message, ErrorNote, NotFound};
use crate::api::{
    complete_lesson, get_course, get_lesson, save_video_position, CourseView, LessonVideo,
    LessonView,
};
use crate::i18n::*;
use crate::pages::library::{DownloadLink, ReadLink};
use crate::webapp;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;

#[component]
pub fn Course() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let course = LocalResource::new(move || get_course(slug()));
    view! {
        <Suspense fallback=move || view! { <p class="status">{t!(i18n, course.loading)}</p> }>
            {move || Suspend::new(async move {
                match course.await {
                    Ok(Some(course)) => view! { <Outline course /> }.into_any(),
                    Ok(None) => view! { <NotFound /> }.into_any(),
                    Err(err) => view! { <ErrorNote message=server_message(&err) /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Outline(course: CourseView) -> impl IntoView {
    let i18n = use_i18n();
    let slug = course.slug.clone();
    let resume = course.resume_lesson_id;
    let started = course.lessons.iter().any(|l| l.completed)
        || resume.is_some_and(|id| course.lessons.first().is_some_and(|l| l.id != id));
    let resume_href = resume.map(|id| format!("/learn/{slug}/{id}"));
    let navigate = use_navigate();
    let target = resume_href.clone();
    webapp::use_main_button(
        move || {
            resume.map(|_| {
                if started {
                    t_string!(i18n, course.resume).to_string()
                } else {
                    t_string!(i18n, course.start).to_string()
                }
            })
        },
        || false,
        move || {
            if let Some(href) = &target {
                navigate(href, NavigateOptions::default());
            }
        },
    );
    view! {
        <Title text=course.title.clone() />
        <h1 class="page-title">{course.title.clone()}</h1>
        {resume_href.map(|href| view! {
            <a class="button resume" href=href>
                {if started { t!(i18n, course.resume).into_any() } else { t!(i18n, course.start).into_any() }}
            </a>
        })}
        {course.lessons.is_empty().then(|| view! { <p class="status empty">{t!(i18n, course.no_lessons)}</p> })}
        <h2 class="section-title">{t!(i18n, course.outline)}</h2>
        <ol class="lessons">
            {course.lessons.into_iter().map(|lesson| {
                let href = format!("/learn/{slug}/{}", lesson.id);
                view! {
                    <li class="lesson-row" data-done=lesson.completed.then_some("true") data-open=lesson.open.then_some("true")>
                        {if lesson.open {
                            view! { <a href=href>{lesson.title}</a> }.into_any()
                        } else {
                            view! { <span>{lesson.title}</span> }.into_any()
                        }}
                        {lesson.completed.then(|| view! { <span class="tag done">"✓ " {t!(i18n, course.done)}</span> })}
                        {(!lesson.open).then(|| view! { <span class="tag muted">"🔒"</span> })}
                    </li>
                }
            }).collect_view()}
        </ol>
        {(!course.owned).then(|| view! {
            <p class="locked-note">{t!(i18n, course.locked)}</p>
            <a class="button" href=format!("/p/{}", course.slug)>{t!(i18n, course.buy_course)}</a>
        })}
    }
}

#[component]
pub fn Lesson() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let key = move || {
        let params = params.read();
        (
            params.get("slug").unwrap_or_default(),
            params
                .get("lesson")
                .and_then(|id| id.parse::<i64>().ok())
                .unwrap_or_default(),
        )
    };
    let lesson = LocalResource::new(move || {
        let (slug, id) = key();
        get_lesson(slug, id)
    });
    view! {
        <Suspense fallback=move || view! { <p class="status">{t!(i18n, course.loading)}</p> }>
            {move || Suspend::new(async move {
                match lesson.await {
                    Ok(lesson) => view! { <LessonPage lesson /> }.into_any(),
                    Err(err) => {
                        let (slug, _) = key();
                        view! {
                            <ErrorNote message=server_message(&err) hint=t_string!(i18n, course.locked).to_string() />
                            <a class="button" href=format!("/p/{slug}")>{t!(i18n, course.buy_course)}</a>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn LessonPage(lesson: LessonView) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let done = RwSignal::new(lesson.completed);
    let busy = RwSignal::new(false);
    let slug = lesson.course_slug.clone();
    let outline = format!("/learn/{slug}");
    let next_href = lesson.next_id.map(|id| format!("/learn/{slug}/{id}"));
    let owned = lesson.owned;
    // Done and on to the next lesson (or back to the outline after the last one).
    let advance = {
        let (slug, id, navigate) = (slug.clone(), lesson.id, navigate.clone());
        let target = next_href.clone().unwrap_or_else(|| outline.clone());
        move || {
            if busy.get_untracked() {
                return;
            }
            let (slug, target, navigate) = (slug.clone(), target.clone(), navigate.clone());
            busy.set(true);
            spawn_local(async move {
                let saved = !owned || complete_lesson(slug, id).await.is_ok();
                busy.set(false);
                if saved {
                    done.set(true);
                    webapp::haptic_notification("success");
                    navigate(&target, NavigateOptions::default());
                } else {
                    webapp::haptic_notification("error");
                }
            });
        }
    };
    // The video's end marks the lesson done, and the buyer stays to choose what comes next.
    let finished_video = {
        let slug = slug.clone();
        let id = lesson.id;
        Callback::new(move |()| {
            if !owned || done.get_untracked() {
                return;
            }
            let slug = slug.clone();
            spawn_local(async move {
                if complete_lesson(slug, id).await.is_ok() {
                    done.set(true);
                }
            });
        })
    };
    let has_next = lesson.next_id.is_some();
    webapp::use_main_button(
        move || {
            Some(if has_next {
                t_string!(i18n, course.next).to_string()
            } else {
                t_string!(i18n, course.finish).to_string()
            })
        },
        move || busy.get(),
        advance.clone(),
    );
    let number = lesson.number;
    view! {
        <Title text=lesson.title.clone() />
        <nav class="crumbs">
            <a href=outline.clone()>{t!(i18n, course.back_to_course)}</a>
            " · " {lesson.course_title.clone()}
        </nav>
        <article class="lesson" data-lesson=lesson.id>
            <p class="badge">{t!(i18n, course.lesson_n, n = move || number)}</p>
            <h1>{lesson.title.clone()}</h1>
            {move || done.get().then(|| view! { <p class="tag done">"✓ " {t!(i18n, course.done)}</p> })}
            // Rendered and sanitised on the server, as product descriptions are.
            {lesson.video.clone().map(|video| view! {
                <LessonPlayer video slug=slug.clone() lesson_id=lesson.id owned on_ended=finished_video />
            })}
            <div class="lesson-body" inner_html=lesson.body_html.clone()></div>
            {lesson.attachment.map(|file| view! { <ReadLink file=file.clone() /> <DownloadLink file /> })}
        </article>
        <nav class="lesson-nav">
            {lesson.previous_id.map(|id| view! {
                <a class="button secondary" rel="prev" href=format!("/learn/{slug}/{id}")>{t!(i18n, course.previous)}</a>
            })}
            <button class="button lesson-next" type="button" on:click=move |_| advance() disabled=move || busy.get()>
                {if has_next { t!(i18n, course.next).into_any() } else { t!(i18n, course.finish).into_any() }}
            </button>
        </nav>
    }
}

/// A lesson's video: the poster at once (server-rendered), the stream once the player script
/// has loaded. A buyer's place is saved as they watch and restored on their next visit.
#[component]
fn LessonPlayer(
    video: LessonVideo,
    slug: String,
    lesson_id: i64,
    owned: bool,
    on_ended: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let node = NodeRef::<leptos::html::Video>::new();
    let failed = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let options = serde_json::json!({
            "url": video.playlist_url,
            "initData": crate::studio::client::init_data(),
            "start": video.position_seconds,
        })
        .to_string();
        Effect::new(move |_| {
            if let Some(element) = node.get() {
                let save = owned.then(|| {
                    let slug = slug.clone();
                    move |seconds: u32| {
                        let slug = slug.clone();
                        spawn_local(async move {
                            // A lost save costs a few seconds of place; the next one comes soon.
                            let _ = save_video_position(slug, lesson_id, seconds).await;
                        });
                    }
                });
                binding::play(element, options.clone(), save, on_ended, failed);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&slug, lesson_id, owned, on_ended, save_video_position);
    view! {
        <div class="lesson-video">
            <video node_ref=node class="lesson-player" controls playsinline preload="none"
                poster=video.poster_url.clone() data-duration=video.duration_seconds
                data-start=video.position_seconds
                style="display:block;width:100%;max-height:70vh;background:#000;border-radius:0.5rem">
            </video>
            {move || failed.get().then(|| view! {
                <p class="status error" role="alert">{t!(i18n, course.video_failed)}</p>
            })}
        </div>
    }
}

/// The binding to the player script (`frontend/reader/video.js`, served at `/reader/video.js`),
/// loaded once, the first time a lesson with a video opens.
#[cfg(feature = "hydrate")]
mod binding {
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    const SCRIPT: &str = "/reader/video.js";

    #[wasm_bindgen]
    extern "C" {
        /// `window.starfrontVideo`.
        type Player;

        #[wasm_bindgen(method)]
        fn play(
            this: &Player,
            video: &web_sys::HtmlElement,
            options: &str,
            on_position: &JsValue,
            on_ended: &JsValue,
        ) -> js_sys::Promise;

        #[wasm_bindgen(method)]
        fn stop(this: &Player, video: &web_sys::HtmlElement);
    }

    fn player() -> Option<Player> {
        let window = web_sys::window()?;
        js_sys::Reflect::get(&window, &"starfrontVideo".into())
            .ok()
            .filter(|player| player.is_object())
            .map(|player| player.unchecked_into())
    }

    /// The player, after loading its script if this page has not yet.
    async fn load() -> Option<Player> {
        if let Some(player) = player() {
            return Some(player);
        }
        let document = web_sys::window()?.document()?;
        let script = document.create_element("script").ok()?;
        script.set_attribute("type", "module").ok()?;
        script.set_attribute("src", SCRIPT).ok()?;
        let loaded = js_sys::Promise::new(&mut |resolve, reject| {
            let _ = script.add_event_listener_with_callback("load", &resolve);
            let _ = script.add_event_listener_with_callback("error", &reject);
        });
        document.head()?.append_child(&script).ok()?;
        wasm_bindgen_futures::JsFuture::from(loaded).await.ok()?;
        player()
    }

    pub fn play(
        video: web_sys::HtmlVideoElement,
        options: String,
        save: Option<impl Fn(u32) + 'static>,
        on_ended: Callback<()>,
        failed: RwSignal<bool>,
    ) {
        let element: web_sys::HtmlElement = video.unchecked_into();
        let on_position = match save {
            Some(save) => Closure::<dyn Fn(u32)>::new(save).into_js_value(),
            None => JsValue::NULL,
        };
        let on_ended = Closure::<dyn Fn()>::new(move || on_ended.run(())).into_js_value();
        let stopping = element.clone();
        on_cleanup(move || {
            if let Some(player) = player() {
                player.stop(&stopping);
            }
        });
        leptos::task::spawn_local(async move {
            let Some(player) = load().await else {
                return failed.set(true);
            };
            let opened = player.play(&element, &options, &on_position, &on_ended);
            if wasm_bindgen_futures::JsFuture::from(opened).await.is_err() {
                failed.set(true);
            }
        });
    }
}
