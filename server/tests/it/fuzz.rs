//! Hostile input, generated: Telegram updates (arbitrary JSON and mutations of real updates) fed
//! to the webhook, creators' file names, and creators' Markdown. (`initData` and `Range` headers
//! have their own property tests next to their parsers.)

use crate::common::TestApp;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use server::studio::{markdown, uploads};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Telegram updates
// ---------------------------------------------------------------------------------------------

const SECRET: &str = "fuzz-webhook-secret";
/// The threads the update fuzzing runs on: a panic there is the shop's.
const THREADS: &str = "fuzz-updates";

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// The shop with its webhook, on a runtime of its own that outlives each case.
fn webhook_shop() -> &'static (tokio::runtime::Runtime, TestApp) {
    static SHOP: OnceLock<(tokio::runtime::Runtime, TestApp)> = OnceLock::new();
    SHOP.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            if thread
                .name()
                .is_some_and(|n| n.starts_with(THREADS) || n.contains("update_json"))
            {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info)
        }));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(THREADS)
            .enable_all()
            .build()
            .unwrap();
        let shop = rt.block_on(TestApp::without_workers(&[("WEBHOOK_SECRET", SECRET)]));
        (rt, shop)
    })
}

fn post_update(body: Vec<u8>) -> u16 {
    let (rt, shop) = webhook_shop();
    rt.block_on(async {
        shop.http
            .post(format!("{}/telegram/webhook", shop.base))
            .header("x-telegram-bot-api-secret-token", SECRET)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

/// Updates of the kinds the shop asks for, as Telegram sends them.
fn real_updates() -> Vec<Value> {
    let user = json!({ "id": 4242, "is_bot": false, "first_name": "Fuzz", "language_code": "ru" });
    let chat = json!({ "id": 4242, "type": "private", "first_name": "Fuzz" });
    vec![
        json!({ "update_id": 1, "message": {
            "message_id": 1, "date": 1_700_000_000, "chat": chat, "from": user,
            "text": "/start p_pocket-guide-to-rust",
            "entities": [{ "type": "bot_command", "offset": 0, "length": 6 }] } }),
        json!({ "update_id": 2, "message": {
            "message_id": 2, "date": 1_700_000_000, "chat": chat, "from": user,
            "text": "/paysupport where is my book?" } }),
        json!({ "update_id": 3, "pre_checkout_query": {
            "id": "q1", "from": user, "currency": "XTR", "total_amount": 250,
            "invoice_payload": "o-0000000000000000000000000000000000000000000" } }),
        json!({ "update_id": 4, "message": {
            "message_id": 3, "date": 1_700_000_000, "chat": chat, "from": user,
            "successful_payment": {
                "currency": "XTR", "total_amount": 250,
                "invoice_payload": "o-0000000000000000000000000000000000000000000",
                "telegram_payment_charge_id": "fuzz-charge", "provider_payment_charge_id": "" } } }),
        json!({ "update_id": 5, "message": {
            "message_id": 4, "date": 1_700_000_000, "chat": chat, "from": user,
            "refunded_payment": {
                "currency": "XTR", "total_amount": 250,
                "invoice_payload": "o-0000000000000000000000000000000000000000000",
                "telegram_payment_charge_id": "fuzz-charge" } } }),
        json!({ "update_id": 6, "callback_query": {
            "id": "c1", "from": user, "chat_instance": "ci", "data": "x" } }),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::from),
        // Keys and texts Telegram would never send: NULs, bidi controls, huge numbers as text.
        "[\\x00-\\x1f\u{202e}a-z_/]{0,12}".prop_map(Value::from),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[\\x00-\\x1fa-z_]{0,16}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every path to a value inside `v`.
fn paths(v: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(map) = v {
        for (key, child) in map {
            here.push(key.clone());
            out.push(here.clone());
            paths(child, here, out);
            here.pop();
        }
    } else if let Value::Array(items) = v {
        for (i, child) in items.iter().enumerate() {
            here.push(i.to_string());
            out.push(here.clone());
            paths(child, here, out);
            here.pop();
        }
    }
}

/// `update` with the value at one of its paths replaced by `with`, or removed.
fn mutate(mut update: Value, pick: usize, with: Option<Value>) -> Value {
    let mut all = Vec::new();
    paths(&update, &mut Vec::new(), &mut all);
    let path = &all[pick % all.len()];
    let (last, parents) = path.split_last().unwrap();
    let mut at = &mut update;
    for key in parents {
        at = match at {
            Value::Object(map) => map.get_mut(key).unwrap(),
            Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    match (at, with) {
        (Value::Object(map), Some(with)) => {
            map.insert(last.clone(), with);
        }
        (Value::Object(map), None) => {
            map.remove(last);
        }
        (Value::Array(items), Some(with)) => items[last.parse::<usize>().unwrap()] = with,
        (Value::Array(items), None) => {
            items.remove(last.parse::<usize>().unwrap());
        }
        _ => unreachable!(),
    }
    update
}

fn hostile_update() -> impl Strategy<Value = Vec<u8>> {
    let updates = real_updates();
    let count = updates.len();
    prop_oneof![
        // A real update with one field replaced or dropped.
        (
            0..count,
            any::<usize>(),
            prop::option::weighted(0.8, arbitrary_json()),
            1i64..i64::MAX
        )
            .prop_map(move |(which, pick, with, id)| {
                let mut update = mutate(updates[which].clone(), pick, with);
                if let Some(map) = update.as_object_mut() {
                    map.entry("update_id").and_modify(|v| {
                        if v.is_i64() {
                            *v = json!(id)
                        }
                    });
                }
                serde_json::to_vec(&update).unwrap()
            }),
        // Any JSON with a fresh update id.
        (arbitrary_json(), 1i64..i64::MAX).prop_map(|(v, id)| {
            let update = match v {
                Value::Object(mut map) => {
                    map.insert("update_id".into(), json!(id));
                    Value::Object(map)
                }
                other => other,
            };
            serde_json::to_vec(&update).unwrap()
        }),
        // Not JSON, or cut short.
        prop::collection::vec(any::<u8>(), 0..256),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn update_json_of_any_shape_is_taken_or_refused_without_panic_or_500(body in hostile_update()) {
        let status = post_update(body);
        // 200: handled, recorded for a retry, or dropped with a log line. 500 would make Telegram
        // send the same bad update again and again.
        prop_assert!(status == 200 || (400..500).contains(&status), "status {}", status);
        prop_assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the shop panicked on an update");
    }
}

// ---------------------------------------------------------------------------------------------
// Upload names
// ---------------------------------------------------------------------------------------------

fn file_name() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("../".to_owned()),
        Just("..\\".to_owned()),
        Just("/".to_owned()),
        Just(".".to_owned()),
        Just(" ".to_owned()),
        Just("\u{202e}".to_owned()),
        Just("\u{0}".to_owned()),
        Just("C:".to_owned()),
        "[a-zA-Zа-я0-9 _.-]{1,12}",
        ".{0,6}",
    ];
    prop::collection::vec(piece, 0..10).prop_map(|parts| parts.concat())
}

fn check_name(name: &str) -> Result<(), TestCaseError> {
    prop_assert!(!name.is_empty());
    prop_assert!(!name.contains(['/', '\\']), "{:?} has a separator", name);
    prop_assert!(!name.starts_with('.'), "{:?} is hidden or a parent", name);
    prop_assert!(
        !name.chars().any(|c| c.is_control()
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
        "{:?} hides characters",
        name
    );
    prop_assert!(name.chars().count() <= 120, "{:?} is too long", name);
    prop_assert_eq!(name.trim(), name);
    Ok(())
}

#[test]
fn upload_names_found_by_the_property_below() {
    // Spaces after the leading dots, and a cut that ended on a space, were kept.
    for (raw, want) in [(". a.pdf", "a.pdf"), (". .x", "x"), ("a/ . . b", "b")] {
        assert_eq!(uploads::sanitize_file_name(raw), want, "{raw:?}");
    }
    let cut = uploads::sanitize_file_name(&format!("{} {}", "a".repeat(119), "b".repeat(9)));
    assert_eq!(cut, "a".repeat(119));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn any_upload_name_stays_in_its_directory_and_visible(raw in file_name()) {
        check_name(&uploads::sanitize_file_name(&raw))?;
    }

    #[test]
    fn an_upload_name_keeps_its_extension(
        dirs in "([a-z.]{0,8}[/\\\\]){0,3}",
        stem in "[a-zA-Zа-я0-9][a-zA-Zа-я0-9 _.-]{0,300}",
        ext in "[a-z0-9]{1,8}",
    ) {
        let name = uploads::sanitize_file_name(&format!("{dirs}{stem}.{ext}"));
        check_name(&name)?;
        let dotted = format!(".{}", ext);
        prop_assert!(name.ends_with(&dotted), "{:?} lost .{}", name, ext);
        prop_assert!(name.len() > dotted.len(), "{:?} has no name before .{}", name, ext);
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

fn markdown_input() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<script>".to_owned()),
        Just("</script>".to_owned()),
        Just("<img src=x onerror=alert(1)>".to_owned()),
        Just("<svg onload=alert(1)>".to_owned()),
        Just("<a href=\"".to_owned()),
        Just("\">".to_owned()),
        Just("</a>".to_owned()),
        Just("<iframe src=".to_owned()),
        Just("<style>".to_owned()),
        Just("<math><mtext>".to_owned()),
        Just("<!--".to_owned()),
        Just("-->".to_owned()),
        Just("<![CDATA[".to_owned()),
        Just(" onclick=alert(1) ".to_owned()),
        Just(" style=\"x\" ".to_owned()),
        Just("javascript:".to_owned()),
        Just("JaVaScRiPt:".to_owned()),
        Just("vbscript:".to_owned()),
        Just("data:text/html,".to_owned()),
        Just("&#106;".to_owned()),
        Just("&#x09;".to_owned()),
        Just("&colon;".to_owned()),
        Just("[x](".to_owned()),
        Just("![y](".to_owned()),
        Just(")".to_owned()),
        Just("[r]: ".to_owned()),
        Just("[r]".to_owned()),
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("`".to_owned()),
        Just("\n".to_owned()),
        Just("    ".to_owned()),
        Just("| a | b |\n|---|---|\n".to_owned()),
        Just("- [ ] ".to_owned()),
        "[a-z(){}<>=\"' :/&#;]{0,10}",
        ".{0,8}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|parts| parts.concat())
}

/// `&…;` references an attribute value may carry, decoded as a browser would; tabs and newlines
/// dropped, as a browser does inside a URL.
fn attribute_text(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let end = tail.find(';').unwrap_or(usize::MAX);
        let reference = tail.get(..end).unwrap_or_default();
        let decoded = match reference {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "nbsp" => Some('\u{a0}'),
            "colon" => Some(':'),
            r => r.strip_prefix('#').and_then(|number| {
                match number.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => number.parse().ok(),
                }
                .and_then(char::from_u32)
            }),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out.chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .collect()
}

/// What in the sanitiser's output could run script: a dangerous element, an event handler or
/// `style` attribute, or a URL whose scheme is not one the sanitiser allows.
fn unsafe_part(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    for tag in [
        "<script",
        "<iframe",
        "<svg",
        "<img",
        "<object",
        "<embed",
        "<form",
        "<meta",
        "<link",
        "<base",
        "<style",
        "<math",
        "<template",
        "<frame",
    ] {
        if lower.contains(tag) {
            return Some(tag.to_owned());
        }
    }
    // The serialiser writes every tag as `<name attr="value" …>`, `"` escaped in values (where
    // `>` may stand as it is).
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let mut quoted = false;
        let Some(close) = after.find(|c: char| {
            if c == '"' {
                quoted = !quoted;
            }
            c == '>' && !quoted
        }) else {
            return Some(format!("an unclosed tag in {html:?}"));
        };
        let tag = &after[..close];
        rest = &after[close + 1..];
        let mut attrs = tag.split_once(' ').map(|(_, a)| a).unwrap_or_default();
        while let Some(eq) = attrs.find("=\"") {
            let name = attrs[..eq].trim().to_ascii_lowercase();
            let Some(value_end) = attrs[eq + 2..].find('"') else {
                return Some(format!("an unclosed attribute in {tag:?}"));
            };
            let value = attribute_text(&attrs[eq + 2..eq + 2 + value_end]).to_ascii_lowercase();
            attrs = &attrs[eq + 2 + value_end + 1..];
            if name.starts_with("on") || name == "style" {
                return Some(format!("attribute {name}"));
            }
            if matches!(
                name.as_str(),
                "href" | "src" | "action" | "formaction" | "xlink:href"
            ) {
                // A scheme is a letter then letters, digits, `+`, `-` or `.` before a `:`;
                // anything else is a relative URL.
                let scheme_end = value.find([':', '/', '?', '#']);
                if let Some(at) = scheme_end.filter(|at| value[*at..].starts_with(':')) {
                    let scheme = &value[..at];
                    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                        && scheme
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
                    if is_scheme && !matches!(scheme, "http" | "https" | "mailto" | "tg") {
                        return Some(format!("{name}={value}"));
                    }
                }
            }
        }
    }
    None
}

#[test]
fn the_markdown_checker_sees_what_it_looks_for() {
    // Guards the property below: each of these must be caught.
    for html in [
        "<p><a href=\"java&#115;cript:alert(1)\">x</a></p>",
        "<p><a href=\"  javascript&colon;x\">x</a></p>",
        "<p onclick=\"x\">x</p>",
        "<div style=\"x\">x</div>",
        "<p><a href=\"data:text/html,x\">x</a></p>",
        "<SCRIPT>x</SCRIPT>",
    ] {
        assert!(unsafe_part(html).is_some(), "{html}");
    }
    assert_eq!(unsafe_part("<p>javascript: is text here</p>"), None);
    assert_eq!(unsafe_part("<p><a href=\"¡:\">relative</a></p>"), None);
    assert_eq!(
        unsafe_part("<p><a href=\"https://ok.example/a:b\" rel=\"x\">x</a></p>"),
        None
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_markdown_renders_without_script(input in markdown_input()) {
        let html = markdown::render(&input);
        prop_assert!(unsafe_part(&html).is_none(), "{:?} became {:?}: {:?}", input, html, unsafe_part(&html));
    }
}
