//! Generated SVG covers for the demo catalog.

/// A 300x400 cover: a two-colour gradient picked from the slug, the kind and the wrapped title.
pub fn svg(slug: &str, title: &str, kind_label: &str) -> String {
    const PALETTES: [(&str, &str); 6] = [
        ("#2AABEE", "#1E6FD9"),
        ("#F5A623", "#E8590C"),
        ("#7B61FF", "#3B2F8F"),
        ("#12B886", "#087F5B"),
        ("#F06595", "#A61E4D"),
        ("#495057", "#212529"),
    ];
    let hash = slug
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let (from, to) = PALETTES[hash as usize % PALETTES.len()];
    let mut lines = String::new();
    // About 14 characters of 26 px bold fit the 252 px between the margins.
    for (i, line) in wrap(title, 14).iter().take(5).enumerate() {
        lines += &format!(
            r#"<text x="24" y="{}" font-size="26" font-weight="700">{}</text>"#,
            150 + 34 * i,
            html_escape::encode_double_quoted_attribute(line)
        );
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="400" viewBox="0 0 300 400" role="img" aria-label="{label}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{from}"/><stop offset="1" stop-color="{to}"/></linearGradient></defs>
<rect width="300" height="400" fill="url(#g)"/>
<circle cx="250" cy="60" r="90" fill="#ffffff" fill-opacity="0.12"/>
<g fill="#ffffff" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">
<text x="24" y="60" font-size="14" letter-spacing="2" fill-opacity="0.85">{kind}</text>
{lines}
<text x="24" y="370" font-size="14" fill-opacity="0.85">Starfront</text>
</g>
</svg>
"##,
        label = html_escape::encode_double_quoted_attribute(title),
        kind = html_escape::encode_double_quoted_attribute(&kind_label.to_uppercase()),
    )
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_escape_titles_and_are_stable() {
        let a = svg("x", "Salt & <Pepper>", "E-book");
        assert!(a.contains("Salt &amp; &lt;Pepper&gt;"));
        assert!(!a.contains("<Pepper>"));
        assert_eq!(a, svg("x", "Salt & <Pepper>", "E-book"));
        assert!(a.starts_with("<svg") && a.trim_end().ends_with("</svg>"));
    }
}
