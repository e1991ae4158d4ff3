//! A minimal PDF 1.4 writer for the demo seed: real, openable documents with text pages, so the
//! dev preview delivers files a browser or phone can show. Text is limited to printable ASCII.

/// Builds a PDF with one page per entry of `pages`, each a title and paragraphs of body text.
pub fn document(title: &str, pages: &[(&str, &str)]) -> Vec<u8> {
    let mut objects: Vec<String> = Vec::new();
    // 1: catalog, 2: page tree, 3: regular font, 4: bold font, then (page, content) per page.
    let page_ids: Vec<usize> = (0..pages.len()).map(|i| 5 + 2 * i).collect();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        page_ids
            .iter()
            .map(|id| format!("{id} 0 R"))
            .collect::<Vec<_>>()
            .join(" "),
        pages.len()
    ));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>".into());
    for (i, (heading, body)) in pages.iter().enumerate() {
        let stream = page_stream(title, heading, body, i + 1);
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 595] /Contents {} 0 R \
             /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>",
            page_ids[i] + 1
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ));
    }

    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref_at = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info << /Title ({}) >> >>\nstartxref\n{xref_at}\n%%EOF\n",
            objects.len() + 1,
            escape(title)
        )
        .as_bytes(),
    );
    out
}

fn page_stream(title: &str, heading: &str, body: &str, number: usize) -> String {
    let mut s = String::from("BT\n");
    s += &format!("/F1 8 Tf 36 565 Td ({}) Tj\n", escape(title));
    s += &format!("/F2 16 Tf 0 -40 Td ({}) Tj\n", escape(heading));
    s += "/F1 11 Tf 15 TL 0 -12 Td\n";
    for paragraph in body.split("\n\n") {
        for line in wrap(paragraph, 62) {
            s += &format!("T* ({}) Tj\n", escape(&line));
        }
        s += "T*\n";
    }
    s += &format!("ET\nBT /F1 8 Tf 200 24 Td ({number}) Tj ET");
    s
}

/// Greedy word wrap to `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '(' | ')' | '\\' => format!("\\{c}"),
            ' '..='~' => c.to_string(),
            _ => "?".to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cross_reference_table_points_at_every_object() {
        let pdf = document("Demo (draft)", &[("One", "Hello world."), ("Two", "Bye.")]);
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        // Offsets are byte positions: read the tail as text only after the binary header line.
        let tail = std::str::from_utf8(&pdf[15..]).unwrap();
        let startxref: usize = tail
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(pdf[startxref..].starts_with(b"xref\n0 9\n"));
        let table = std::str::from_utf8(&pdf[startxref..]).unwrap();
        for (i, entry) in table.lines().skip(3).take(8).enumerate() {
            let offset: usize = entry[..10].parse().unwrap();
            let header = format!("{} 0 obj", i + 1);
            assert!(
                pdf[offset..].starts_with(header.as_bytes()),
                "object {} not at {offset}",
                i + 1
            );
        }
        assert!(tail.contains("/Count 2"));
        assert!(tail.contains("(Demo \\(draft\\))"));
    }

    #[test]
    fn lines_wrap_at_word_boundaries() {
        assert_eq!(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
    }
}
