//! The reader (#18): a buyer opens a bought PDF or EPUB through `/api/reader/{file}` (a link to
//! their stamped copy through the download route, and where they stopped), and the page they
//! turn to is kept per buyer and file. Whoever may not download the file (another user, a
//! refunded buyer) may neither open it nor keep a place in it.

use crate::common::TestApp;
use reqwest::Method;
use serde_json::{json, Value};

const PDF_BOOK: &str = "pocket-guide-to-rust";
/// The demo book with an EPUB beside its PDF.
const EPUB_BOOK: &str = "night-photography-field-notes";
const SOUNDS: &str = "lofi-sample-pack-vol-1";

/// The buyer's files of `slug` in their library: (name, read_url, download url).
async fn files(app: &TestApp, user: i64, slug: &str) -> Vec<(String, Option<String>, String)> {
    let (status, library) = app.call(user, Method::GET, "/api/library", None).await;
    assert_eq!(status, 200, "{library}");
    let item = library
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} is not in the library: {library}"));
    item["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["read_url"].as_str().map(str::to_owned),
                f["url"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The file id in a reader page's address (`/read/<id>`).
fn file_id(read_url: &str) -> i64 {
    read_url.strip_prefix("/read/").unwrap().parse().unwrap()
}

async fn open(app: &TestApp, user: i64, file: i64) -> (u16, Value) {
    app.call(user, Method::GET, &format!("/api/reader/{file}"), None)
        .await
}

async fn save(app: &TestApp, user: i64, file: i64, position: &str) -> (u16, Value) {
    app.call(
        user,
        Method::PUT,
        &format!("/api/reader/{file}/position"),
        Some(json!({ "position": position })),
    )
    .await
}

async fn bytes(app: &TestApp, url: &str) -> (u16, Vec<u8>) {
    let res = app
        .http
        .get(format!("{}{url}", app.base))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn the_reader_keeps_each_buyers_page_and_refuses_non_buyers_and_refunded_buyers() {
    let app = TestApp::with_creators(&[]).await;
    let (alex, dasha, stranger) = (4101, 4102, 4103);
    let alex_order = app.buy(alex, PDF_BOOK).await;
    app.buy(dasha, PDF_BOOK).await;
    app.control("users", json!({ "id": stranger, "first_name": "Stranger" }))
        .await;

    let listed = files(&app, alex, PDF_BOOK).await;
    let (name, read_url, download_url) = &listed[0];
    assert!(name.ends_with(".pdf"), "{name}");
    let pdf = file_id(read_url.as_deref().expect("a PDF has a reader page"));

    // Opened for the first time: no place yet, and a link to the buyer's own stamped copy, the
    // very bytes the library's download gives (not the creator's original).
    let (status, opened) = open(&app, alex, pdf).await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["format"], "pdf");
    assert_eq!(opened["name"], name.as_str());
    assert_eq!(opened["position"], Value::Null);
    let url = opened["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/download/"), "{url}");
    let (status, read) = bytes(&app, &url).await;
    assert_eq!(status, 200);
    assert!(read.starts_with(b"%PDF"));
    let (_, downloaded) = bytes(&app, download_url).await;
    assert_eq!(read, downloaded, "the reader reads the download's copy");
    let original_sha: String = server::on_db!(&app.db, |pool| sqlx::query_scalar(
        "SELECT sha256 FROM product_files WHERE id = $1"
    )
    .bind(pdf)
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_ne!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&read)),
        original_sha,
        "the buyer reads their stamped copy"
    );

    // Saved, read back, overwritten by the latest turn: what another device of theirs opens at.
    assert_eq!(save(&app, alex, pdf, "page:3").await.0, 200);
    assert_eq!(open(&app, alex, pdf).await.1["position"], "page:3");
    assert_eq!(save(&app, alex, pdf, "page:5").await.0, 200);
    assert_eq!(open(&app, alex, pdf).await.1["position"], "page:5");

    // Per buyer: Дарья's place is her own.
    assert_eq!(open(&app, dasha, pdf).await.1["position"], Value::Null);
    assert_eq!(save(&app, dasha, pdf, "page:2").await.0, 200);
    assert_eq!(open(&app, dasha, pdf).await.1["position"], "page:2");
    assert_eq!(open(&app, alex, pdf).await.1["position"], "page:5");

    // A position is short and not empty.
    let (status, body) = save(&app, alex, pdf, "").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid")));
    let long = "x".repeat(server::reading::MAX_POSITION_BYTES + 1);
    assert_eq!(save(&app, alex, pdf, &long).await.0, 400);
    assert_eq!(open(&app, alex, pdf).await.1["position"], "page:5");

    // Someone who did not buy it: refused, as the download refuses them.
    let (status, body) = open(&app, stranger, pdf).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("not_entitled"))
    );
    let (status, body) = save(&app, stranger, pdf, "page:1").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("not_entitled"))
    );
    // Nobody signed in: refused before anything.
    let res = app
        .http
        .get(format!("{}/api/reader/{pdf}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Refunded: the reader closes with the download, the link it gave included.
    app.refund_as(1001, &alex_order).await;
    let (status, body) = open(&app, alex, pdf).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("not_entitled"))
    );
    assert_eq!(save(&app, alex, pdf, "page:6").await.0, 403);
    assert_eq!(bytes(&app, &url).await.0, 403);
    // Дарья keeps reading.
    assert_eq!(open(&app, dasha, pdf).await.1["position"], "page:2");
}

#[tokio::test]
async fn epubs_open_in_the_reader_and_other_files_do_not() {
    let app = TestApp::start(&[]).await;
    let buyer = 4201;
    app.buy(buyer, EPUB_BOOK).await;
    let listed = files(&app, buyer, EPUB_BOOK).await;
    let (_, read_url, _) = listed
        .iter()
        .find(|(name, _, _)| name.ends_with(".epub"))
        .expect("the demo book comes as an EPUB too");
    let epub = file_id(read_url.as_deref().expect("an EPUB has a reader page"));
    let (status, opened) = open(&app, buyer, epub).await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["format"], "epub");
    let (status, book) = bytes(&app, opened["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(book.starts_with(b"PK\x03\x04"));
    let cfi = "epubcfi(/6/4!/4/2/1:0)";
    assert_eq!(save(&app, buyer, epub, cfi).await.0, 200);
    assert_eq!(open(&app, buyer, epub).await.1["position"], cfi);

    // Sounds have no reader page, and the reader refuses them by their type.
    app.buy(buyer, SOUNDS).await;
    let sounds = files(&app, buyer, SOUNDS).await;
    assert!(sounds.iter().all(|(_, read_url, _)| read_url.is_none()));
    let wav: i64 = server::on_db!(&app.db, |pool| sqlx::query_scalar(
        "SELECT f.id FROM product_files f JOIN products p ON p.id = f.product_id
         WHERE p.slug = $1 AND f.role = 'content' ORDER BY f.id LIMIT 1"
    )
    .bind(SOUNDS)
    .fetch_one(pool)
    .await)
    .unwrap();
    let (status, body) = open(&app, buyer, wav).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (415, Some("not_readable"))
    );
    assert_eq!(save(&app, buyer, wav, "page:1").await.0, 415);
}
