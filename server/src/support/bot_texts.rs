//! What the bot says about support requests, in English and Russian (see `telegram::texts`).

use crate::telegram::texts::Lang;

pub struct SupportTexts {
    /// To a creator or admin: a new request. `{id}`, `{buyer}`, `{message}`, `{charges}`.
    pub new_request: &'static str,
    /// One charge in `new_request`'s list: `{subject}`, `{stars}`, `{state}`.
    pub charge_line: &'static str,
    pub no_charges: &'static str,
    pub open_inbox: &'static str,
    pub state_granted: &'static str,
    pub state_held: &'static str,
    pub state_refund_due: &'static str,
    pub state_refunded: &'static str,
    /// The tip of a charge's subject when it paid a tip: `{creator}`.
    pub tip_for: &'static str,
    /// To the buyer: the shop's answer. `{id}`, `{text}`.
    pub reply: &'static str,
}

const EN: SupportTexts = SupportTexts {
    new_request: "Support request no. {id} from {buyer}:\n\n{message}\n\nTheir recent charges:\n{charges}\n\nAnswer or refund from the studio's support inbox; the answer goes to their chat.",
    charge_line: "• {subject}: {stars} ⭐, {state}",
    no_charges: "• none in the last 30 days",
    open_inbox: "Open the support inbox",
    state_granted: "paid",
    state_held: "held for review",
    state_refund_due: "being refunded",
    state_refunded: "refunded",
    tip_for: "tip for {creator}",
    reply: "Answer to your request no. {id}:\n\n{text}",
};

const RU: SupportTexts = SupportTexts {
    new_request: "Запрос в поддержку № {id} от {buyer}:\n\n{message}\n\nНедавние платежи покупателя:\n{charges}\n\nОтветить или вернуть Stars можно во входящих студии; ответ придёт покупателю в чат.",
    charge_line: "• {subject}: {stars} ⭐, {state}",
    no_charges: "• за последние 30 дней нет",
    open_inbox: "Открыть входящие поддержки",
    state_granted: "оплачен",
    state_held: "ждёт проверки",
    state_refund_due: "возвращается",
    state_refunded: "возвращён",
    tip_for: "чаевые для {creator}",
    reply: "Ответ на ваш запрос № {id}:\n\n{text}",
};

pub fn texts(lang: Lang) -> &'static SupportTexts {
    match lang {
        Lang::En => &EN,
        Lang::Ru => &RU,
    }
}

impl SupportTexts {
    /// A ledger state (`star_charges.state`) as people say it.
    pub fn state(&self, state: &str) -> &'static str {
        match state {
            "granted" => self.state_granted,
            "held" => self.state_held,
            "refund_due" => self.state_refund_due,
            _ => self.state_refunded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_carry_the_same_placeholders() {
        for t in [texts(Lang::En), texts(Lang::Ru)] {
            for p in ["{id}", "{buyer}", "{message}", "{charges}"] {
                assert!(t.new_request.contains(p), "{p}");
            }
            for p in ["{subject}", "{stars}", "{state}"] {
                assert!(t.charge_line.contains(p), "{p}");
            }
            assert!(t.tip_for.contains("{creator}"));
            assert!(t.reply.contains("{id}") && t.reply.contains("{text}"));
        }
    }
}
