//! A minimal EPUB 3 writer for the demo seed, so the dev preview's reader has a real book to open:
//! one XHTML chapter per part, a navigation document (the reader's table of contents) and the
//! package document, in a ZIP whose first entry is the stored `mimetype`, as readers require.

use std::io::Write;

/// Builds an EPUB titled `title` with one chapter per `(heading, body)`; `body` paragraphs are
/// separated by blank lines. `id` makes the book's identifier (the slug).
pub fn book(id: &str, title: &str, chapters: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut entries: Vec<(String, String)> = vec![
        (
            "META-INF/container.xml".into(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container version=\"1.0\" \
             xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles>\
             <rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/>\
             </rootfiles></container>\n"
                .into(),
        ),
        ("OEBPS/content.opf".into(), package(id, title, chapters.len())),
        ("OEBPS/nav.xhtml".into(), nav(title, chapters)),
    ];
    for (i, (heading, body)) in chapters.iter().enumerate() {
        entries.push((
            format!("OEBPS/chapter-{}.xhtml", i + 1),
            chapter(heading, body),
        ));
    }
    // The writes go to memory: they cannot fail.
    zip.start_file("mimetype", stored).expect("in memory");
    zip.write_all(b"application/epub+zip").expect("in memory");
    for (name, text) in entries {
        zip.start_file(name, deflated).expect("in memory");
        zip.write_all(text.as_bytes()).expect("in memory");
    }
    zip.finish().expect("in memory").into_inner()
}

fn package(id: &str, title: &str, chapters: usize) -> String {
    let items: String = (1..=chapters)
        .map(|n| {
            format!(
                "<item id=\"c{n}\" href=\"chapter-{n}.xhtml\" media-type=\"application/xhtml+xml\"/>"
            )
        })
        .collect();
    let spine: String = (1..=chapters)
        .map(|n| format!("<itemref idref=\"c{n}\"/>"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<package xmlns=\"http://www.idpf.org/2007/opf\" \
         version=\"3.0\" unique-identifier=\"id\"><metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
         <dc:identifier id=\"id\">urn:starfront:demo:{}</dc:identifier><dc:title>{}</dc:title>\
         <dc:language>en</dc:language>\
         <meta property=\"dcterms:modified\">2026-01-01T00:00:00Z</meta></metadata><manifest>\
         <item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" properties=\"nav\"/>\
         {items}</manifest><spine>{spine}</spine></package>\n",
        html_escape::encode_double_quoted_attribute(id),
        html_escape::encode_double_quoted_attribute(title)
    )
}

fn nav(title: &str, chapters: &[(&str, &str)]) -> String {
    let links: String = chapters
        .iter()
        .enumerate()
        .map(|(i, (heading, _))| {
            format!(
                "<li><a href=\"chapter-{}.xhtml\">{}</a></li>",
                i + 1,
                html_escape::encode_double_quoted_attribute(heading)
            )
        })
        .collect();
    xhtml(
        title,
        &format!(
            "<nav epub:type=\"toc\" id=\"toc\"><h1>{}</h1><ol>{links}</ol></nav>",
            html_escape::encode_double_quoted_attribute(title)
        ),
    )
}

fn chapter(heading: &str, body: &str) -> String {
    let paragraphs: String = body
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", html_escape::encode_double_quoted_attribute(p)))
        .collect();
    xhtml(
        heading,
        &format!(
            "<h1>{}</h1>{paragraphs}",
            html_escape::encode_double_quoted_attribute(heading)
        ),
    )
}

fn xhtml(title: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" \
         xmlns:epub=\"http://www.idpf.org/2007/ops\" lang=\"en\"><head><title>{}</title></head>\
         <body>{body}</body></html>\n",
        html_escape::encode_double_quoted_attribute(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_book_opens_as_an_epub_with_a_chapter_per_part_and_a_table_of_contents() {
        let epub = book(
            "demo",
            "Notes & Tips",
            &[("One", "A.\n\nB."), ("Two <2>", "C.")],
        );
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(epub)).unwrap();
        let first = archive.by_index(0).unwrap();
        assert_eq!(first.name().unwrap(), "mimetype");
        assert_eq!(first.compression(), zip::CompressionMethod::Stored);
        drop(first);
        let mut read = |name: &str| {
            let mut text = String::new();
            archive
                .by_name(name)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text
        };
        let opf = read("OEBPS/content.opf");
        assert!(
            opf.contains("<dc:title>Notes &amp; Tips</dc:title>"),
            "{opf}"
        );
        assert!(opf.contains("<itemref idref=\"c2\"/>"));
        let nav = read("OEBPS/nav.xhtml");
        assert!(
            nav.contains("<a href=\"chapter-2.xhtml\">Two &lt;2&gt;</a>"),
            "{nav}"
        );
        assert!(read("OEBPS/chapter-1.xhtml").contains("<p>A.</p><p>B.</p>"));
    }
}
