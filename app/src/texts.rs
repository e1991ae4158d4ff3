//! What the server says to users (refusals and errors), in their language, from the same locale
//! files as the pages.

use crate::i18n::*;

/// A message the backend shows a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerText {
    Unauthorized,
    AlreadyOwned,
    NotOnSale,
    NoOrder,
    NoPayments,
    Unavailable,
    NoLesson,
    LessonLocked,
    NotMember,
    MembershipEnded,
}

impl ServerText {
    pub fn in_locale(self, locale: Locale) -> String {
        match self {
            ServerText::Unauthorized => td_string!(locale, errors.unauthorized).to_string(),
            ServerText::AlreadyOwned => td_string!(locale, errors.already_owned).to_string(),
            ServerText::NotOnSale => td_string!(locale, errors.not_on_sale).to_string(),
            ServerText::NoOrder => td_string!(locale, errors.no_order).to_string(),
            ServerText::NoPayments => td_string!(locale, errors.no_payments).to_string(),
            ServerText::Unavailable => td_string!(locale, errors.unavailable).to_string(),
            ServerText::NoLesson => td_string!(locale, errors.no_lesson).to_string(),
            ServerText::LessonLocked => td_string!(locale, errors.lesson_locked).to_string(),
            ServerText::NotMember => td_string!(locale, errors.not_member).to_string(),
            ServerText::MembershipEnded => td_string!(locale, errors.membership_ended).to_string(),
        }
    }
}

/// The cookie the pages keep the reader's language in (leptos_i18n's default name).
pub const LOCALE_COOKIE: &str = "i18n_pref_locale";

/// The language to answer a request in: the one picked in the app, else Telegram's language for
/// the user, else the browser's first `Accept-Language`, else English.
#[cfg(feature = "ssr")]
pub fn request_locale(headers: &http::HeaderMap, telegram_language: Option<&str>) -> Locale {
    let cookie = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LOCALE_COOKIE)
        .and_then(|(_, value)| value.parse::<Locale>().ok());
    let accept = || {
        headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|tag| tag.split(';').next().unwrap_or_default().trim().to_owned())
    };
    cookie.unwrap_or_else(
        || match telegram_language.map(str::to_owned).or_else(accept) {
            Some(code) => crate::locale_for(&code),
            None => Locale::en,
        },
    )
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use http::HeaderMap;

    #[test]
    fn messages_come_in_both_languages() {
        assert_eq!(
            ServerText::NotOnSale.in_locale(Locale::en),
            "This product is no longer on sale."
        );
        assert_eq!(
            ServerText::NotOnSale.in_locale(Locale::ru),
            "Этот товар больше не продаётся."
        );
    }

    #[test]
    fn the_choice_in_the_app_wins_then_telegram_then_the_browser() {
        let mut headers = HeaderMap::new();
        assert_eq!(request_locale(&headers, None), Locale::en);
        headers.insert(
            "accept-language",
            "ru-RU,ru;q=0.9,en;q=0.8".parse().unwrap(),
        );
        assert_eq!(request_locale(&headers, None), Locale::ru);
        assert_eq!(request_locale(&headers, Some("en")), Locale::en);
        headers.insert("cookie", "a=b; i18n_pref_locale=ru".parse().unwrap());
        assert_eq!(request_locale(&headers, Some("en")), Locale::ru);
    }
}
