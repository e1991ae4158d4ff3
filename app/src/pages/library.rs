//! `/library`: what the signed-in buyer owns. Loaded in the browser only: the Mini App's init
//! data, which proves who the buyer is, exists there and never in the page request.

use super::server_message;
use crate::api::{
    my_gifts, my_library, set_membership_renewal, LibraryFile, LibraryItem, Membership, SentGift,
};
use crate::components::Cover;
use crate::format;
use crate::i18n::*;
use crate::texts;
use crate::webapp;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

#[component]
pub fn Library() -> impl IntoView {
    let i18n = use_i18n();
    let items = LocalResource::new(my_library);
    let gifts = LocalResource::new(my_gifts);
    view! {
        <Title text=t_string!(i18n, library.title).to_string() />
        <h1 class="page-title">{t!(i18n, library.title)}</h1>
        <Suspense fallback=move || view! { <p class="status">{t!(i18n, library.loading)}</p> }>
            {move || Suspend::new(async move {
                match items.await {
                    Ok(list) if list.is_empty() => view! {
                        <section class="status empty">
                            <p>{t!(i18n, library.empty)}</p>
                            <a class="button" href="/">{t!(i18n, library.browse)}</a>
                        </section>
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <ul class="library">
                            {list.into_iter().map(|item| view! { <Item item /> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(err) => view! {
                        <section class="status error" role="alert">
                            <p>{server_message(&err)}</p>
                            <p>{t!(i18n, library.outside_telegram)}</p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
        <Suspense>
            {move || Suspend::new(async move {
                // Outside Telegram the purchases' section already says why nothing shows.
                let sent = gifts.await.unwrap_or_default();
                (!sent.is_empty()).then(|| view! {
                    <section class="sent-gifts" id="gifts">
                        <h2>{t!(i18n, library.gifts_sent)}</h2>
                        <ul class="library">
                            {sent.into_iter().map(|gift| view! { <SentGiftItem gift /> }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Suspense>
    }
}

/// A gift the buyer paid for: whether it was claimed, its link, and Telegram's share sheet.
#[component]
fn SentGiftItem(gift: SentGift) -> impl IntoView {
    let i18n = use_i18n();
    let status = match (&gift.claimed_by, gift.cancelled) {
        (Some(name), _) => texts::fill(t_string!(i18n, library.gift_claimed), &[("name", name)]),
        (None, true) => t_string!(i18n, library.gift_cancelled).to_string(),
        (None, false) => t_string!(i18n, library.gift_waiting).to_string(),
    };
    let open = gift.claimed_by.is_none() && !gift.cancelled;
    let path = format!("/gift/{}", gift.code);
    let share = gift.link.clone().map(|link| {
        let title = gift.title.clone();
        view! {
            <button class="button gift-share" type="button"
                on:click=move |_| { webapp::open_telegram_link(&webapp::share_url(&link, &title)); }>
                {t!(i18n, library.gift_share)}
            </button>
        }
    });
    view! {
        <li class="library-item sent-gift" data-code=gift.code.clone() data-open=open.then_some("true")>
            <div>
                <h2 class="card-title">{gift.title}</h2>
                <p class="gift-status">{status}</p>
                {open.then(|| view! {
                    <label class="license-key">
                        <span>{t!(i18n, library.gift_link)}</span>
                        <input type="text" readonly prop:value=gift.link.unwrap_or(path.clone()) spellcheck="false"
                            on:focus=|ev| select_all(&ev) on:click=|ev| select_all(&ev) />
                    </label>
                    {share}
                    <a class="gift-open" href=path>{t!(i18n, library.gift_link)}</a>
                })}
            </div>
        </li>
    }
}

#[component]
fn Item(item: LibraryItem) -> impl IntoView {
    let i18n = use_i18n();
    let course_href = format!("/learn/{}", item.slug);
    view! {
        <li class="library-item" data-slug=item.slug.clone()>
            <Cover url=item.cover_url title=item.title.clone() />
            <div>
                <h2 class="card-title">
                    <a href=format!("/p/{}", item.slug)>{item.title}</a>
                </h2>
                {item.membership.map(|membership| view! { <MembershipNote slug=item.slug.clone() membership /> })}
                {(!item.includes.is_empty()).then(|| {
                    let titles = item.includes.join(" · ");
                    view! { <p class="bundle-includes">{t!(i18n, library.includes)} " " {titles}</p> }
                })}
                {item.course.map(|course| {
                    let (done, total) = (course.done, course.total);
                    view! {
                        <p class="progress-note">{t!(i18n, library.progress, done = move || done, total = move || total)}</p>
                        <a class="button course-link" href=course_href>
                            {match course.resume_title {
                                Some(lesson) => t!(i18n, library.continue_course, lesson = move || lesson.clone()).into_any(),
                                None => t!(i18n, library.open_course).into_any(),
                            }}
                        </a>
                    }
                })}
                {item.license_key.map(|key| view! {
                    <label class="license-key">
                        <span>{t!(i18n, library.license_key)}</span>
                        // Readonly, so a tap selects it for copying.
                        <input type="text" readonly prop:value=key spellcheck="false"
                            on:focus=|ev| select_all(&ev) on:click=|ev| select_all(&ev) />
                    </label>
                })}
                {item.license_pending.then(|| view! {
                    <p class="license-key pending">{t!(i18n, library.license_pending)}</p>
                })}
                <ul class="files">
                    {item.files.into_iter().map(|file| {
                        // A bought track plays whole from its signed link, which the server checks
                        // against the purchase on every range the player asks for.
                        let player = file.audio.then(|| view! {
                            <audio class="track-player" controls preload="metadata" src=file.url.clone()></audio>
                        });
                        view! { <li>{player}<ReadLink file=file.clone() /><DownloadLink file /></li> }
                    }).collect_view()}
                </ul>
            </div>
        </li>
    }
}

/// Selects the whole key in its field, ready to copy.
fn select_all(ev: &leptos::ev::Event) {
    event_target::<leptos::web_sys::HtmlInputElement>(ev).select();
}

/// The reader's page for a PDF or EPUB; nothing for other files.
#[component]
pub(crate) fn ReadLink(file: LibraryFile) -> impl IntoView {
    let i18n = use_i18n();
    file.read_url.map(|href| {
        let name = file.name.clone();
        view! {
            <a class="button read" href=href>{t!(i18n, library.read, name = move || name.clone())}</a>
        }
    })
}

/// A file download: Telegram's download dialog inside Telegram, a plain link elsewhere.
#[component]
pub(crate) fn DownloadLink(file: LibraryFile) -> impl IntoView {
    let i18n = use_i18n();
    let size = format::bytes(file.size_bytes);
    let (url, name) = (file.url.clone(), file.name.clone());
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if webapp::is_version_at_least(webapp::DOWNLOADS_SINCE) {
            ev.prevent_default();
            webapp::download_file(&url, &name);
        }
    };
    let label_name = file.name.clone();
    view! {
        <a class="button secondary download" href=file.url download=file.name on:click=on_click>
            {t!(i18n, library.download, name = move || label_name.clone(), size = move || size.clone())}
        </a>
    }
}

/// A membership's state in the library, with the button that stops or resumes its renewal
/// (through the bot's `editUserStarSubscription`; access runs to the paid period's end).
#[component]
fn MembershipNote(slug: String, membership: Membership) -> impl IntoView {
    let i18n = use_i18n();
    let state = RwSignal::new(membership);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let toggle = move |_| {
        let slug = slug.clone();
        let renew = state.get_untracked().canceled;
        busy.set(true);
        spawn_local(async move {
            match set_membership_renewal(slug, renew).await {
                Ok(updated) => {
                    state.set(updated);
                    error.set(None);
                    webapp::haptic_notification("success");
                }
                Err(err) => {
                    error.set(Some(server_message(&err)));
                    webapp::haptic_notification("error");
                }
            }
            busy.set(false);
        });
    };
    view! {
        <div class="membership">
            <p class="membership-status">
                {move || {
                    let current = state.get();
                    let date = format::civil_date(current.expires_at.div_euclid(86_400));
                    if current.reenable_in_telegram {
                        t!(i18n, library.member_reenable_in_telegram, date = move || date.clone()).into_any()
                    } else if current.canceled {
                        t!(i18n, library.member_canceled, date = move || date.clone()).into_any()
                    } else {
                        t!(i18n, library.member_renews, date = move || date.clone()).into_any()
                    }
                }}
            </p>
            // Once the shop allowed it again, renewal is the buyer's to turn on in Telegram.
            <Show when=move || !state.get().reenable_in_telegram>
                <button class="button secondary membership-toggle" disabled=move || busy.get()
                    on:click=toggle.clone()>
                    {move || if state.get().canceled {
                        t!(i18n, library.reenable_membership).into_any()
                    } else {
                        t!(i18n, library.cancel_membership).into_any()
                    }}
                </button>
            </Show>
            {move || error.get().map(|message| view! { <p class="status error" role="alert">{message}</p> })}
        </div>
    }
}
