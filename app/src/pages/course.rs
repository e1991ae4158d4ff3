//! The course viewer: `/learn/:slug` (the outline, resume where you stopped) and
//! `/learn/:slug/:lesson` (one lesson, then the next). Loaded in the browser, where the buyer's
//! init data is; free preview lessons open for everyone.

use super::{server_message, ErrorNote, NotFound};
use crate::api::{complete_lesson, get_course, get_lesson, CourseView, LessonView};
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
