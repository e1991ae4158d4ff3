//! What the server says to users (refusals and errors), in their language, from the same locale
//! files as the pages.

use crate::i18n::*;

/// A server text with its `{name}` placeholders filled in. Texts only the server reads (the bot's
/// messages, refusals) write placeholders as `{name}`, not the pages' `{{ name }}`: the pages'
/// interpolation would build a view, and these go into plain strings.
pub fn fill(text: &str, values: &[(&str, &(dyn std::fmt::Display + Sync))]) -> String {
    values.iter().fold(text.to_owned(), |text, (name, value)| {
        text.replace(&format!("{{{name}}}"), &value.to_string())
    })
}

/// A text for a person, chosen where the reason arises and put into words where the answer is
/// made: errors travel up as values before anyone has looked at the request's language. Written
/// with [`text!`](crate::text): `text!(studio_errors.title_length, max = 120)`.
#[derive(Clone)]
pub struct Text {
    words: std::sync::Arc<dyn Fn(Locale) -> String + Send + Sync>,
    values: Vec<(&'static str, String)>,
}

impl Text {
    /// A catalogue entry (`text!` writes this).
    pub fn new(words: fn(Locale) -> &'static str) -> Self {
        Self::from_fn(move |locale| words(locale).to_owned())
    }

    /// Words that are put together in each language by `words` (a refusal with its number).
    pub fn from_fn(words: impl Fn(Locale) -> String + Send + Sync + 'static) -> Self {
        Self {
            words: std::sync::Arc::new(words),
            values: Vec::new(),
        }
    }

    /// Fills the `{name}` placeholder.
    pub fn with(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.values.push((name, value.to_string()));
        self
    }

    pub fn in_locale(&self, locale: Locale) -> String {
        let values: Vec<(&str, &(dyn std::fmt::Display + Sync))> = self
            .values
            .iter()
            .map(|(name, value)| (*name, value as &(dyn std::fmt::Display + Sync)))
            .collect();
        fill(&(self.words)(locale), &values)
    }
}

/// In English: for logs, and wherever no reader's language is known.
impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.in_locale(Locale::en))
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        <Locale as leptos_i18n::Locale>::get_all()
            .iter()
            .all(|&locale| self.in_locale(locale) == other.in_locale(locale))
    }
}

/// A [`Text`] from the catalogue: `text!(section.key)` or `text!(section.key, name = value, …)`.
/// The key is checked when the crate compiles, as with `td_string!`.
#[macro_export]
macro_rules! text {
    ($($key:ident).+ $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::texts::Text::new(|locale| ::leptos_i18n::td_string!(locale, $($key).+))
            $(.with(stringify!($name), $value))*
    };
}

/// The cookie the pages keep the reader's language in (leptos_i18n's default name).
pub const LOCALE_COOKIE: &str = "i18n_pref_locale";

/// The language to answer a request in: the one picked in the app, else Telegram's language for
/// the user, else the browser's most preferred language the shop speaks (`Accept-Language`, by
/// its q-values), else English.
#[cfg(feature = "ssr")]
pub fn request_locale(headers: &http::HeaderMap, telegram_language: Option<&str>) -> Locale {
    let cookie = || {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == LOCALE_COOKIE)
            .and_then(|c| c.value().parse::<Locale>().ok())
    };
    let accept = || {
        let header = headers.get(http::header::ACCEPT_LANGUAGE)?.to_str().ok()?;
        accept_language::parse_with_quality(header)
            .into_iter()
            .filter(|(_, quality)| *quality > 0.0)
            .find_map(|(tag, _)| crate::spoken_locale(&tag))
    };
    cookie()
        .or_else(|| telegram_language.map(crate::locale_for))
        .or_else(accept)
        .unwrap_or(Locale::en)
}

#[cfg(test)]
mod catalogue_tests;
#[cfg(test)]
mod scan_tests;

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use http::HeaderMap;

    #[test]
    fn messages_come_in_both_languages() {
        assert_eq!(
            crate::text!(errors.not_on_sale).in_locale(Locale::en),
            "This product is no longer on sale."
        );
        assert_eq!(
            crate::text!(errors.not_on_sale).in_locale(Locale::ru),
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

    #[test]
    fn the_browser_s_most_preferred_language_the_shop_speaks_is_taken() {
        let browser = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("accept-language", value.parse().unwrap());
            request_locale(&headers, None)
        };
        // German first, which the shop does not speak; Russian is preferred to English.
        assert_eq!(browser("de-DE,de;q=0.9,ru;q=0.8,en;q=0.5"), Locale::ru);
        // Listed first but least preferred.
        assert_eq!(browser("en;q=0.2, ru-RU"), Locale::ru);
        // q=0: not acceptable at all.
        assert_eq!(browser("ru;q=0, fr"), Locale::en);
        assert_eq!(browser("*"), Locale::en);
        assert_eq!(browser("garbage;;q=x"), Locale::en);
    }
}
