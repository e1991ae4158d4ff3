//! No text shown to people is written in the code: every such literal would be English only.
//! The scan reads the sources of `app` and `server` for string literals that read as sentences.

/// Literals in the code that read as sentences shown to people, outside the catalogue. Each entry
/// is (file, the literal's start) and says why it may stay.
const NOT_FOR_USERS: &[(&str, &str)] = &[
    // Operators read these (start-up, logs, metrics' help), not buyers or creators.
    ("server/src/lib.rs", "Starfront is running at"),
    ("server/src/storage.rs", "S3 bucket"),
    ("server/src/config.rs", ""),
    ("server/src/metrics.rs", ""),
    // The demo catalog is sample content a creator would have written, not the shop's words; the
    // dev preview's user picker is a developer's tool that production builds do not contain.
    ("server/src/seed/", ""),
    ("server/src/dev_preview.rs", ""),
];

/// The string literals of Rust source, with their byte offsets: comments, raw strings (SQL,
/// SVG) and char literals skipped.
fn literals(src: &str) -> Vec<(usize, String)> {
    let bytes = src.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &src[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |end| end + 2);
        } else if (rest.starts_with("r\"") || rest.starts_with("r#"))
            && !src[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
        {
            let hashes = rest[1..].chars().take_while(|&c| c == '#').count();
            let open = 1 + hashes + 1;
            let close = format!("\"{}", "#".repeat(hashes));
            i += rest[open..]
                .find(&close)
                .map_or(rest.len(), |end| open + end + close.len());
        } else if rest.starts_with('\'') {
            // A char literal ('"', '\'', 'x') or a lifetime.
            let chars: Vec<char> = rest.chars().take(4).collect();
            i += match chars.as_slice() {
                ['\'', '\\', _, '\'', ..] => 4,
                ['\'', c, '\'', ..] => 2 + c.len_utf8(),
                _ => 1,
            };
        } else if let Some(quoted) = rest.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = quoted.char_indices();
            let mut end = rest.len();
            while let Some((at, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => {
                        end = 1 + at + 1;
                        break;
                    }
                    c => text.push(c),
                }
            }
            found.push((i, text));
            i += end;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    found
}

/// Reads as words for people: Cyrillic, or a capitalised phrase of three or more words.
fn is_prose(text: &str) -> bool {
    if text
        .chars()
        .any(|c| matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё'))
    {
        return true;
    }
    let text = text.trim_start();
    let words = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count();
    let sql = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "WITH", "FOR ", "AND ", "OR ", "ORDER ",
        "LIMIT ", "FROM ", "WHERE ", "JOIN ", "GROUP ", "EXISTS ", "AS ",
    ];
    words >= 3
        && text.starts_with(|c: char| c.is_uppercase())
        && !sql.iter().any(|k| text.starts_with(k))
}

/// Literals passed to logs, panics and assertions are for developers, and so are errors' own
/// `Display` (`#[error]`): what a person reads of an error comes from the catalogue (`Text`).
fn for_developers(statement: &str) -> bool {
    [
        "tracing::",
        "info!(",
        "warn!(",
        "error!(",
        "debug!(",
        "trace!(",
        "expect(",
        "panic!(",
        "assert",
        "unreachable!(",
        "#[error(",
    ]
    .iter()
    .any(|m| statement.contains(m))
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn user_facing_texts_come_from_the_catalogue() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["app/src", "server/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "the sources were not found");
    let mut outside = Vec::new();
    for file in files {
        let name = file
            .strip_prefix(&root)
            .expect("under the root")
            .to_string_lossy()
            .replace('\\', "/");
        // Test modules kept in files of their own.
        if name.ends_with("tests.rs") || name.contains("/tests/") {
            continue;
        }
        let src = std::fs::read_to_string(&file).expect("readable source");
        // Tests say what they check in their own words.
        let code = src
            .find("#[cfg(test)]")
            .into_iter()
            .chain(src.find("#[cfg(all(test"))
            .min()
            .map_or(src.as_str(), |cut| &src[..cut]);
        for (at, text) in literals(code) {
            let statement_start = code[..at]
                .rfind([';', '{', '}'])
                .map_or(0, |start| start + 1);
            if !is_prose(&text) || for_developers(&code[statement_start..at]) {
                continue;
            }
            let allowed = NOT_FOR_USERS
                .iter()
                .any(|(path, start)| name.starts_with(path) && text.starts_with(start));
            if !allowed {
                let line = code[..at].lines().count().max(1);
                outside.push(format!("{name}:{line}: {text}"));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "texts shown to users belong in app/locales/{{en,ru}}.json:\n{}",
        outside.join("\n")
    );
}

#[test]
fn the_scan_finds_sentences_in_code_and_skips_the_rest() {
    let src = r####"
        // "A comment is not a text."
        let sql = r#"SELECT id FROM orders WHERE note = "x""#;
        let quote = '"';
        tracing::warn!("A log line for operators only.");
        return Err(Invalid("The title must have 1 to 120 characters.".into()));
        let name = "slug-only";
    "####;
    let prose: Vec<_> = literals(src)
        .into_iter()
        .filter(|(_, text)| is_prose(text))
        .map(|(_, text)| text)
        .collect();
    assert_eq!(
        prose,
        [
            "A log line for operators only.",
            "The title must have 1 to 120 characters."
        ]
    );
    assert!(is_prose("Привет"));
    assert!(!is_prose("LEPTOS_SITE_ROOT"));
}
