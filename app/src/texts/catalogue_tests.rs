//! The catalogue's own checks: both locale files hold the same keys, and each text has the same
//! placeholders in both languages (a placeholder missing in one language shows the raw name or
//! drops the value there).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const EN: &str = include_str!("../../locales/en.json");
const RU: &str = include_str!("../../locales/ru.json");

/// Every text by its dotted key (`bot.greeting`).
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, out);
            }
        }
        Value::String(text) => {
            out.insert(prefix.to_owned(), text.clone());
        }
        other => panic!("{prefix}: a text must be a string, found {other}"),
    }
}

fn texts(json: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    flatten(
        "",
        &serde_json::from_str(json).expect("valid JSON"),
        &mut out,
    );
    out
}

/// The placeholders of a text: the pages' `{{ name }}` and the server's `{name}`, kept apart.
fn placeholders(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start..];
        let (open, close) = if after.starts_with("{{") {
            ("{{", "}}")
        } else {
            ("{", "}")
        };
        let Some(end) = after[open.len()..].find(close) else {
            break;
        };
        let name = after[open.len()..open.len() + end].trim();
        found.insert(format!("{open}{name}{close}"));
        rest = &after[open.len() + end + close.len()..];
    }
    found
}

#[test]
fn both_languages_have_the_same_keys() {
    let en = texts(EN);
    let ru = texts(RU);
    let only_en: Vec<_> = en.keys().filter(|k| !ru.contains_key(*k)).collect();
    let only_ru: Vec<_> = ru.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(only_en.is_empty(), "missing in ru.json: {only_en:?}");
    assert!(only_ru.is_empty(), "missing in en.json: {only_ru:?}");
}

#[test]
fn both_languages_have_the_same_placeholders() {
    let ru = texts(RU);
    let differing: Vec<_> = texts(EN)
        .into_iter()
        .filter_map(|(key, en)| {
            let (en, ru) = (placeholders(&en), placeholders(ru.get(&key)?));
            (en != ru).then(|| format!("{key}: en {en:?}, ru {ru:?}"))
        })
        .collect();
    assert!(differing.is_empty(), "{differing:#?}");
}

#[test]
fn no_text_is_empty() {
    for (name, json) in [("en", EN), ("ru", RU)] {
        let empty: Vec<_> = texts(json)
            .into_iter()
            .filter(|(_, text)| text.trim().is_empty())
            .map(|(key, _)| key)
            .collect();
        assert!(empty.is_empty(), "empty in {name}.json: {empty:?}");
    }
}

#[test]
fn placeholders_are_read_in_both_forms() {
    assert_eq!(
        placeholders("Hi {name}, ⭐ {{ amount }} of {{count}}"),
        BTreeSet::from(["{name}".into(), "{{amount}}".into(), "{{count}}".into()])
    );
    assert!(placeholders("no placeholders").is_empty());
}
