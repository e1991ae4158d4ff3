//! What the bot says about becoming a creator, in English and Russian (see `telegram::texts`).

use crate::telegram::texts::Lang;

pub struct StudioTexts {
    pub invite_ok: &'static str,
    pub invite_already: &'static str,
    pub invite_invalid: &'static str,
    pub open_studio: &'static str,
    pub make_creator_usage: &'static str,
    pub make_creator_ok: &'static str,
    pub make_creator_unknown: &'static str,
    pub admins_only: &'static str,
}

const EN: StudioTexts = StudioTexts {
    invite_ok: "Welcome aboard! You are a creator now: open the studio to add your first product.",
    invite_already: "You are a creator already. Open the studio to manage your products.",
    invite_invalid: "This invite link is not valid or was used already. Ask the shop for a new one.",
    open_studio: "Open the studio",
    make_creator_usage: "Usage: /makecreator <Telegram user id>",
    make_creator_ok: "User {id} is a creator now.",
    make_creator_unknown: "User {id} has not opened the bot or the shop yet. Send them an invite link from the studio instead.",
    admins_only: "Only the shop's admins can do that.",
};

const RU: StudioTexts = StudioTexts {
    invite_ok: "Добро пожаловать! Теперь вы автор: откройте студию и добавьте первый товар.",
    invite_already: "Вы уже автор. Откройте студию, чтобы управлять товарами.",
    invite_invalid:
        "Ссылка-приглашение недействительна или уже использована. Попросите у магазина новую.",
    open_studio: "Открыть студию",
    make_creator_usage: "Использование: /makecreator <id пользователя Telegram>",
    make_creator_ok: "Пользователь {id} теперь автор.",
    make_creator_unknown:
        "Пользователь {id} ещё не открывал бота или магазин. Отправьте ему приглашение из студии.",
    admins_only: "Это могут только администраторы магазина.",
};

pub fn texts(lang: Lang) -> &'static StudioTexts {
    match lang {
        Lang::En => &EN,
        Lang::Ru => &RU,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_carry_the_same_placeholders() {
        for t in [texts(Lang::En), texts(Lang::Ru)] {
            assert!(t.make_creator_ok.contains("{id}"));
            assert!(t.make_creator_unknown.contains("{id}"));
            assert!(t.make_creator_usage.contains("/makecreator"));
        }
    }
}
