//! The studio's reach (`/studio/reach`): links a creator hands out, channels the bot posts
//! product cards to, and what each brought (visits, buyers, Stars); and what Telegram's Star
//! affiliate programs sold, with their commission. The server checks every field.

use super::client;
use super::frame::StudioPage;
use super::types::{
    AffiliateSales, Channel, ChannelInput, ChannelPostInput, PromoLink, PromoLinkInput,
    StudioProductRow,
};
use crate::format;
use crate::i18n::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

super::studio_texts!(reach_studio {
    REACH => reach,
    LINKS => links,
    NO_LINKS => no_links,
    LABEL => label,
    LANDS_ON => lands_on,
    THE_SHOP => the_shop,
    CREATE_LINK => create_link,
    FIGURES => figures,
    POSTED_IN => posted_in,
    CHANNELS => channels,
    NO_CHANNELS => no_channels,
    CHANNEL => channel,
    LINK_CHANNEL => link_channel,
    CHANNEL_HINT => channel_hint,
    POST => post,
    POSTED => posted,
    AFFILIATES => affiliates,
    NO_AFFILIATES => no_affiliates,
    AFFILIATE => affiliate,
    AFFILIATE_FIGURES => affiliate_figures,
});

/// `/studio/reach`.
#[component]
pub fn StudioReach() -> impl IntoView {
    view! {
        <StudioPage title=REACH()>
            <Reach />
        </StudioPage>
    }
}

#[component]
fn Reach() -> impl IntoView {
    let links = RwSignal::new(Vec::<PromoLink>::new());
    let channels = RwSignal::new(Vec::<Channel>::new());
    let affiliates = RwSignal::new(Vec::<AffiliateSales>::new());
    let products = RwSignal::new(Vec::<StudioProductRow>::new());
    let error = RwSignal::new(None::<String>);
    let load_links = move || client::load_into("/api/studio/links", links, error, client::message);
    let load_channels =
        move || client::load_into("/api/studio/channels", channels, error, client::message);
    Effect::new(move |_| {
        load_links();
        load_channels();
        client::load_into("/api/studio/affiliates", affiliates, error, client::message);
        spawn_local(async move {
            if let Ok(list) = client::get::<Vec<StudioProductRow>>("/api/studio/products").await {
                products.set(list);
            }
        });
    });

    let label = RwSignal::new(String::new());
    let product = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = PromoLinkInput {
            label: label.get_untracked(),
            product_id: product.get_untracked().parse().ok(),
        };
        spawn_local(async move {
            match client::post::<PromoLink, _>("/api/studio/links", Some(&input)).await {
                Ok(_) => {
                    error.set(None);
                    label.set(String::new());
                    load_links();
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let chat = RwSignal::new(String::new());
    let link_channel = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = ChannelInput {
            chat: chat.get_untracked(),
        };
        spawn_local(async move {
            match client::post::<Channel, _>("/api/studio/channels", Some(&input)).await {
                Ok(_) => {
                    error.set(None);
                    chat.set(String::new());
                    load_channels();
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let product_options = move || {
        products
            .get()
            .into_iter()
            .map(|p| view! { <option value=p.id.to_string()>{p.title}</option> })
            .collect_view()
    };

    view! {
        {move || error.get().map(|e| view! { <p class="status error" role="alert">{e}</p> })}
        <section class="studio-section reach-links">
            <h2>{LINKS()}</h2>
            <form class="studio-form link-form" on:submit=create>
                <label>
                    {LABEL()}
                    <input name="label" required maxlength="100" autocomplete="off"
                        prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev)) />
                </label>
                <label>
                    {LANDS_ON()}
                    <select name="product_id" on:change=move |ev| product.set(event_target_value(&ev))>
                        <option value="">{THE_SHOP()}</option>
                        {product_options}
                    </select>
                </label>
                <button class="button" type="submit">{CREATE_LINK()}</button>
            </form>
            {move || {
                let list = links.get();
                if list.is_empty() {
                    return view! { <p class="status empty">{NO_LINKS()}</p> }.into_any();
                }
                view! {
                    <ul class="promo-links">
                        {list.into_iter().map(|l| {
                            let figures = FIGURES()
                                .replace("{visits}", &l.visits.to_string())
                                .replace("{buyers}", &l.buyers.to_string())
                                .replace("{stars}", &format::stars(u32::try_from(l.stars).unwrap_or(u32::MAX)));
                            let lands = l.product_title.clone().unwrap_or_else(|| THE_SHOP().to_string());
                            view! {
                                <li class="promo-link" data-code=l.code.clone()>
                                    <strong>{l.label.clone()}</strong>
                                    " · " <span>{lands}</span>
                                    {l.channel_title.clone().map(|c| view! { " · " <span class="badge">{POSTED_IN()} " " {c}</span> })}
                                    <span class="figures">{figures}</span>
                                    {l.url.clone().map(|url| view! {
                                        <input class="promo-url" type="text" readonly value=url />
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
        <section class="studio-section reach-channels">
            <h2>{CHANNELS()}</h2>
            <form class="studio-form channel-form" on:submit=link_channel>
                <label>
                    {CHANNEL()}
                    <input name="chat" required placeholder="@channel" autocomplete="off"
                        prop:value=move || chat.get() on:input=move |ev| chat.set(event_target_value(&ev)) />
                </label>
                <button class="button" type="submit">{LINK_CHANNEL()}</button>
                <small>{CHANNEL_HINT()}</small>
            </form>
            {move || {
                let list = channels.get();
                if list.is_empty() {
                    return view! { <p class="status empty">{NO_CHANNELS()}</p> }.into_any();
                }
                view! {
                    <ul class="channels">
                        {list.into_iter().map(|c| view! {
                            <ChannelRow channel=c products=products error on_posted=load_links />
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
        <section class="studio-section reach-affiliates">
            <h2>{AFFILIATES()}</h2>
            {move || {
                let list = affiliates.get();
                if list.is_empty() {
                    return view! { <p class="status empty">{NO_AFFILIATES()}</p> }.into_any();
                }
                view! {
                    <ul class="affiliates">
                        {list.into_iter().map(|a| {
                            let who = a.affiliate_id.map(|id| id.to_string()).unwrap_or_else(|| "?".into());
                            let figures = AFFILIATE_FIGURES()
                                .replace("{sales}", &a.sales.to_string())
                                .replace("{gross}", &a.gross_stars.to_string())
                                .replace("{commission}", &nanostars(a.commission_nanostars))
                                .replace("{net}", &nanostars(a.net_nanostars));
                            view! {
                                <li class="affiliate" data-affiliate=who.clone()>
                                    {AFFILIATE()} " " <code>{who.clone()}</code> " · " <span class="figures">{figures}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

/// A linked channel, with its Post form.
#[component]
fn ChannelRow(
    channel: Channel,
    products: RwSignal<Vec<StudioProductRow>>,
    error: RwSignal<Option<String>>,
    on_posted: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let product = RwSignal::new(String::new());
    let posted = RwSignal::new(false);
    let id = channel.id;
    let post = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(product_id) = product.get_untracked().parse() else {
            return;
        };
        let input = ChannelPostInput { product_id };
        spawn_local(async move {
            let path = format!("/api/studio/channels/{id}/posts");
            match client::post::<PromoLink, _>(&path, Some(&input)).await {
                Ok(_) => {
                    error.set(None);
                    posted.set(true);
                    on_posted();
                }
                Err(err) => {
                    posted.set(false);
                    error.set(Some(err.message));
                }
            }
        });
    };
    let name = channel
        .username
        .as_ref()
        .map(|u| format!(" (@{u})"))
        .unwrap_or_default();
    view! {
        <li class="channel" data-chat=channel.chat_id.to_string()>
            <strong>{channel.title.clone()}</strong> {name}
            <form class="studio-form post-form" on:submit=post>
                <select name="product_id" required on:change=move |ev| {
                    posted.set(false);
                    product.set(event_target_value(&ev));
                }>
                    <option value="">"—"</option>
                    {move || products.get().into_iter().map(|p| view! {
                        <option value=p.id.to_string()>{p.title}</option>
                    }).collect_view()}
                </select>
                <button class="button secondary" type="submit">{POST()}</button>
                {move || posted.get().then(|| view! { <span class="status" role="status">{POSTED()}</span> })}
            </form>
        </li>
    }
}

/// Nanostars as Stars with two decimals: commissions leave fractions of a Star.
fn nanostars(nanos: i64) -> String {
    format!("{:.2}", nanos as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fractions_of_a_star_show_with_two_decimals() {
        assert_eq!(super::nanostars(30_500_000_000), "30.50");
        assert_eq!(super::nanostars(0), "0.00");
    }
}
