//! Reach: the links creators hand out or post in their channels, the visits through them, and
//! the sales they brought. A link opens the Mini App as `startapp=r_<code>`; the opening is a
//! visit and the buyer's latest touch for that link's creator. An order made within 30 days of
//! the touch, for one of that creator's products, is the link's (last touch wins), stamped on
//! the order when it is made (`payments::orders`). What Telegram's Star affiliate programs took
//! is read from the ledger's charges.

use crate::db::Db;
use crate::studio::roles::{self, Caller};
use crate::studio::StudioError;
use crate::telegram::bot::{api_error, Bot, BotError};
use crate::telegram::links::{ChatKind, Links, Place};
use app::i18n::Locale;
use app::studio::types::{AffiliateSales, Channel, PromoLink, PromoLinkInput};
use app::text;
use app::texts::Text;
use std::collections::BTreeMap;
use tgbot::types::{ChatFullInfoType, ChatMember, GetChat, GetChatMember, SendMessage};

/// How long a touch brings sales (the order's insert attributes it, `payments::orders`).
pub use crate::payments::orders::ATTRIBUTION_SECS;
const CODE_LEN: usize = 10;
const LABEL_MAX: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum PromotionError {
    #[error("{message}")]
    Invalid { field: &'static str, message: Text },
    /// Telegram says no: the bot or the creator is not an administrator of the channel, or the
    /// chat is not a channel. The message says which.
    #[error("{0}")]
    Refused(Text),
    #[error(transparent)]
    Studio(#[from] StudioError),
    #[error(transparent)]
    Bot(#[from] BotError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

fn invalid(field: &'static str, message: Text) -> PromotionError {
    PromotionError::Invalid { field, message }
}

/// The link code in a start parameter `r_<code>`, if it is one.
pub fn code_of(start_param: &str) -> Option<&str> {
    let code = start_param.strip_prefix("r_")?;
    let valid = (6..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    valid.then_some(code)
}

fn new_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; CODE_LEN];
    getrandom::fill(&mut bytes).expect("the OS random number generator is unavailable");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// A visit through the link `code` by `user_id`, opened (signed) at `opened_at`; returns the
/// product slug it lands on (`Some(None)`: the shop), or `None` for a code no link has. The
/// touch replaces the user's earlier one for the same creator.
pub async fn record_visit(
    db: &Db,
    code: &str,
    user_id: i64,
    opened_at: i64,
) -> Result<Option<Option<String>>, PromotionError> {
    crate::on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        let link: Option<(i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT l.id, l.creator_id, p.slug
             FROM promo_links l
             LEFT JOIN products p ON p.id = l.product_id AND p.status = 'published'
             WHERE l.code = $1",
        )
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((link_id, creator_id, slug)) = link else {
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO promo_visits (link_id, user_id, opened_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(link_id)
        .bind(user_id)
        .bind(opened_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO promo_touches (user_id, creator_id, link_id, touched_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, creator_id) DO UPDATE
             SET link_id = excluded.link_id, touched_at = excluded.touched_at
             WHERE promo_touches.touched_at <= excluded.touched_at",
        )
        .bind(user_id)
        .bind(creator_id)
        .bind(link_id)
        .bind(opened_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(slug))
    })
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: i64,
    code: String,
    label: String,
    product_id: Option<i64>,
    product_title: Option<String>,
    channel_title: Option<String>,
    visits: i64,
    buyers: i64,
    stars: i64,
    created_at: i64,
}

impl LinkRow {
    fn into_link(self, url: Option<String>) -> PromoLink {
        PromoLink {
            id: self.id,
            code: self.code,
            label: self.label,
            product_id: self.product_id,
            product_title: self.product_title,
            channel_title: self.channel_title,
            url,
            visits: u32::try_from(self.visits).unwrap_or(u32::MAX),
            buyers: u32::try_from(self.buyers).unwrap_or(u32::MAX),
            stars: u64::try_from(self.stars).unwrap_or(0),
            created_at: self.created_at,
        }
    }
}

/// Paid orders only: a refunded sale brought nothing.
const LINK_SQL: &str = "SELECT l.id, l.code, l.label, l.product_id, p.title AS product_title,
        c.title AS channel_title,
        (SELECT COUNT(*) FROM promo_visits v WHERE v.link_id = l.id) AS visits,
        (SELECT COUNT(DISTINCT o.user_id) FROM orders o
         WHERE o.promo_link_id = l.id AND o.status = 'paid') AS buyers,
        (SELECT CAST(COALESCE(SUM(o.amount_stars), 0) AS BIGINT) FROM orders o
         WHERE o.promo_link_id = l.id AND o.status = 'paid') AS stars,
        l.created_at
 FROM promo_links l
 LEFT JOIN products p ON p.id = l.product_id
 LEFT JOIN creator_channels c ON c.id = l.channel_id";

/// The caller's links (every creator's for an admin), newest first, with their `t.me` links.
pub async fn links(
    db: &Db,
    links: &Links,
    caller: Caller,
) -> Result<Vec<PromoLink>, PromotionError> {
    let rows: Vec<LinkRow> = crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
        format!("{LINK_SQL} WHERE $1 OR l.creator_id = $2 ORDER BY l.id DESC")
    ))
    .bind(caller.is_admin())
    .bind(caller.user_id)
    .fetch_all(pool)
    .await)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let url = links.open(Place::Referral(&row.code)).await;
        out.push(row.into_link(url));
    }
    Ok(out)
}

async fn one(db: &Db, links: &Links, id: i64) -> Result<PromoLink, PromotionError> {
    let row: Option<LinkRow> = crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
        format!("{LINK_SQL} WHERE l.id = $1")
    ))
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    let row = row.ok_or(PromotionError::Studio(StudioError::NotFound))?;
    let url = links.open(Place::Referral(&row.code)).await;
    Ok(row.into_link(url))
}

/// The creator who may hand out a link to `product_id` (or to the shop when `None`).
async fn link_owner(
    db: &Db,
    caller: Caller,
    product_id: Option<i64>,
) -> Result<i64, PromotionError> {
    match product_id {
        Some(product_id) => {
            let creator: Option<i64> = crate::on_db!(db, |pool| sqlx::query_scalar(
                "SELECT creator_id FROM products WHERE id = $1"
            )
            .bind(product_id)
            .fetch_optional(pool)
            .await)?;
            let creator =
                creator.ok_or_else(|| invalid("product_id", text!(studio_errors.no_product)))?;
            caller
                .require_owner(creator)
                .map_err(|_| invalid("product_id", text!(studio_errors.not_yours)))?;
            Ok(creator)
        }
        None if roles::is_creator(db, caller.user_id).await? => Ok(caller.user_id),
        None => Err(invalid("product_id", text!(studio_errors.pick_product))),
    }
}

async fn insert_link(
    db: &Db,
    creator_id: i64,
    code: &str,
    input: &PromoLinkInput,
    channel: Option<(i64, i64)>,
    now: i64,
) -> Result<i64, PromotionError> {
    Ok(crate::on_db!(db, |pool| sqlx::query_scalar(
        "INSERT INTO promo_links
           (code, creator_id, product_id, label, channel_id, message_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(code)
    .bind(creator_id)
    .bind(input.product_id)
    .bind(input.label.trim())
    .bind(channel.map(|(id, _)| id))
    .bind(channel.map(|(_, message)| message))
    .bind(now)
    .fetch_one(pool)
    .await)?)
}

fn check_label(label: &str) -> Result<(), PromotionError> {
    let chars = label.trim().chars().count();
    if chars == 0 || chars > LABEL_MAX {
        return Err(invalid(
            "label",
            text!(studio_errors.label_length, max = LABEL_MAX),
        ));
    }
    Ok(())
}

/// A new referral link, named by the creator.
pub async fn create_link(
    db: &Db,
    links: &Links,
    caller: Caller,
    input: &PromoLinkInput,
    now: i64,
) -> Result<PromoLink, PromotionError> {
    check_label(&input.label)?;
    let creator = link_owner(db, caller, input.product_id).await?;
    let id = insert_link(db, creator, &new_code(), input, None, now).await?;
    one(db, links, id).await
}

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: i64,
    creator_id: i64,
    chat_id: i64,
    title: String,
    username: Option<String>,
    linked_at: i64,
}

impl From<ChannelRow> for Channel {
    fn from(r: ChannelRow) -> Self {
        Channel {
            id: r.id,
            chat_id: r.chat_id,
            title: r.title,
            username: r.username,
            linked_at: r.linked_at,
        }
    }
}

const CHANNEL_SQL: &str =
    "SELECT id, creator_id, chat_id, title, username, linked_at FROM creator_channels";

/// The caller's channels (every creator's for an admin), in the order they were linked.
pub async fn channels(db: &Db, caller: Caller) -> Result<Vec<Channel>, PromotionError> {
    let rows: Vec<ChannelRow> = crate::on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
        format!("{CHANNEL_SQL} WHERE $1 OR creator_id = $2 ORDER BY id")
    ))
    .bind(caller.is_admin())
    .bind(caller.user_id)
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().map(Channel::from).collect())
}

/// `@username` or a numeric id, as the Bot API's `chat_id` takes it.
fn chat_ref(input: &str) -> Option<String> {
    let input = input.trim();
    if let Some(name) = input.strip_prefix('@') {
        let valid = (5..=32).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        return valid.then(|| input.to_owned());
    }
    input.parse::<i64>().ok().map(|id| id.to_string())
}

/// Whether Telegram says `user_id` administers the chat (a refusal or an outage says no).
async fn administers(bot: &Bot, chat_id: i64, user_id: i64) -> bool {
    let member = bot
        .call("getChatMember", GetChatMember::new(chat_id, user_id))
        .await;
    matches!(
        member,
        Ok(ChatMember::Administrator(_) | ChatMember::Creator(_))
    )
}

/// Links a channel to the calling creator. Telegram must say it is a channel, the bot one of its
/// administrators (only they post there), and the caller one too: the bot posts in a creator's
/// name only where the creator could post themselves.
pub async fn link_channel(
    db: &Db,
    bot: &Bot,
    caller: Caller,
    chat: &str,
    now: i64,
) -> Result<Channel, PromotionError> {
    if !roles::is_creator(db, caller.user_id).await? {
        return Err(PromotionError::Studio(StudioError::Forbidden(text!(
            studio_errors.not_a_creator
        ))));
    }
    let chat =
        chat_ref(chat).ok_or_else(|| invalid("chat", text!(studio_errors.channel_format)))?;
    let info = match bot.call("getChat", GetChat::new(chat.clone())).await {
        Ok(info) => info,
        Err(err) if api_error(&err).is_some() => {
            return Err(PromotionError::Refused(text!(
                studio_errors.channel_unknown
            )))
        }
        Err(err) => return Err(err.into()),
    };
    if info.chat_type != ChatFullInfoType::Channel {
        return Err(PromotionError::Refused(text!(
            studio_errors.channel_not_channel
        )));
    }
    if !administers(bot, info.id, bot.id().unwrap_or_default()).await {
        return Err(PromotionError::Refused(text!(
            studio_errors.channel_bot_not_admin
        )));
    }
    if !administers(bot, info.id, caller.user_id).await {
        return Err(PromotionError::Refused(text!(
            studio_errors.channel_you_not_admin
        )));
    }
    let title = info.title.clone().unwrap_or_else(|| chat.clone());
    let username = info.username.clone();
    let row: ChannelRow = crate::on_db!(db, |pool| sqlx::query_as(
        "INSERT INTO creator_channels (creator_id, chat_id, title, username, linked_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (creator_id, chat_id) DO UPDATE
         SET title = excluded.title, username = excluded.username
         RETURNING id, creator_id, chat_id, title, username, linked_at",
    )
    .bind(caller.user_id)
    .bind(info.id)
    .bind(&title)
    .bind(&username)
    .bind(now)
    .fetch_one(pool)
    .await)?;
    Ok(row.into())
}

/// Posts the product `product_id` to the channel `channel_id` as its card with a Buy button into
/// the Mini App through a new link of its own, so the studio can tell what the post sold. The
/// channel's creator must still administer it.
#[allow(clippy::too_many_arguments)]
pub async fn post_to_channel(
    db: &Db,
    bot: &Bot,
    links: &Links,
    caller: Caller,
    channel_id: i64,
    product_id: i64,
    locale: Locale,
    now: i64,
) -> Result<PromoLink, PromotionError> {
    let channel: Option<ChannelRow> = crate::on_db!(db, |pool| sqlx::query_as(
        sqlx::AssertSqlSafe(format!("{CHANNEL_SQL} WHERE id = $1"))
    )
    .bind(channel_id)
    .fetch_optional(pool)
    .await)?;
    let channel = channel.ok_or(PromotionError::Studio(StudioError::NotFound))?;
    caller.require_owner(channel.creator_id)?;
    // Rights change after linking: a creator no longer administering the channel no longer
    // posts there through the shop.
    if !administers(bot, channel.chat_id, channel.creator_id).await {
        return Err(PromotionError::Refused(text!(
            studio_errors.channel_you_not_admin
        )));
    }
    let slug: Option<(String, i64)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT slug, creator_id FROM products WHERE id = $1 AND status = 'published'"
    )
    .bind(product_id)
    .fetch_optional(pool)
    .await)?;
    let Some((slug, creator)) = slug else {
        return Err(invalid("product_id", text!(studio_errors.post_unpublished)));
    };
    if creator != channel.creator_id {
        return Err(invalid("product_id", text!(studio_errors.not_yours)));
    }
    let card = crate::catalog::published_product(db, &slug)
        .await?
        .ok_or_else(|| invalid("product_id", text!(studio_errors.post_unpublished)))?
        .card;
    let code = new_code();
    let (text, preview) = crate::telegram::inline::card_message(links, locale, &card);
    let label = app::i18n::td_string!(locale, inline.buy);
    let Some(button) = links
        .button(ChatKind::Shared, label, Place::Referral(&code))
        .await
    else {
        return Err(PromotionError::Refused(text!(
            studio_errors.channel_no_username
        )));
    };
    let mut message = SendMessage::new(channel.chat_id, text).with_reply_markup(button);
    if let Some(preview) = preview {
        message = message.with_link_preview_options(preview);
    }
    let sent = match bot.call("sendMessage", message).await {
        Ok(sent) => sent,
        Err(err) if api_error(&err).is_some() => {
            return Err(PromotionError::Refused(text!(
                studio_errors.channel_bot_not_admin
            )))
        }
        Err(err) => return Err(err.into()),
    };
    let input = PromoLinkInput {
        label: channel.title.chars().take(LABEL_MAX).collect(),
        product_id: Some(product_id),
    };
    let id = insert_link(
        db,
        channel.creator_id,
        &code,
        &input,
        Some((channel.id, sent.id)),
        now,
    )
    .await?;
    one(db, links, id).await
}

/// Affiliate program sales of the caller's products (every creator's for an admin): charges
/// Telegram's ledger shows with an affiliate's commission, still granted.
pub async fn affiliates(db: &Db, caller: Caller) -> Result<Vec<AffiliateSales>, PromotionError> {
    let rows: Vec<(String, i64)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT c.affiliate, o.amount_stars
         FROM star_charges c
         JOIN orders o ON c.kind IN ('purchase', 'membership') AND o.id = c.subject_id
         JOIN products p ON p.id = o.product_id
         WHERE c.affiliate IS NOT NULL AND c.state = 'granted'
           AND ($1 OR p.creator_id = $2)"
    )
    .bind(caller.is_admin())
    .bind(caller.user_id)
    .fetch_all(pool)
    .await)?;
    Ok(sum_by_affiliate(rows))
}

const NANOS: i64 = 1_000_000_000;

/// Sums charges (the ledger's affiliate JSON, what the buyer paid) per affiliate, most
/// sales first.
fn sum_by_affiliate(rows: Vec<(String, i64)>) -> Vec<AffiliateSales> {
    let mut by: BTreeMap<Option<i64>, AffiliateSales> = BTreeMap::new();
    for (affiliate, paid) in rows {
        let Ok(share) = serde_json::from_str::<serde_json::Value>(&affiliate) else {
            continue;
        };
        let id = share["affiliate_id"].as_i64();
        let commission = share["amount"].as_i64().unwrap_or(0) * NANOS
            + share["nanostar_amount"].as_i64().unwrap_or(0);
        let entry = by.entry(id).or_insert(AffiliateSales {
            affiliate_id: id,
            sales: 0,
            gross_stars: 0,
            commission_nanostars: 0,
            net_nanostars: 0,
        });
        entry.sales += 1;
        entry.gross_stars += u64::try_from(paid).unwrap_or(0);
        entry.commission_nanostars += commission;
        entry.net_nanostars += paid * NANOS - commission;
    }
    let mut out: Vec<_> = by.into_values().collect();
    out.sort_by(|a, b| {
        b.sales
            .cmp(&a.sales)
            .then(a.affiliate_id.cmp(&b.affiliate_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_referral_link_carries_its_code() {
        let param = crate::telegram::links::Place::Referral("abc123xyz0")
            .start_param()
            .unwrap();
        assert_eq!(code_of(&param), Some("abc123xyz0"));
    }

    #[test]
    fn only_referral_start_parameters_name_a_code() {
        assert_eq!(code_of("r_abc123xyz0"), Some("abc123xyz0"));
        assert_eq!(code_of("p_sourdough"), None);
        assert_eq!(code_of("r_short"), None);
        assert_eq!(code_of("r_UPPER12345"), None);
        assert_eq!(code_of("r_../../x123"), None);
        let code = new_code();
        assert_eq!(code_of(&format!("r_{code}")), Some(code.as_str()));
    }

    #[test]
    fn channels_are_named_by_username_or_id() {
        assert_eq!(
            chat_ref(" @bakers_daily ").as_deref(),
            Some("@bakers_daily")
        );
        assert_eq!(
            chat_ref("-1002000000001").as_deref(),
            Some("-1002000000001")
        );
        assert_eq!(chat_ref("@abc"), None);
        assert_eq!(chat_ref("@with space"), None);
        assert_eq!(chat_ref("t.me/bakers"), None);
    }

    #[test]
    fn affiliate_sales_sum_commission_and_net_per_affiliate() {
        let share = |id: i64, amount: i64, nanos: i64| {
            serde_json::json!({
                "affiliate_id": id, "commission_per_mille": 200,
                "amount": amount, "nanostar_amount": nanos,
            })
            .to_string()
        };
        let sums = sum_by_affiliate(vec![
            (share(7, 20, 0), 100),
            (share(7, 10, 500_000_000), 50),
            (share(9, 4, 0), 20),
        ]);
        assert_eq!(sums.len(), 2);
        assert_eq!(sums[0].affiliate_id, Some(7));
        assert_eq!(sums[0].sales, 2);
        assert_eq!(sums[0].gross_stars, 150);
        assert_eq!(sums[0].commission_nanostars, 30_500_000_000);
        assert_eq!(sums[0].net_nanostars, 119_500_000_000);
        assert_eq!(sums[1].affiliate_id, Some(9));
        assert_eq!(sums[1].net_nanostars, 16 * NANOS);
    }
}
