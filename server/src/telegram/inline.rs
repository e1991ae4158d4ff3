//! Inline mode: `@<bot> <words>` in any chat searches the catalog with the Mini App's own search
//! (`catalog::list_published`; no words: the newest products) and offers each product as a card
//! the user can send, with a button that opens it in the Mini App.

use super::dispatch::{DispatchError, Dispatcher};
use super::links::{ChatKind, Links, Place};
use crate::catalog;
use app::api::{kind_name, CatalogQuery, ProductCard};
use app::i18n::{td_string, Locale};
use app::texts::fill;
use tgbot::types::{
    AnswerInlineQuery, InlineQuery, InlineQueryResultArticle, InputMessageContentText,
    LinkPreviewMediaSize, LinkPreviewOptions,
};

/// Cards per answer (Telegram takes at most 50); the next ones come with the query's offset.
const PER_ANSWER: u32 = 20;
/// The cards are in the asker's language, so Telegram may keep them for that user only, and
/// briefly: a product published now should show up soon.
const CACHE_SECS: i64 = 30;

pub async fn answer(ctx: &Dispatcher, query: &InlineQuery) -> Result<(), DispatchError> {
    let locale = app::locale_for(query.from.language_code.as_deref().unwrap_or_default());
    // The offset is ours: the catalog page the next answer starts at.
    let page = query.offset.parse::<u32>().unwrap_or(1).max(1);
    let search = CatalogQuery {
        q: Some(query.query.clone()),
        page: Some(page),
        ..CatalogQuery::default()
    };
    let found = catalog::list_published(&ctx.db, &search, PER_ANSWER).await?;
    // An offset past the end reads the last page again (the catalog's rule); then nothing more.
    let more = found.page == page && page.saturating_mul(PER_ANSWER) < found.total;
    let mut results = Vec::with_capacity(found.items.len());
    for (index, card) in found.items.into_iter().enumerate() {
        // Ids must be 1-64 bytes and unique in the answer; a slug may be longer.
        let id = format!("{page}.{index}");
        results.push(product_card(&ctx.links, locale, id, &card).await);
    }
    let next_offset = if more {
        (page + 1).to_string()
    } else {
        String::new()
    };
    let method = AnswerInlineQuery::new(query.id.clone(), results)
        .with_cache_time(CACHE_SECS)
        .with_is_personal(true)
        .with_next_offset(next_offset);
    // Not retried: Telegram forgets a query within seconds and the user has typed on by the
    // time the inbox would try again.
    if let Err(err) = ctx.bot.call("answerInlineQuery", method).await {
        tracing::warn!(error = %err, "inline query left unanswered");
    }
    Ok(())
}

/// A product as a message anyone can send: its title, price and kind, the cover as the
/// message's preview, and a button that opens the product in the Mini App from whatever chat it
/// lands in. Inline answers and the Mini App's Share (`telegram::share`) both send this card.
pub(crate) async fn product_card(
    links: &Links,
    locale: Locale,
    id: String,
    card: &ProductCard,
) -> InlineQueryResultArticle {
    let (text, preview) = card_message(links, locale, card);
    let mut message = InputMessageContentText::new(text);
    if let Some(preview) = preview {
        message = message.with_link_preview_options(preview);
    }
    let mut article = InlineQueryResultArticle::new(id, message, card.title.clone())
        .with_description(card_details(locale, card));
    let open = td_string!(locale, inline.open);
    let place = Place::Product(&card.slug);
    if let Some(button) = links.button(ChatKind::Shared, open, place).await {
        article = article.with_reply_markup(button);
    }
    if let Some(cover) = cover_url(links, card) {
        article = article.with_thumbnail_url(cover.as_str());
    }
    article
}

/// A product card's text (title, then price, kind and creator) and its cover as the link
/// preview, which Telegram shows above the text as it would a photo (a photo message must be a
/// JPEG; covers may be PNG). Channel posts (`promotion`) send the same.
pub(crate) fn card_message(
    links: &Links,
    locale: Locale,
    card: &ProductCard,
) -> (String, Option<LinkPreviewOptions>) {
    let text = format!("{}\n{}", card.title, card_details(locale, card));
    let preview = cover_url(links, card).map(|cover| {
        LinkPreviewOptions::default()
            .with_url(cover.as_str())
            .with_media_size(LinkPreviewMediaSize::Large)
            .with_show_above_text(true)
    });
    (text, preview)
}

fn card_details(locale: Locale, card: &ProductCard) -> String {
    fill(
        td_string!(locale, inline.details),
        &[
            ("price", &app::format::stars(card.price_stars)),
            ("kind", &kind_name(card.kind, false, locale)),
            ("creator", &card.creator_name),
        ],
    )
}

fn cover_url(links: &Links, card: &ProductCard) -> Option<url::Url> {
    let path = card.cover_url.as_deref()?.trim_start_matches('/');
    links.webapp_url()?.join(path).ok()
}
