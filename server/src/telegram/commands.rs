//! Bot commands: /start, /help, /terms, /paysupport, /library.

use super::dispatch::{DispatchError, Dispatcher};
use super::init_data::WebAppUser;
use super::links::{ChatKind, Place};
use crate::users;
use app::i18n::{td_string, Locale};
use app::texts::fill;
use tgbot::types::{ChatPeerId, Command, InlineKeyboardMarkup, Message, SendMessage, User};

pub async fn handle(ctx: &Dispatcher, message: &Message) -> Result<(), DispatchError> {
    let Ok(command) = Command::try_from(message.clone()) else {
        return Ok(());
    };
    let Some(user) = message.sender.get_user() else {
        return Ok(());
    };
    // The bot learns its users from their messages too, not only from the Mini App.
    users::upsert(&ctx.db, &web_app_user(user)).await?;
    let chat = message.chat.get_id();
    let chat_kind = ChatKind::from(&message.chat);
    let locale = app::locale_for(user.language_code.as_deref().unwrap_or_default());
    // "/start@shop_bot" in groups names the bot; the command is what comes before '@'.
    let name = command.get_name().split('@').next().unwrap_or_default();
    let args = command.get_args();

    match name {
        "/start" => {
            if let Some(token) = args.first().and_then(|a| a.strip_prefix("inv_")) {
                return redeem_invite(ctx, chat, chat_kind, user, locale, token).await;
            }
            let (place, label) = match args.first().and_then(|a| a.strip_prefix("p_")) {
                Some(slug) if is_slug(slug) => {
                    (Place::Product(slug), td_string!(locale, bot.open_product))
                }
                _ => (Place::Shop, td_string!(locale, bot.open_shop)),
            };
            let text = fill(
                td_string!(locale, bot.greeting),
                &[("name", &user.first_name)],
            );
            let button = ctx.links.button(chat_kind, label, place).await;
            send(ctx, chat, text, button).await
        }
        "/help" => send(ctx, chat, td_string!(locale, bot.help).to_owned(), None).await,
        "/terms" => send(ctx, chat, td_string!(locale, bot.terms).to_owned(), None).await,
        "/paysupport" => {
            let request = args.join(" ");
            if request.trim().is_empty() {
                return send(
                    ctx,
                    chat,
                    td_string!(locale, bot.paysupport_usage).to_owned(),
                    None,
                )
                .await;
            }
            let submitted = crate::support::submit(
                &ctx.db,
                &ctx.bot,
                crate::support::Routing {
                    admin_ids: &ctx.admin_ids,
                    links: &ctx.links,
                },
                &crate::support::NewRequest {
                    buyer: i64::from(user.id),
                    chat: i64::from(chat),
                    language_code: user.language_code.clone(),
                    message: request,
                },
                ctx.clock.now(),
            )
            .await?;
            tracing::info!(
                support_request = submitted.id,
                user = i64::from(user.id),
                notified = submitted.notified.len(),
                "payment support requested"
            );
            send(
                ctx,
                chat,
                fill(
                    td_string!(locale, bot.paysupport_ack),
                    &[("id", &submitted.id)],
                ),
                None,
            )
            .await
        }
        "/library" => {
            let titles: Vec<String> = crate::on_db!(&ctx.db, |pool| {
                sqlx::query_scalar(
                    "SELECT p.title FROM entitlements e JOIN products p ON p.id = e.product_id
                 WHERE e.user_id = $1 AND e.revoked_at IS NULL
                   AND (e.expires_at IS NULL OR e.expires_at > $2)
                 ORDER BY e.granted_at DESC, e.id DESC",
                )
                .bind(i64::from(user.id))
                .bind(clock::unix_now())
                .fetch_all(pool)
                .await
            })?;
            if titles.is_empty() {
                let label = td_string!(locale, bot.open_shop);
                let button = ctx.links.button(chat_kind, label, Place::Shop).await;
                send(
                    ctx,
                    chat,
                    td_string!(locale, bot.library_empty).to_owned(),
                    button,
                )
                .await
            } else {
                let list: Vec<String> = titles.iter().map(|title| format!("• {title}")).collect();
                let text = format!(
                    "{}\n{}",
                    td_string!(locale, bot.library_header),
                    list.join("\n")
                );
                let label = td_string!(locale, bot.open_library);
                let button = ctx
                    .links
                    .button(chat_kind, label, Place::Page("library"))
                    .await;
                send(ctx, chat, text, button).await
            }
        }
        "/makecreator" => {
            make_creator(ctx, chat, user, locale, args.first().map(String::as_str)).await
        }
        _ => {
            send(
                ctx,
                chat,
                td_string!(locale, bot.unknown_command).to_owned(),
                None,
            )
            .await
        }
    }
}

/// `/start inv_<token>`: an admin's invite makes the user a creator.
async fn redeem_invite(
    ctx: &Dispatcher,
    chat: ChatPeerId,
    chat_kind: ChatKind,
    user: &User,
    locale: Locale,
    token: &str,
) -> Result<(), DispatchError> {
    use crate::studio::roles::{redeem_invite, Redeemed};
    let outcome = redeem_invite(&ctx.db, token, i64::from(user.id)).await?;
    let (text, button) = match outcome {
        Redeemed::Granted => (td_string!(locale, bot.invite_ok), true),
        Redeemed::AlreadyCreator => (td_string!(locale, bot.invite_already), true),
        Redeemed::Invalid => (td_string!(locale, bot.invite_invalid), false),
    };
    let markup = if button {
        let label = td_string!(locale, bot.open_studio);
        ctx.links
            .button(chat_kind, label, Place::Page("studio"))
            .await
    } else {
        None
    };
    send(ctx, chat, text.to_owned(), markup).await
}

/// `/makecreator <user id>`, for admins (`ADMIN_IDS`).
async fn make_creator(
    ctx: &Dispatcher,
    chat: ChatPeerId,
    user: &User,
    locale: Locale,
    arg: Option<&str>,
) -> Result<(), DispatchError> {
    if !ctx.admin_ids.contains(&i64::from(user.id)) {
        return send(
            ctx,
            chat,
            td_string!(locale, bot.admins_only).to_owned(),
            None,
        )
        .await;
    }
    let Some(id) = arg.and_then(|a| a.parse::<i64>().ok()) else {
        return send(
            ctx,
            chat,
            td_string!(locale, bot.make_creator_usage).to_owned(),
            None,
        )
        .await;
    };
    let text = if crate::studio::roles::grant_creator(&ctx.db, id).await? {
        td_string!(locale, bot.make_creator_ok)
    } else {
        td_string!(locale, bot.make_creator_unknown)
    };
    send(ctx, chat, fill(text, &[("id", &id)]), None).await
}

async fn send(
    ctx: &Dispatcher,
    chat: ChatPeerId,
    text: String,
    markup: Option<InlineKeyboardMarkup>,
) -> Result<(), DispatchError> {
    let mut method = SendMessage::new(chat, text);
    if let Some(markup) = markup {
        method = method.with_reply_markup(markup);
    }
    ctx.bot.call("sendMessage", method).await?;
    Ok(())
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn web_app_user(user: &User) -> WebAppUser {
    WebAppUser {
        id: i64::from(user.id),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        username: user.username.as_ref().map(ToString::to_string),
        language_code: user.language_code.clone(),
        is_premium: user.is_premium.unwrap_or(false),
        photo_url: None,
    }
}
