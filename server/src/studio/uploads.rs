//! Uploads: streamed chunk by chunk into the file store, hashed on the way, stopped (and the
//! partial upload discarded) the moment they pass the configured limit. The type is
//! decided from the bytes, never from what the browser claims; the name is cleaned so it can
//! neither leave the directory nor hide control characters.

use super::StudioError;
use crate::storage::{Area, Headers, Storage};
use axum::body::Bytes;
use sha2::{Digest, Sha256};

/// What was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub key: String,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: u64,
    pub sha256: String,
}

/// Longest file name kept, in characters (the extension survives the cut).
const NAME_MAX: usize = 120;

/// A file name safe to store and show: the last path segment only, without control or bidi
/// characters, reserved punctuation or leading dots.
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '|' | '?' | '*' => '_',
            c => c,
        })
        .collect();
    let trimmed = trim_ends(&cleaned);
    let name = if trimmed.is_empty() { "file" } else { trimmed };
    if name.chars().count() <= NAME_MAX {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !ext.is_empty() && ext.chars().count() <= 10 => {
            let keep = NAME_MAX - ext.chars().count() - 1;
            let stem: String = stem.chars().take(keep).collect();
            format!("{}.{ext}", trim_ends(&stem))
        }
        _ => trim_ends(&name.chars().take(NAME_MAX).collect::<String>()).to_owned(),
    }
}

/// Without the dots and spaces a name may not start or end with (hidden files, names Windows
/// cannot keep), however they alternate.
fn trim_ends(name: &str) -> &str {
    name.trim_matches(|c: char| c.is_whitespace() || c == '.')
}

/// Characters that reorder text, used to disguise `exe.pdf` as `fdp.exe`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The type of a file from its first bytes (and, for zip containers and text, its name).
pub fn sniff_mime(head: &[u8], file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        "application/pdf"
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(b"\xFF\xD8\xFF") {
        "image/jpeg"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        "image/webp"
    } else if starts(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        "audio/wav"
    } else if head.get(4..8) == Some(b"ftyp") {
        if head.get(8..11) == Some(b"M4A") {
            "audio/mp4"
        } else {
            "video/mp4"
        }
    } else if starts(b"\x1A\x45\xDF\xA3") {
        "video/webm"
    } else if starts(b"OggS") {
        "audio/ogg"
    } else if starts(b"fLaC") {
        "audio/flac"
    } else if starts(b"ID3") || starts(b"\xFF\xFB") || starts(b"\xFF\xF3") {
        "audio/mpeg"
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        match ext.as_str() {
            "epub" => "application/epub+zip",
            _ => "application/zip",
        }
    } else if looks_like_markup(head) {
        "text/html"
    } else if std::str::from_utf8(head).is_ok()
        || std::str::from_utf8(&head[..head.len().saturating_sub(3)]).is_ok()
    {
        match ext.as_str() {
            "md" | "markdown" => "text/markdown",
            "csv" => "text/csv",
            _ => "text/plain",
        }
    } else {
        "application/octet-stream"
    }
}

/// HTML, SVG and XML: dangerous if ever served inline from the shop's origin.
fn looks_like_markup(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(512)]).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    [
        "<svg",
        "<?xml",
        "<!doctype",
        "<html",
        "<script",
        "<head",
        "<body",
        "<iframe",
    ]
    .iter()
    .any(|tag| text.starts_with(tag) || (tag.starts_with("<s") && text.contains(tag)))
}

/// The extension stored files get, from their sniffed type: what `/media` serves them as.
pub fn extension_for(mime: &str) -> &'static str {
    match mime {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "audio/wav" => "wav",
        "audio/mp4" => "m4a",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "audio/ogg" => "ogg",
        "audio/flac" => "flac",
        "audio/mpeg" => "mp3",
        "application/epub+zip" => "epub",
        "application/zip" => "zip",
        "text/markdown" | "text/csv" | "text/plain" => "txt",
        // Markup and unknown bytes are never given a type a browser would render.
        _ => "bin",
    }
}

/// The type a stored file is served as. Markup (HTML, SVG, XML) and unknown bytes are served as
/// `application/octet-stream`, so no browser renders a creator's file from the shop's origin,
/// whatever type was recorded when it was uploaded.
pub fn served_type(mime: &str) -> &str {
    if extension_for(mime) == "bin" {
        "application/octet-stream"
    } else {
        mime
    }
}

/// A fresh storage key under `dir` for a file of type `mime`.
pub fn new_key(dir: &str, mime: &str) -> String {
    let id = crate::payments::payload::new_public_id();
    format!("{dir}/{}.{}", &id[..20], extension_for(mime))
}

/// A stream of chunks: an axum multipart field, or anything else that yields bytes.
#[async_trait::async_trait]
pub trait Chunks: Send {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, StudioError>;
}

#[async_trait::async_trait]
impl Chunks for axum::extract::multipart::Field<'_> {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, StudioError> {
        self.chunk().await.map_err(|err| {
            tracing::info!(error = %err.body_text(), "upload broke off");
            StudioError::Invalid(app::text!(studio_errors.upload_broke_off))
        })
    }
}

/// Streams `chunks` into `area` under a key in `dir`, at most `limit` bytes. Over the limit, or
/// on any error, nothing is left behind.
pub async fn store(
    storage: &Storage,
    area: Area,
    dir: &str,
    file_name: &str,
    chunks: &mut dyn Chunks,
    limit: u64,
) -> Result<Upload, StudioError> {
    let file_name = sanitize_file_name(file_name);
    // The key carries the type, known from the first bytes: hold those back, then open the
    // object under its final key (no rename, which a bucket would do as a full copy).
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    let mut held = Vec::new();
    let mut ended = false;
    while head.len() < HEAD_BYTES {
        let Some(chunk) = chunks.next_chunk().await? else {
            ended = true;
            break;
        };
        take_chunk(&chunk, &mut size, &mut hasher, &mut head, limit)?;
        held.push(chunk);
    }
    let mime = sniff_mime(&head, &file_name);
    let key = new_key(dir, mime);
    let headers = match area {
        Area::Private => Headers::attachment(served_type(mime), &file_name),
        Area::Public => Headers::inline(served_type(mime)),
    };
    let mut writer = storage.writer(area, &key, &headers)?;
    let written = async {
        for chunk in held {
            writer.write(chunk).await?;
        }
        if !ended {
            while let Some(chunk) = chunks.next_chunk().await? {
                take_chunk(&chunk, &mut size, &mut hasher, &mut head, limit)?;
                writer.write(chunk).await?;
            }
        }
        Ok::<_, StudioError>(())
    }
    .await;
    match written {
        Ok(()) => writer.finish().await?,
        Err(err) => {
            writer.abort().await;
            return Err(err);
        }
    }
    Ok(Upload {
        key,
        file_name,
        mime_type: mime.to_owned(),
        size_bytes: size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Bytes kept for sniffing the type.
const HEAD_BYTES: usize = 4096;

/// Counts, hashes and keeps the head of one chunk; refuses it past `limit`.
fn take_chunk(
    chunk: &[u8],
    size: &mut u64,
    hasher: &mut Sha256,
    head: &mut Vec<u8>,
    limit: u64,
) -> Result<(), StudioError> {
    *size += chunk.len() as u64;
    if *size > limit {
        return Err(StudioError::TooLarge { limit });
    }
    if head.len() < HEAD_BYTES {
        let take = (HEAD_BYTES - head.len()).min(chunk.len());
        head.extend_from_slice(&chunk[..take]);
    }
    hasher.update(chunk);
    Ok(())
}

/// Reads a small upload (a cover) into memory, refusing more than `limit` bytes.
pub async fn read_small(chunks: &mut dyn Chunks, limit: u64) -> Result<Vec<u8>, StudioError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = chunks.next_chunk().await? {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(StudioError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_traverse_or_hide_characters() {
        let cases = [
            ("../../etc/passwd", "passwd"),
            ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
            ("/abs/path/book.pdf", "book.pdf"),
            ("..", "file"),
            ("...", "file"),
            ("", "file"),
            (".hidden", "hidden"),
            ("bad\u{0000}name\r\n.pdf", "badname.pdf"),
            ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),
            ("what?<is>:this|*.pdf", "what__is__this__.pdf"),
            ("  spaced out  .pdf ", "spaced out  .pdf"),
            ("Книга.epub", "Книга.epub"),
        ];
        for (raw, want) in cases {
            assert_eq!(sanitize_file_name(raw), want, "{raw:?}");
        }
        let long = format!("{}.pdf", "a".repeat(500));
        let cut = sanitize_file_name(&long);
        assert_eq!(cut.chars().count(), NAME_MAX);
        assert!(cut.ends_with(".pdf"));
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff_mime(b"%PDF-1.7\n", "x.exe"), "application/pdf");
        assert_eq!(
            sniff_mime(b"PK\x03\x04rest", "book.epub"),
            "application/epub+zip"
        );
        assert_eq!(sniff_mime(b"PK\x03\x04rest", "a.zip"), "application/zip");
        assert_eq!(sniff_mime(b"<svg xmlns='x'>", "cover.png"), "text/html");
        assert_eq!(sniff_mime(b"  <!DOCTYPE html>", "a.txt"), "text/html");
        assert_eq!(
            sniff_mime("# Заметки".as_bytes(), "notes.md"),
            "text/markdown"
        );
        assert_eq!(
            sniff_mime(&[0, 159, 146, 150, 255], "x"),
            "application/octet-stream"
        );
        assert_eq!(extension_for("text/html"), "bin");
        assert_eq!(served_type("text/html"), "application/octet-stream");
        assert_eq!(served_type("image/svg+xml"), "application/octet-stream");
        assert_eq!(served_type("application/pdf"), "application/pdf");
        assert!(new_key("products/1", "application/pdf").ends_with(".pdf"));
    }

    struct Fixed(Vec<Bytes>);

    #[async_trait::async_trait]
    impl Chunks for Fixed {
        async fn next_chunk(&mut self) -> Result<Option<Bytes>, StudioError> {
            Ok((!self.0.is_empty()).then(|| self.0.remove(0)))
        }
    }

    fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return out;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[tokio::test]
    async fn an_upload_is_stored_with_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::local(dir.path()).unwrap();
        let mut chunks = Fixed(vec![
            Bytes::from_static(b"%PDF-"),
            Bytes::from_static(b"1.7 body"),
        ]);
        let up = store(&storage, Area::Private, "p/1", "../b.pdf", &mut chunks, 100)
            .await
            .unwrap();
        assert_eq!(up.file_name, "b.pdf");
        assert_eq!(up.mime_type, "application/pdf");
        assert_eq!(up.size_bytes, 13);
        assert_eq!(up.sha256, hex::encode(Sha256::digest(b"%PDF-1.7 body")));
        let stored = storage.read(Area::Private, &up.key).await.unwrap();
        assert_eq!(&stored[..], b"%PDF-1.7 body");
        assert_eq!(files_under(dir.path()).len(), 1);
    }

    #[tokio::test]
    async fn an_oversize_upload_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::local(dir.path()).unwrap();
        let mut chunks = Fixed(vec![Bytes::from(vec![1u8; 60]), Bytes::from(vec![2u8; 60])]);
        let err = store(&storage, Area::Private, "p/1", "big.bin", &mut chunks, 100)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StudioError::TooLarge { limit: 100 }),
            "{err:?}"
        );
        assert!(err.to_string().contains("100 B"), "{err}");
        assert_eq!(files_under(dir.path()), Vec::<std::path::PathBuf>::new());
    }
}
