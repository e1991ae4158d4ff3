//! Stamped copies (issue #18): each PDF and EPUB a buyer downloads or is sent by the bot carries
//! the buyer's name, Telegram username and order number, as a visible footer line and in the
//! document's metadata. A copy is made on the buyer's first request and kept in the private file
//! area under a key derived from the buyer, the file, its version and bytes, and the line itself,
//! so later requests (and ranges of a resumed download) are served from it; the original stays
//! as the creator uploaded it. Creators switch stamping off per product (`stamp_copies`).
//!
//! The stamping itself is pure ([`stamp_pdf`], [`stamp_epub`]); [`copy_for`] is the cached
//! lookup the download route and the delivery worker share.

use crate::db::Db;
use crate::storage::{Area, Headers, Storage, StorageError};
use app::i18n::{td_string, Locale};
use app::texts::fill;
use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use sha2::{Digest, Sha256};
use std::io::{Cursor, Read, Write};

/// Largest file stamped. Stamping reads the whole file into memory; a bigger one is served as
/// uploaded (and logged), so a huge scan does not hold hundreds of MiB per buyer.
pub const MAX_STAMP_BYTES: i64 = 64 * 1024 * 1024;
/// Copies made at once: each holds its file and the parsed document in memory, and works a core
/// of the blocking pool. Other first requests wait their turn (and then usually find the copy).
const STAMPS_AT_ONCE: usize = 2;
static STAMP_TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(STAMPS_AT_ONCE);
/// Largest single document (an XHTML chapter, the package file) read out of an EPUB: the
/// archive's own sizes are not trusted against a zip bomb.
const MAX_EPUB_PART_BYTES: u64 = 16 * 1024 * 1024;
/// The resource name of the footer's font on every page; unlikely to meet a document's own.
const FONT_NAME: &[u8] = b"StarfrontStamp";
/// The metadata key that holds the whole line, in the PDF's Info dictionary.
pub const PDF_INFO_KEY: &[u8] = b"StarfrontLicense";
/// The `<meta name=…>` that holds the whole line in an EPUB's package file.
pub const EPUB_META_NAME: &str = "starfront:licensed-to";
/// The class of the footer paragraph added to each XHTML content document.
pub const EPUB_FOOTER_CLASS: &str = "starfront-stamp";

#[derive(Debug, thiserror::Error)]
pub enum StampError {
    #[error("the file does not read as a PDF that can be stamped: {0}")]
    Pdf(String),
    #[error("the file does not read as an EPUB that can be stamped: {0}")]
    Epub(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error("the stamping task stopped: {0}")]
    Task(String),
}

impl StampError {
    /// The file itself is at fault (not the store or the database): a retry gives the same.
    pub fn is_bad_file(&self) -> bool {
        matches!(self, StampError::Pdf(_) | StampError::Epub(_))
    }
}

/// The kinds of file that get stamped, by the type the shop sniffed when they were uploaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Epub,
}

impl Format {
    pub fn of(mime_type: &str) -> Option<Format> {
        match mime_type {
            "application/pdf" => Some(Format::Pdf),
            "application/epub+zip" => Some(Format::Epub),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Epub => "epub",
        }
    }
}

/// What a copy is stamped with: one line, e.g. "Licensed to Alex Smith (@alex) · order 42".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    line: String,
}

impl Stamp {
    pub fn new(line: impl Into<String>) -> Self {
        // One line: a control character (a newline in a name) would break the footer.
        let line = line.into().replace(char::is_control, " ");
        Stamp { line }
    }

    pub fn line(&self) -> &str {
        &self.line
    }

    /// The line as bytes of WinAnsiEncoding, which the standard Helvetica of every PDF reader
    /// can show without an embedded font. Latin-1 letters keep their code; any other script
    /// (a Cyrillic name like "Дарья") is transliterated (`deunicode`: "Dar'ia"). The metadata
    /// keeps the line exactly as written.
    fn win_ansi(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.line.len());
        for c in self.line.chars() {
            let code = u32::from(c);
            if (0x20..0x7f).contains(&code) || (0xa0..=0xff).contains(&code) {
                out.push(code as u8);
            } else {
                let ascii = deunicode::deunicode_char(c).unwrap_or("?");
                out.extend(ascii.bytes().filter(|b| (0x20..0x7f).contains(b)));
            }
        }
        out
    }
}

/// Who a copy is for.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Buyer {
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    /// The order that granted the product (none for a grant without one).
    pub order_id: Option<i64>,
}

/// The stamp line in the buyer's language: name, `@username` when they have one, order number.
pub fn line(locale: Locale, buyer: &Buyer) -> String {
    let mut name = buyer.first_name.trim().to_owned();
    if let Some(last) = buyer
        .last_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        name = format!("{name} {last}");
    }
    if let Some(username) = buyer
        .username
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        name = format!("{name} (@{username})");
    }
    let mut line = fill(
        td_string!(locale, stamp.licensed_to),
        &[("buyer", &name.trim())],
    );
    if let Some(order) = buyer.order_id {
        line.push_str(" · ");
        line.push_str(&fill(td_string!(locale, stamp.order), &[("order", &order)]));
    }
    line
}

/// `bytes` stamped as `format`.
pub fn stamp(format: Format, bytes: &[u8], stamp: &Stamp) -> Result<Vec<u8>, StampError> {
    match format {
        Format::Pdf => stamp_pdf(bytes, stamp),
        Format::Epub => stamp_epub(bytes, stamp),
    }
}

/// A copy of the PDF with the line in small grey Helvetica at the foot of every page and, whole,
/// under [`PDF_INFO_KEY`] and as `Subject` (when the document has none) in its Info dictionary.
/// The page's own content is wrapped in `q … Q`, so whatever state it leaves does not move or
/// hide the footer.
pub fn stamp_pdf(bytes: &[u8], stamp: &Stamp) -> Result<Vec<u8>, StampError> {
    let bad = |err: lopdf::Error| StampError::Pdf(err.to_string());
    let mut doc = Document::load_mem(bytes).map_err(bad)?;
    if doc.is_encrypted() {
        return Err(StampError::Pdf("the document is encrypted".into()));
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(StampError::Pdf("the document has no pages".into()));
    }
    let font = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Font".to_vec())),
        ("Subtype", Object::Name(b"Type1".to_vec())),
        ("BaseFont", Object::Name(b"Helvetica".to_vec())),
        ("Encoding", Object::Name(b"WinAnsiEncoding".to_vec())),
    ]));
    let save = doc.add_object(Stream::new(Dictionary::new(), b"q\n".to_vec()));
    let text = stamp.win_ansi();
    for page in pages.into_values() {
        add_font(&mut doc, page, font)?;
        let (x, y) = footer_origin(&doc, page);
        let footer = Content {
            operations: vec![
                Operation::new("Q", vec![]),
                Operation::new("q", vec![]),
                Operation::new("g", vec![Object::Real(0.35)]),
                Operation::new("BT", vec![]),
                Operation::new(
                    "Tf",
                    vec![Object::Name(FONT_NAME.to_vec()), Object::Integer(7)],
                ),
                Operation::new("Td", vec![Object::Real(x), Object::Real(y)]),
                Operation::new("Tj", vec![Object::string_literal(text.clone())]),
                Operation::new("ET", vec![]),
                Operation::new("Q", vec![]),
            ],
        };
        let footer = doc.add_object(Stream::new(
            Dictionary::new(),
            footer.encode().map_err(bad)?,
        ));
        let contents = page_contents(&doc, page)?;
        let mut wrapped = Vec::with_capacity(contents.len() + 2);
        wrapped.push(Object::Reference(save));
        wrapped.extend(contents);
        wrapped.push(Object::Reference(footer));
        doc.get_dictionary_mut(page)
            .map_err(bad)?
            .set("Contents", wrapped);
    }
    set_info(&mut doc, stamp.line()).map_err(bad)?;
    let mut out = Vec::with_capacity(bytes.len() + 4096);
    doc.save_to(&mut out)
        .map_err(|err| StampError::Pdf(err.to_string()))?;
    Ok(out)
}

/// The page's content streams as references, however the page names them.
fn page_contents(doc: &Document, page: ObjectId) -> Result<Vec<Object>, StampError> {
    let dict = doc
        .get_dictionary(page)
        .map_err(|err| StampError::Pdf(err.to_string()))?;
    Ok(match dict.get(b"Contents") {
        Ok(Object::Reference(id)) => match doc.get_object(*id) {
            Ok(Object::Array(items)) => items.clone(),
            _ => vec![Object::Reference(*id)],
        },
        Ok(Object::Array(items)) => items.clone(),
        _ => Vec::new(),
    })
}

/// Adds the footer's font to the page's resources (its own, a shared one, or a copy of what it
/// inherits from the page tree).
fn add_font(doc: &mut Document, page: ObjectId, font: ObjectId) -> Result<(), StampError> {
    let bad = |err: lopdf::Error| StampError::Pdf(err.to_string());
    let resources = doc
        .get_or_create_resources(page)
        .and_then(Object::as_dict_mut)
        .map_err(bad)?;
    let shared_fonts = match resources.get(b"Font") {
        Ok(Object::Reference(id)) => Some(*id),
        Ok(Object::Dictionary(_)) => None,
        _ => {
            resources.set("Font", Dictionary::new());
            None
        }
    };
    let fonts = match shared_fonts {
        Some(id) => doc.get_dictionary_mut(id).map_err(bad)?,
        None => resources
            .get_mut(b"Font")
            .and_then(Object::as_dict_mut)
            .map_err(bad)?,
    };
    fonts.set(FONT_NAME, Object::Reference(font));
    Ok(())
}

/// Where the footer starts: 18 pt in from the lower left corner of the page's visible box.
fn footer_origin(doc: &Document, page: ObjectId) -> (f32, f32) {
    let mut node = doc.get_dictionary(page).ok();
    // The box may be inherited from the page tree; a few levels up at most.
    for _ in 0..16 {
        let Some(dict) = node else { break };
        for key in [b"CropBox".as_slice(), b"MediaBox"] {
            if let Some(corner) = dict
                .get(key)
                .ok()
                .and_then(|o| match o {
                    Object::Reference(id) => doc.get_object(*id).ok(),
                    other => Some(other),
                })
                .and_then(|o| o.as_array().ok())
                .and_then(|a| Some((number(a.first()?)?, number(a.get(1)?)?)))
            {
                return (corner.0 + 18.0, corner.1 + 10.0);
            }
        }
        node = dict
            .get(b"Parent")
            .and_then(Object::as_reference)
            .and_then(|id| doc.get_dictionary(id))
            .ok();
    }
    (18.0, 10.0)
}

fn number(object: &Object) -> Option<f32> {
    match object {
        Object::Integer(i) => Some(*i as f32),
        Object::Real(r) => Some(*r),
        _ => None,
    }
}

/// Writes the line into the document's Info dictionary, creating it when there is none.
fn set_info(doc: &mut Document, line: &str) -> lopdf::Result<()> {
    let info = match doc.trailer.get(b"Info") {
        Ok(Object::Reference(id)) if doc.get_dictionary(*id).is_ok() => *id,
        _ => {
            let inline = match doc.trailer.get(b"Info") {
                Ok(Object::Dictionary(dict)) => dict.clone(),
                _ => Dictionary::new(),
            };
            let id = doc.add_object(inline);
            doc.trailer.set("Info", Object::Reference(id));
            id
        }
    };
    let info = doc.get_dictionary_mut(info)?;
    info.set(PDF_INFO_KEY, lopdf::text_string(line));
    if !info.has(b"Subject") {
        info.set("Subject", lopdf::text_string(line));
    }
    Ok(())
}

/// A copy of the EPUB with a footer paragraph (class [`EPUB_FOOTER_CLASS`]) at the end of every
/// XHTML document the package lists, and the line in the package's metadata (`<dc:rights>` and
/// a `<meta name="starfront:licensed-to">`). The archive is written anew: `mimetype` first and
/// stored, as readers require; untouched entries are copied as they were compressed.
pub fn stamp_epub(bytes: &[u8], stamp: &Stamp) -> Result<Vec<u8>, StampError> {
    let bad = |what: &str| StampError::Epub(what.to_owned());
    let zip_err = |err: zip::result::ZipError| StampError::Epub(err.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_err)?;
    let mimetype = read_entry(&mut archive, "mimetype")?.ok_or_else(|| bad("no mimetype"))?;
    if mimetype.trim() != "application/epub+zip" {
        return Err(bad("the mimetype is not application/epub+zip"));
    }
    let container = read_entry(&mut archive, "META-INF/container.xml")?
        .ok_or_else(|| bad("no META-INF/container.xml"))?;
    let opf_path = tags(&container, "rootfile")
        .find_map(|tag| attribute(tag, "full-path"))
        .ok_or_else(|| bad("the container names no package file"))?;
    let opf =
        read_entry(&mut archive, &opf_path)?.ok_or_else(|| bad("the package file is missing"))?;
    let base = opf_path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let documents: Vec<String> = tags(&opf, "item")
        .filter(|tag| attribute(tag, "media-type").as_deref() == Some("application/xhtml+xml"))
        .filter_map(|tag| attribute(tag, "href"))
        .map(|href| resolve(base, &href))
        .collect();
    if documents.is_empty() {
        return Err(bad("the package lists no XHTML document"));
    }

    let escaped = html_escape::encode_quoted_attribute(stamp.line());
    let mut changed: Vec<(String, Vec<u8>)> = Vec::new();
    changed.push((
        opf_path.clone(),
        stamp_package(&opf, &escaped)?.into_bytes(),
    ));
    for path in &documents {
        let Some(document) = read_entry(&mut archive, path)? else {
            return Err(StampError::Epub(format!("{path} is listed but missing")));
        };
        let at = document
            .rfind("</body>")
            .ok_or_else(|| StampError::Epub(format!("{path} has no </body>")))?;
        let footer = format!(
            "<p class=\"{EPUB_FOOTER_CLASS}\" style=\"font-size:0.7em;color:#666;\
             text-align:center;margin-top:2em\">{escaped}</p>\n"
        );
        let stamped = format!("{}{footer}{}", &document[..at], &document[at..]);
        changed.push((path.clone(), stamped.into_bytes()));
    }

    let mut out = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len() + 4096)));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("mimetype", stored).map_err(zip_err)?;
    out.write_all(b"application/epub+zip")
        .map_err(|err| StampError::Epub(err.to_string()))?;
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(zip_err)?;
        let name = entry.name().map_err(zip_err)?.into_owned();
        if name == "mimetype" {
            continue;
        }
        match changed.iter().position(|(path, _)| *path == name) {
            Some(at) => {
                let (_, content) = changed.swap_remove(at);
                drop(entry);
                out.start_file(name, deflated).map_err(zip_err)?;
                out.write_all(&content)
                    .map_err(|err| StampError::Epub(err.to_string()))?;
            }
            None => out.raw_copy_file(entry).map_err(zip_err)?,
        }
    }
    Ok(out.finish().map_err(zip_err)?.into_inner())
}

/// The package file with the line added at the end of its `<metadata>`.
fn stamp_package(opf: &str, escaped: &str) -> Result<String, StampError> {
    // `</metadata>` or a prefixed `</opf:metadata>`.
    let close = opf
        .match_indices("metadata>")
        .filter_map(|(at, _)| {
            let open = opf[..at].rfind("</")?;
            let prefix = &opf[open + 2..at];
            (prefix.is_empty() || (prefix.ends_with(':') && !prefix.contains(['<', '>', ' '])))
                .then_some(open)
        })
        .last()
        .ok_or_else(|| StampError::Epub("the package file has no </metadata>".into()))?;
    let mut added = String::new();
    // `dc:` is the prefix nearly every package binds; another one is left alone.
    if opf.contains("xmlns:dc=") {
        added.push_str(&format!("<dc:rights>{escaped}</dc:rights>\n"));
    }
    added.push_str(&format!(
        "<meta name=\"{EPUB_META_NAME}\" content=\"{escaped}\"/>\n"
    ));
    Ok(format!("{}{added}{}", &opf[..close], &opf[close..]))
}

/// An entry as text; `None` when the archive has no such entry.
fn read_entry<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Option<String>, StampError> {
    let entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(err) => return Err(StampError::Epub(err.to_string())),
    };
    let mut bytes = Vec::new();
    entry
        .take(MAX_EPUB_PART_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| StampError::Epub(format!("{name}: {err}")))?;
    if bytes.len() as u64 > MAX_EPUB_PART_BYTES {
        return Err(StampError::Epub(format!("{name} is too large")));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| StampError::Epub(format!("{name} is not UTF-8")))
}

/// The opening tags named `name` (`<name …>` or `<prefix:name …>`) in `xml`.
fn tags<'a>(xml: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    xml.split('<').skip(1).filter_map(move |rest| {
        let tag = &rest[..rest.find('>')?];
        let tag_name = tag.split(|c: char| c.is_whitespace() || c == '/').next()?;
        let local = tag_name.rsplit(':').next()?;
        (local == name).then_some(tag)
    })
}

/// The value of `name="…"` (or `'…'`) in a tag, entities for `&`, `<`, `>` and quotes undone.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].trim_start();
        rest = &rest[at + name.len()..];
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let value = &value[1..];
        let end = value.find(quote)?;
        return Some(
            value[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
    }
    None
}

/// A package-relative href as the archive names the entry: percent-decoded, `..` folded.
fn resolve(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or_default();
    let href = percent_encoding::percent_decode_str(href).decode_utf8_lossy();
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in href.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// A paid file as stored: what [`copy_for`] needs to decide and to make a copy.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SourceFile {
    pub id: i64,
    pub product_id: i64,
    pub version: i64,
    pub file_name: String,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    /// The product's switch.
    pub stamp_copies: bool,
}

/// A buyer's stamped copy, in the private area.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StampedCopy {
    pub storage_key: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// The buyer's stamped copy of `file`, made now if this is their first request; `None` when the
/// file is to be served as uploaded (stamping off for the product, not a PDF or EPUB, past
/// [`MAX_STAMP_BYTES`], or not readable as its format). The caller has checked the entitlement.
pub async fn copy_for(
    db: &Db,
    storage: &Storage,
    user_id: i64,
    file: &SourceFile,
) -> Result<Option<StampedCopy>, StampError> {
    let Some(format) = Format::of(&file.mime_type).filter(|_| file.stamp_copies) else {
        return Ok(None);
    };
    if file.size_bytes > MAX_STAMP_BYTES {
        tracing::warn!(
            file = file.id,
            size = file.size_bytes,
            "too large to stamp; served as uploaded"
        );
        return Ok(None);
    }
    let buyer: Buyer = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT u.first_name, u.last_name, u.username, e.order_id
         FROM users u
         LEFT JOIN entitlements e ON e.user_id = u.id AND e.product_id = $2
         WHERE u.id = $1",
    )
    .bind(user_id)
    .bind(file.product_id)
    .fetch_one(pool)
    .await)?;
    let locale = crate::users::locale(db, user_id).await?;
    let stamp = Stamp::new(line(locale, &buyer));
    let key = copy_key(user_id, file, format, &stamp);

    if let Some(copy) = recorded(db, &key).await? {
        return Ok(Some(copy));
    }
    let _turn = STAMP_TURNS
        .acquire()
        .await
        .map_err(|err| StampError::Task(err.to_string()))?;
    // Made by another request while this one waited.
    if let Some(copy) = recorded(db, &key).await? {
        return Ok(Some(copy));
    }
    let original = storage.read(Area::Private, &file.storage_key).await?;
    let stamped = match tokio::task::spawn_blocking(move || self::stamp(format, &original, &stamp))
        .await
        .map_err(|err| StampError::Task(err.to_string()))?
    {
        Ok(stamped) => stamped,
        // The buyer paid for the file: one that cannot be stamped still reaches them, as
        // uploaded, and the log says which file the creator should look at.
        Err(err) if err.is_bad_file() => {
            tracing::warn!(file = file.id, error = %err, "cannot be stamped; served as uploaded");
            return Ok(None);
        }
        Err(err) => return Err(err),
    };
    // Only a PDF or an EPUB gets here (`Format::of`), and both are served as their own type.
    let headers = Headers::attachment(&file.mime_type, &file.file_name);
    let stored = storage.put(Area::Private, &key, &stamped, &headers).await?;
    // Two first requests at once both make the copy (the same bytes under the same key); one
    // row records it.
    crate::on_db!(db, |pool| {
        sqlx::query(
        "INSERT INTO stamped_copies (user_id, file_id, file_version, storage_key, size_bytes, sha256)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (storage_key) DO NOTHING",
    )
    .bind(user_id)
    .bind(file.id)
    .bind(file.version)
    .bind(&key)
    .bind(i64::try_from(stored.size_bytes).unwrap_or(i64::MAX))
    .bind(&stored.sha256)
    .execute(pool)
    .await
    .map(crate::db::Done::from)
    })?;
    Ok(Some(StampedCopy {
        storage_key: key,
        size_bytes: i64::try_from(stored.size_bytes).unwrap_or(i64::MAX),
        sha256: stored.sha256,
    }))
}

async fn recorded(db: &Db, key: &str) -> Result<Option<StampedCopy>, sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT storage_key, size_bytes, sha256 FROM stamped_copies WHERE storage_key = $1"
    )
    .bind(key)
    .fetch_optional(pool)
    .await)
}

/// Removes the stamped copies of a file's versions before `version`, once the creator has
/// uploaded it: buyers get copies of the new version from then on. Returns how many went.
pub async fn forget_earlier_versions(
    db: &Db,
    storage: &Storage,
    file_id: i64,
    version: i64,
) -> Result<usize, StampError> {
    let keys: Vec<String> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT storage_key FROM stamped_copies WHERE file_id = $1 AND file_version < $2"
    )
    .bind(file_id)
    .bind(version)
    .fetch_all(pool)
    .await)?;
    for key in &keys {
        storage.delete(Area::Private, key).await?;
        crate::on_db!(db, |pool| sqlx::query(
            "DELETE FROM stamped_copies WHERE storage_key = $1"
        )
        .bind(key)
        .execute(pool)
        .await
        .map(crate::db::Done::from))?;
    }
    Ok(keys.len())
}

/// `stamped/<user>/<file>-v<version>-<digest>.<ext>`: the digest covers the original's bytes and
/// the line, so a new upload, a renamed buyer or another language makes a new copy.
fn copy_key(user_id: i64, file: &SourceFile, format: Format, stamp: &Stamp) -> String {
    let mut digest = Sha256::new();
    digest.update(file.sha256.as_bytes());
    digest.update(b"\n");
    digest.update(stamp.line().as_bytes());
    let digest = hex::encode(digest.finalize());
    format!(
        "stamped/{user_id}/{}-v{}-{}.{}",
        file.id,
        file.version,
        &digest[..16],
        format.extension()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_pdf() -> Vec<u8> {
        crate::seed::pdf::document(
            "A Book",
            &[("One", "The first page."), ("Two", "The second page.")],
        )
    }

    fn page_texts(pdf: &[u8]) -> Vec<String> {
        let doc = Document::load_mem(pdf).unwrap();
        let pages: Vec<u32> = doc.get_pages().into_keys().collect();
        pages
            .iter()
            .map(|n| doc.extract_text(&[*n]).unwrap())
            .collect()
    }

    fn info(pdf: &[u8], key: &[u8]) -> String {
        let doc = Document::load_mem(pdf).unwrap();
        let id = doc.trailer.get(b"Info").unwrap().as_reference().unwrap();
        lopdf::decode_text_string(doc.get_dictionary(id).unwrap().get(key).unwrap()).unwrap()
    }

    #[test]
    fn a_stamped_pdf_shows_the_line_on_every_page_and_keeps_it_in_the_metadata() {
        let original = sample_pdf();
        let before = original.clone();
        let stamp = Stamp::new("Licensed to Alex Smith (@alex) · order 42");
        let stamped = stamp_pdf(&original, &stamp).unwrap();
        assert_eq!(original, before, "the input is not touched");
        let texts = page_texts(&stamped);
        assert_eq!(texts.len(), 2);
        for text in &texts {
            assert!(
                text.contains("Licensed to Alex Smith (@alex) · order 42"),
                "{text}"
            );
        }
        assert!(
            texts[0].contains("The first page."),
            "the page keeps its text"
        );
        assert!(!page_texts(&original)[0].contains("Licensed"));
        assert_eq!(
            info(&stamped, PDF_INFO_KEY),
            "Licensed to Alex Smith (@alex) · order 42"
        );
        assert_eq!(info(&stamped, b"Title"), "A Book", "the Info is kept");
    }

    #[test]
    fn a_cyrillic_name_is_transliterated_on_the_page_and_exact_in_the_metadata() {
        let stamp = Stamp::new("Лицензия: Дарья (@dasha) · заказ 7");
        let stamped = stamp_pdf(&sample_pdf(), &stamp).unwrap();
        let text = &page_texts(&stamped)[0];
        assert!(
            text.contains("Litsenziia: Dar'ia (@dasha) · zakaz 7"),
            "{text}"
        );
        assert_eq!(
            info(&stamped, PDF_INFO_KEY),
            "Лицензия: Дарья (@dasha) · заказ 7"
        );
    }

    #[test]
    fn broken_input_is_an_error_not_a_panic() {
        let stamp = Stamp::new("Licensed to A");
        for junk in [
            &b""[..],
            b"%PDF-1.4\nnot really",
            b"PK\x03\x04garbage",
            &sample_pdf()[..200],
        ] {
            assert!(matches!(stamp_pdf(junk, &stamp), Err(StampError::Pdf(_))));
            assert!(matches!(stamp_epub(junk, &stamp), Err(StampError::Epub(_))));
        }
        // A zip that is no EPUB.
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("a.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"hello").unwrap();
        let zip = zip.finish().unwrap().into_inner();
        assert!(matches!(stamp_epub(&zip, &stamp), Err(StampError::Epub(_))));
        assert!(stamp_pdf(&sample_pdf(), &stamp).unwrap().len() > 100);
    }

    /// A small EPUB 3: two chapters (one in a subfolder, with an escaped href), a nav document,
    /// a stylesheet and an image that must come through unchanged.
    pub(crate) fn sample_epub() -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("mimetype", stored).unwrap();
        zip.write_all(b"application/epub+zip").unwrap();
        let chapter = |title: &str| {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\
                 <head><title>{title}</title></head><body><h1>{title}</h1><p>Text.</p></body></html>"
            )
        };
        let files: [(&str, String); 6] = [
            (
                "META-INF/container.xml",
                "<?xml version=\"1.0\"?><container version=\"1.0\" \
                 xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles>\
                 <rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/>\
                 </rootfiles></container>"
                    .into(),
            ),
            (
                "OEBPS/content.opf",
                "<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" \
                 unique-identifier=\"id\"><metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
                 <dc:identifier id=\"id\">urn:uuid:1</dc:identifier><dc:title>A Book</dc:title>\
                 <dc:language>en</dc:language></metadata><manifest>\
                 <item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" properties=\"nav\"/>\
                 <item id=\"c1\" href=\"text/chapter%201.xhtml\" media-type=\"application/xhtml+xml\"/>\
                 <item id=\"c2\" href='text/two.xhtml' media-type='application/xhtml+xml'/>\
                 <item id=\"css\" href=\"style.css\" media-type=\"text/css\"/>\
                 </manifest><spine><itemref idref=\"c1\"/><itemref idref=\"c2\"/></spine></package>"
                    .into(),
            ),
            ("OEBPS/nav.xhtml", chapter("Contents")),
            ("OEBPS/text/chapter 1.xhtml", chapter("One")),
            ("OEBPS/text/two.xhtml", chapter("Two")),
            ("OEBPS/style.css", "body { margin: 0 }".into()),
        ];
        for (name, content) in files {
            zip.start_file(name, deflated).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn entries(epub: &[u8]) -> Vec<(String, zip::CompressionMethod, String)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(epub)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut entry = archive.by_index(i).unwrap();
                let mut text = String::new();
                entry.read_to_string(&mut text).unwrap();
                (
                    entry.name().unwrap().into_owned(),
                    entry.compression(),
                    text,
                )
            })
            .collect()
    }

    #[test]
    fn a_stamped_epub_has_the_footer_in_every_document_and_the_line_in_its_metadata() {
        let original = sample_epub();
        let stamp = Stamp::new("Licensed to Anna & Co <x> (@anna) · order 9");
        let stamped = stamp_epub(&original, &stamp).unwrap();
        let escaped = "Licensed to Anna &amp; Co &lt;x&gt; (@anna) · order 9";
        let got = entries(&stamped);
        assert_eq!(got[0].0, "mimetype", "mimetype comes first");
        assert_eq!(got[0].1, zip::CompressionMethod::Stored);
        assert_eq!(got[0].2, "application/epub+zip");
        let names: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
        let before = entries(&original);
        assert_eq!(
            names,
            before.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
            "every entry, in order"
        );
        for (name, _, text) in &got {
            if name.ends_with(".xhtml") {
                let footer = format!("<p class=\"{EPUB_FOOTER_CLASS}\"");
                assert_eq!(text.matches(&footer).count(), 1, "{name}");
                let at = text.find(&footer).unwrap();
                assert!(text[at..].contains(escaped), "{name}: {text}");
                assert!(
                    at < text.find("</body>").unwrap(),
                    "{name}: inside the body"
                );
            }
        }
        let opf = &got.iter().find(|e| e.0 == "OEBPS/content.opf").unwrap().2;
        assert!(
            opf.contains(&format!("<dc:rights>{escaped}</dc:rights>")),
            "{opf}"
        );
        assert!(opf.contains(&format!(
            "<meta name=\"{EPUB_META_NAME}\" content=\"{escaped}\"/>"
        )));
        assert!(opf.find("<dc:rights>").unwrap() < opf.find("</metadata>").unwrap());
        let css = |e: &[(String, zip::CompressionMethod, String)]| {
            e.iter()
                .find(|e| e.0 == "OEBPS/style.css")
                .unwrap()
                .2
                .clone()
        };
        assert_eq!(css(&got), css(&before));
        assert!(!entries(&original)
            .iter()
            .any(|e| e.2.contains(EPUB_FOOTER_CLASS)));
    }

    #[test]
    fn an_epub_without_its_package_or_a_listed_document_is_refused() {
        let stamp = Stamp::new("Licensed to A");
        let epub = sample_epub();
        // Drop one chapter the package lists.
        let mut archive = zip::ZipArchive::new(Cursor::new(&epub[..])).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..archive.len() {
            let entry = archive.by_index_raw(i).unwrap();
            if entry.name().unwrap() != "OEBPS/text/two.xhtml" {
                out.raw_copy_file(entry).unwrap();
            }
        }
        let broken = out.finish().unwrap().into_inner();
        match stamp_epub(&broken, &stamp) {
            Err(StampError::Epub(why)) => assert!(why.contains("two.xhtml"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    /// Two first requests at once (the library's download and the bot's delivery) both make the
    /// copy and store it under one key: they must make the same bytes.
    #[test]
    fn stamping_is_deterministic() {
        let stamp = Stamp::new("Licensed to A (@a) · order 1");
        let pdf = sample_pdf();
        assert_eq!(
            stamp_pdf(&pdf, &stamp).unwrap(),
            stamp_pdf(&pdf, &stamp).unwrap()
        );
        let epub = sample_epub();
        assert_eq!(
            stamp_epub(&epub, &stamp).unwrap(),
            stamp_epub(&epub, &stamp).unwrap()
        );
    }

    #[test]
    fn the_line_names_the_buyer_their_username_and_the_order() {
        let buyer = Buyer {
            first_name: "Alex".into(),
            last_name: Some("Smith".into()),
            username: Some("alex".into()),
            order_id: Some(42),
        };
        assert_eq!(
            line(Locale::en, &buyer),
            "Licensed to Alex Smith (@alex) · order 42"
        );
        let dasha = Buyer {
            first_name: "Дарья".into(),
            ..Buyer::default()
        };
        assert_eq!(line(Locale::ru, &dasha), "Лицензия: Дарья");
        assert_eq!(Stamp::new("a\nb").line(), "a b");
    }

    #[test]
    fn hrefs_resolve_against_the_package_folder() {
        assert_eq!(
            resolve("OEBPS", "text/a%20b.xhtml#x"),
            "OEBPS/text/a b.xhtml"
        );
        assert_eq!(resolve("OEBPS/sub", "../c.xhtml"), "OEBPS/c.xhtml");
        assert_eq!(resolve("", "c.xhtml"), "c.xhtml");
        assert_eq!(
            attribute("item id=\"a\" xhref=\"no\" href='y&amp;z'", "href").as_deref(),
            Some("y&z")
        );
    }
}
