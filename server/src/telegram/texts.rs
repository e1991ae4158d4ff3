//! What the bot says, in the user's language (from Telegram's `language_code`; English otherwise).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    /// `ru`, `ru-RU`, … read Russian; everything else English.
    pub fn from_code(code: Option<&str>) -> Self {
        match code.map(|c| c.split(['-', '_']).next().unwrap_or(c).to_ascii_lowercase()) {
            Some(c) if c == "ru" => Lang::Ru,
            _ => Lang::En,
        }
    }
}

pub struct Texts {
    pub greeting: &'static str,
    pub open_shop: &'static str,
    pub open_product: &'static str,
    pub help: &'static str,
    pub terms: &'static str,
    pub paysupport_ack: &'static str,
    pub paysupport_usage: &'static str,
    pub library_empty: &'static str,
    pub library_header: &'static str,
    pub open_library: &'static str,
    pub unknown_command: &'static str,
    /// The bot's command menu: (command, description).
    pub menu: [(&'static str, &'static str); 5],
}

const EN: Texts = Texts {
    greeting: "Hi {name}! Starfront sells e-books, courses and files from independent creators. Pay with Telegram Stars and get your purchase right here.",
    open_shop: "Open the shop",
    open_product: "Open the product",
    help: "What I can do:\n/start - open the shop\n/library - your purchases\n/terms - terms of sale\n/paysupport - help with a payment\n/help - this list",
    terms: "Terms of sale\n\n1. Products are digital and delivered at once: in the app and as a file in this chat.\n2. Prices are in Telegram Stars; Telegram processes the payment.\n3. If a file does not work or is not as described, use /paysupport within 14 days and we will fix it or refund your Stars.\n4. Refunded purchases are removed from your library.",
    paysupport_ack: "Thanks, we have your request (no. {id}). The creators of your recent purchases and the shop's admins read it in their support inbox; their answer will come to this chat. A refund goes back to your Stars balance.",
    paysupport_usage: "Tell us what went wrong in the same message, e.g. /paysupport I was charged twice for Sourdough at Home",
    library_empty: "You have no purchases yet. Open the shop to find something.",
    library_header: "Your purchases:",
    open_library: "Open my library",
    unknown_command: "I don't know that command. /help lists what I can do.",
    menu: [
        ("start", "Open the shop"),
        ("library", "Your purchases"),
        ("terms", "Terms of sale"),
        ("paysupport", "Help with a payment"),
        ("help", "What the bot can do"),
    ],
};

const RU: Texts = Texts {
    greeting: "Привет, {name}! В Starfront продаются электронные книги, курсы и файлы от независимых авторов. Оплата — Telegram Stars, покупка приходит прямо сюда.",
    open_shop: "Открыть магазин",
    open_product: "Открыть товар",
    help: "Что я умею:\n/start — открыть магазин\n/library — ваши покупки\n/terms — условия продажи\n/paysupport — помощь с оплатой\n/help — этот список",
    terms: "Условия продажи\n\n1. Товары цифровые и выдаются сразу: в приложении и файлом в этом чате.\n2. Цены указаны в Telegram Stars; платёж проводит Telegram.\n3. Если файл не работает или не соответствует описанию, напишите /paysupport в течение 14 дней — мы исправим или вернём Stars.\n4. Возвращённые покупки удаляются из библиотеки.",
    paysupport_ack: "Спасибо, запрос получен (№ {id}). Его читают авторы ваших недавних покупок и администраторы магазина; их ответ придёт в этот чат. Возврат приходит на ваш баланс Stars.",
    paysupport_usage: "Опишите проблему в том же сообщении, например: /paysupport с меня дважды списали оплату",
    library_empty: "Покупок пока нет. Откройте магазин и выберите что-нибудь.",
    library_header: "Ваши покупки:",
    open_library: "Открыть библиотеку",
    unknown_command: "Такой команды я не знаю. /help — список команд.",
    menu: [
        ("start", "Открыть магазин"),
        ("library", "Ваши покупки"),
        ("terms", "Условия продажи"),
        ("paysupport", "Помощь с оплатой"),
        ("help", "Что умеет бот"),
    ],
};

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Ru => &RU,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes_pick_a_language() {
        assert_eq!(Lang::from_code(Some("ru")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("ru-RU")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("RU")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("en")), Lang::En);
        assert_eq!(Lang::from_code(Some("de")), Lang::En);
        assert_eq!(Lang::from_code(None), Lang::En);
    }

    #[test]
    fn both_languages_carry_the_same_placeholders() {
        for t in [texts(Lang::En), texts(Lang::Ru)] {
            assert!(t.greeting.contains("{name}"));
            assert!(t.paysupport_ack.contains("{id}"));
            for command in ["/start", "/library", "/terms", "/paysupport", "/help"] {
                assert!(t.help.contains(command), "{command}");
            }
        }
    }
}
