//! Stamped copies (#18): the buyer's PDF carries their name, username and order number, made
//! once and served again from the store; the bot sends the same copy; another buyer gets their
//! own; a refund stops the copy as it stops the file; the creator's switch turns it off; a file
//! that does not read as a PDF is refused with a clear error. The stamping of PDFs and EPUBs
//! themselves is tested beside it (`server::stamping`'s unit tests).

use crate::common::{self, wait_for, TestApp};
use lopdf::Document;
use reqwest::Method;
use serde_json::{json, Value};
use server::payments::{self, OrderStatus};
use server::stamping::PDF_INFO_KEY;
use server::storage::Area;
use sha2::{Digest, Sha256};

const BOOK: &str = "pocket-guide-to-rust";

/// A Telegram user as the Mini App's init data names them.
fn user(id: i64, first: &str, last: Option<&str>, username: &str, language: &str) -> Value {
    let mut user = json!({ "id": id, "first_name": first, "username": username,
                            "language_code": language });
    if let Some(last) = last {
        user["last_name"] = json!(last);
    }
    user
}

/// `Authorization` for `user`, signed now.
fn auth(user: &Value) -> String {
    format!("tma {}", common::signed_init_data(user, clock::unix_now()))
}

/// `user` opens the Mini App (so the shop knows their name) and pays for `slug`; the order's
/// numeric id and public id.
async fn buy(app: &TestApp, user: &Value, slug: &str) -> (i64, String) {
    let id = user["id"].as_i64().unwrap();
    app.control("users", user.clone()).await;
    let me = app
        .http
        .get(format!("{}/api/me", app.base))
        .header("authorization", auth(user))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let order = payments::create_order(&app.db, &app.bot, id, slug, None)
        .await
        .unwrap();
    let paid = app
        .control(
            "invoices/pay",
            json!({ "link": order.invoice_link, "user_id": id }),
        )
        .await;
    assert_eq!(paid["status"], "paid", "{paid}");
    wait_for("the payment", async || {
        payments::order_status(&app.db, id, &order.public_id)
            .await
            .unwrap()
            == OrderStatus::Paid
    })
    .await;
    let number: i64 = server::on_db!(&app.db, |pool| sqlx::query_scalar(
        "SELECT id FROM orders WHERE public_id = $1"
    )
    .bind(&order.public_id)
    .fetch_one(pool)
    .await)
    .unwrap();
    (number, order.public_id)
}

/// The library's download link of the product's first file, for `user`.
async fn link(app: &TestApp, user: &Value, slug: &str) -> String {
    let library: Vec<Value> = app
        .http
        .get(format!("{}/api/library", app.base))
        .header("authorization", auth(user))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = library.iter().find(|i| i["slug"] == slug).unwrap();
    item["files"][0]["url"].as_str().unwrap().to_owned()
}

async fn download(app: &TestApp, link: &str) -> (u16, Vec<u8>) {
    let res = app
        .http
        .get(format!("{}{link}", app.base))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

/// The product's content file as stored: its key, its recorded sha256 and its bytes now.
async fn original(app: &TestApp, slug: &str) -> (String, String, Vec<u8>) {
    let (key, sha256): (String, String) = server::on_db!(&app.db, |pool| {
        sqlx::query_as(
        "SELECT f.storage_key, f.sha256 FROM product_files f JOIN products p ON p.id = f.product_id
         WHERE p.slug = $1 AND f.role = 'content' ORDER BY f.id LIMIT 1",
    )
    .bind(slug)
    .fetch_one(pool)
    .await
    })
    .unwrap();
    let bytes = app
        .state
        .storage
        .read(Area::Private, &key)
        .await
        .unwrap()
        .to_vec();
    (key, sha256, bytes)
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Each page's text and the Info dictionary's stamp, read back with a PDF parser.
fn read_pdf(bytes: &[u8]) -> (Vec<String>, String) {
    let doc = Document::load_mem(bytes).expect("a PDF");
    let pages: Vec<u32> = doc.get_pages().into_keys().collect();
    let texts = pages
        .iter()
        .map(|n| doc.extract_text(&[*n]).unwrap())
        .collect();
    let info = doc.trailer.get(b"Info").unwrap().as_reference().unwrap();
    let line =
        lopdf::decode_text_string(doc.get_dictionary(info).unwrap().get(PDF_INFO_KEY).unwrap())
            .unwrap();
    (texts, line)
}

async fn copies(app: &TestApp, user: i64) -> Vec<(String, String)> {
    server::on_db!(&app.db, |pool| sqlx::query_as(
        "SELECT storage_key, sha256 FROM stamped_copies WHERE user_id = $1 ORDER BY id"
    )
    .bind(user)
    .fetch_all(pool)
    .await)
    .unwrap()
}

#[tokio::test]
async fn each_buyer_gets_and_is_sent_their_own_stamped_copy_until_a_refund() {
    let app = TestApp::start(&[]).await;
    let (_, sha256, stored) = original(&app, BOOK).await;
    assert_eq!(sha(&stored), sha256);

    // Alex buys and downloads: the book with their line on every page and in the metadata.
    let alex = user(8801, "Alex", Some("Smith"), "alex", "en");
    let (order, public_id) = buy(&app, &alex, BOOK).await;
    let alex_link = link(&app, &alex, BOOK).await;
    let (status, copy) = download(&app, &alex_link).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&copy));
    let want = format!("Licensed to Alex Smith (@alex) · order {order}");
    let (pages, info) = read_pdf(&copy);
    assert!(pages.len() > 1);
    for text in &pages {
        assert!(text.contains(&want), "{text}");
    }
    assert_eq!(info, want);
    assert!(!read_pdf_text(&stored).contains("Licensed to"));

    // Served again from the store: the same bytes, one copy recorded; the original untouched.
    let (status, again) = download(&app, &alex_link).await;
    assert_eq!(status, 200);
    assert_eq!(again, copy);
    let recorded = copies(&app, 8801).await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].1, sha(&copy));
    assert_eq!(
        original(&app, BOOK).await.2,
        stored,
        "the original is untouched"
    );

    // The bot's delivery is that copy too.
    wait_for("the delivery", async || {
        app.chat(8801)
            .await
            .iter()
            .any(|m| m["message"].get("document").is_some())
    })
    .await;
    let sent: Vec<String> = app
        .chat(8801)
        .await
        .iter()
        .filter(|m| m["message"].get("document").is_some())
        .map(|m| m["file"]["sha256"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, [sha(&copy)], "the bot sent the stamped copy");
    assert_eq!(copies(&app, 8801).await.len(), 1);

    // Another buyer, in Russian with a Cyrillic name: their own line (transliterated on the
    // page, exact in the metadata), their own copy.
    let dasha = user(8802, "Дарья", None, "dasha", "ru");
    let (dasha_order, _) = buy(&app, &dasha, BOOK).await;
    let dasha_link = link(&app, &dasha, BOOK).await;
    let (status, dasha_copy) = download(&app, &dasha_link).await;
    assert_eq!(status, 200);
    let (pages, info) = read_pdf(&dasha_copy);
    assert_eq!(
        info,
        format!("Лицензия: Дарья (@dasha) · заказ {dasha_order}")
    );
    assert!(
        pages[0].contains(&format!(
            "Litsenziia: Dar'ia (@dasha) · zakaz {dasha_order}"
        )),
        "{}",
        pages[0]
    );
    assert!(!pages[0].contains("Alex"));
    assert_ne!(dasha_copy, copy);

    // A refund stops Alex's copy as it stops the file: the link, and a fresh one, are refused.
    let refunded = payments::refund(
        &app.db,
        &app.bot,
        public_id.as_str(),
        payments::Actor {
            user_id: 1,
            is_admin: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(refunded, payments::RefundOutcome::Refunded);
    let (status, body) = download(&app, &alex_link).await;
    assert_eq!(status, 403);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "not_entitled");
    let file_id = app
        .state
        .signer
        .verify(
            alex_link.trim_start_matches("/download/"),
            clock::unix_now(),
        )
        .unwrap()
        .file_id;
    let fresh = app.state.signer.sign(8801, file_id, clock::unix_now());
    assert_eq!(download(&app, &format!("/download/{fresh}")).await.0, 403);

    // The creator switches stamping off in the studio: the book goes as uploaded.
    let (product_id, creator): (i64, i64) = server::on_db!(&app.db, |pool| sqlx::query_as(
        "SELECT id, creator_id FROM products WHERE slug = $1"
    )
    .bind(BOOK)
    .fetch_one(pool)
    .await)
    .unwrap();
    let path = format!("/api/studio/products/{product_id}");
    let product: Value = app
        .as_user(creator, Method::GET, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(product["stamp_copies"], true, "on unless switched off");
    let mut input = json!({
        "title": product["title"], "kind": product["kind"], "description": product["description"],
        "price_stars": product["price_stars"], "billing": product["billing"],
    });
    input["stamp_copies"] = json!(false);
    let res = app
        .as_user(creator, Method::PUT, &path)
        .json(&input)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let saved: Value = res.json().await.unwrap();
    assert_eq!(saved["stamp_copies"], false);
    let (status, plain) = download(&app, &link(&app, &dasha, BOOK).await).await;
    assert_eq!(status, 200);
    assert_eq!(plain, stored, "the original bytes");
}

fn read_pdf_text(bytes: &[u8]) -> String {
    let doc = Document::load_mem(bytes).unwrap();
    let pages: Vec<u32> = doc.get_pages().into_keys().collect();
    doc.extract_text(&pages).unwrap()
}

#[tokio::test]
async fn a_file_that_is_no_readable_pdf_still_reaches_its_buyer_as_uploaded() {
    let app = TestApp::start(&[]).await;
    // The book's file is replaced (as a creator's broken upload would be) by bytes that start
    // like a PDF and are none.
    let junk = b"%PDF-1.4\n% not a document at all\n".to_vec();
    let key = "content/broken/broken.pdf";
    let stored = app
        .state
        .storage
        .put(
            Area::Private,
            key,
            &junk,
            &server::storage::Headers::attachment("application/pdf", "broken.pdf"),
        )
        .await
        .unwrap();
    server::on_db!(&app.db, |pool| sqlx::query(
        "UPDATE product_files SET storage_key = $1, sha256 = $2, size_bytes = $3
         WHERE role = 'content' AND product_id = (SELECT id FROM products WHERE slug = $4)",
    )
    .bind(key)
    .bind(&stored.sha256)
    .bind(stored.size_bytes as i64)
    .bind(BOOK)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let buyer = user(8803, "Bea", None, "bea", "en");
    buy(&app, &buyer, BOOK).await;
    let (status, body) = download(&app, &link(&app, &buyer, BOOK).await).await;
    assert_eq!(status, 200, "the buyer paid: the file reaches them");
    assert_eq!(body, junk, "as uploaded");
    assert!(copies(&app, 8803).await.is_empty());
    assert_eq!(
        app.state.storage.read(Area::Private, key).await.unwrap(),
        junk
    );
}

/// A small EPUB 3 whose one chapter says `text`.
fn epub(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/epub+zip").unwrap();
    let files = [
        (
            "META-INF/container.xml",
            "<?xml version=\"1.0\"?><container version=\"1.0\" \
             xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles>\
             <rootfile full-path=\"OPS/package.opf\" media-type=\"application/oebps-package+xml\"/>\
             </rootfiles></container>"
                .to_owned(),
        ),
        (
            "OPS/package.opf",
            "<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" \
             unique-identifier=\"id\"><metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
             <dc:identifier id=\"id\">urn:uuid:2</dc:identifier><dc:title>Field Notes</dc:title>\
             <dc:language>en</dc:language></metadata><manifest>\
             <item id=\"c1\" href=\"chapter.xhtml\" media-type=\"application/xhtml+xml\"/>\
             </manifest><spine><itemref idref=\"c1\"/></spine></package>"
                .to_owned(),
        ),
        (
            "OPS/chapter.xhtml",
            format!(
                "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><head>\
                 <title>One</title></head><body><p>{text}</p></body></html>"
            ),
        ),
    ];
    for (name, content) in files {
        zip.start_file(name, deflated).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Every entry of an archive as text, in order, with how it is compressed.
fn entries(epub: &[u8]) -> Vec<(String, zip::CompressionMethod, String)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(epub)).expect("a zip");
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

#[tokio::test]
async fn an_epub_is_stamped_too_and_a_new_version_gets_a_new_copy() {
    let app = TestApp::start(&[]).await;
    const MIRA: i64 = 1001;
    let created: Value = app
        .as_user(MIRA, Method::POST, "/api/studio/products")
        .json(
            &json!({ "title": "Field Notes EPUB", "kind": "ebook", "description": "",
                       "price_stars": 30 }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["stamp_copies"], true, "{created}");
    let (id, slug) = (
        created["id"].as_i64().unwrap(),
        created["slug"].as_str().unwrap().to_owned(),
    );
    let upload = async |bytes: &[u8], replace: Option<i64>| -> Value {
        let (content_type, body) = crate::studio::multipart("notes.epub", bytes);
        let query = replace.map_or(String::new(), |f| format!("?replace={f}"));
        let res = app
            .as_user(
                MIRA,
                Method::POST,
                &format!("/api/studio/products/{id}/files{query}"),
            )
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    };
    let first = epub("Version one.");
    let file = upload(&first, None).await;
    assert_eq!(file["mime_type"], "application/epub+zip");
    let publish = app
        .as_user(
            MIRA,
            Method::POST,
            &format!("/api/studio/products/{id}/publish"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(publish.status(), 200);

    let buyer = user(8804, "Chris", Some("Lee"), "chris", "en");
    let (order, _) = buy(&app, &buyer, &slug).await;
    let want = format!("Licensed to Chris Lee (@chris) · order {order}");
    let (status, copy) = download(&app, &link(&app, &buyer, &slug).await).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&copy));
    let got = entries(&copy);
    assert_eq!(got[0].0, "mimetype");
    assert_eq!(got[0].1, zip::CompressionMethod::Stored);
    let chapter = &got.iter().find(|e| e.0 == "OPS/chapter.xhtml").unwrap().2;
    assert!(chapter.contains("Version one."), "{chapter}");
    assert!(
        chapter.contains("class=\"starfront-stamp\"") && chapter.contains(&want),
        "{chapter}"
    );
    let opf = &got.iter().find(|e| e.0 == "OPS/package.opf").unwrap().2;
    assert!(
        opf.contains(&format!("<dc:rights>{want}</dc:rights>")),
        "{opf}"
    );
    let (_, _, stored) = original(&app, &slug).await;
    assert_eq!(stored, first, "the original is untouched");
    let old = copies(&app, 8804).await;
    assert_eq!(old.len(), 1);

    // The creator uploads a new version: the old copy goes, the next download stamps the new.
    let file_id = file["id"].as_i64().unwrap();
    let second = epub("Version two.");
    assert_eq!(upload(&second, Some(file_id)).await["version"], 2);
    assert!(copies(&app, 8804).await.is_empty());
    assert!(!app
        .state
        .storage
        .exists(Area::Private, &old[0].0)
        .await
        .unwrap());
    let (status, copy) = download(&app, &link(&app, &buyer, &slug).await).await;
    assert_eq!(status, 200);
    let chapter = entries(&copy)
        .into_iter()
        .find(|e| e.0 == "OPS/chapter.xhtml")
        .unwrap()
        .2;
    assert!(
        chapter.contains("Version two.") && chapter.contains(&want),
        "{chapter}"
    );
    assert_eq!(copies(&app, 8804).await.len(), 1);
}
