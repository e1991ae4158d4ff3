//! Product files in an S3-compatible store, against a real server (moto's, started by
//! `scripts/s3.sh`, whose address comes in `TEST_S3_ENDPOINT`): the storage itself, pre-signed
//! downloads, and a whole purchase on a shop whose files live only in the bucket.
//!
//! Without `TEST_S3_ENDPOINT` these tests say so and pass, except where the S3 tests must run
//! (`CI` or `STARFRONT_REQUIRE_S3` set): there they fail, so CI never skips them silently.

use crate::common::{self, auth, wait_for};

use axum::body::Bytes;
use serde_json::{json, Value};
use server::config::{Config, S3Config, Secret, StorageConfig};
use server::payments;
use server::storage::{Area, Headers, Storage, StorageError};
use server::studio::uploads::{self, Chunks};
use server::studio::StudioError;
use sha2::{Digest, Sha256};
use std::time::Duration;

const RUST_BOOK: &str = "pocket-guide-to-rust";
const BUYER: i64 = 4242;

/// The S3 server's address, or `None` (after saying so) where the tests may be skipped.
fn endpoint(test: &str) -> Option<String> {
    if let Some(endpoint) = std::env::var("TEST_S3_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    {
        return Some(endpoint);
    }
    let required = ["CI", "STARFRONT_REQUIRE_S3"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false"));
    assert!(
        !required,
        "TEST_S3_ENDPOINT is not set, but the S3 storage tests must run here (CI or \
         STARFRONT_REQUIRE_S3): start a server with `source scripts/s3.sh && s3_start` \
         (scripts/test.sh does)"
    );
    eprintln!(
        "SKIPPED {test}: TEST_S3_ENDPOINT is not set (`source scripts/s3.sh && s3_start` starts \
         an S3 server for these tests)"
    );
    None
}

/// A fresh bucket for one test. moto takes an unsigned CreateBucket.
async fn bucket(endpoint: &str) -> String {
    let mut id = [0u8; 6];
    getrandom::fill(&mut id).unwrap();
    let name = format!("starfront-test-{}", hex::encode(id));
    let res = reqwest::Client::new()
        .put(format!("{endpoint}/{name}"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "create bucket: {}", res.status());
    name
}

fn s3_vars<'a>(endpoint: &'a str, bucket: &'a str) -> [(&'static str, &'a str); 5] {
    [
        ("STORAGE", "s3"),
        ("S3_BUCKET", bucket),
        ("S3_ENDPOINT", endpoint),
        ("S3_ACCESS_KEY_ID", "starfront-test"),
        ("S3_SECRET_ACCESS_KEY", "starfront-test-secret"),
    ]
}

fn s3_config(endpoint: &str, bucket: &str) -> S3Config {
    S3Config {
        bucket: bucket.to_owned(),
        endpoint: Some(endpoint.parse().unwrap()),
        region: "us-east-1".into(),
        access_key_id: Some("starfront-test".into()),
        secret_access_key: Some(Secret::new("starfront-test-secret")),
        virtual_hosted_style: false,
    }
}

/// Bytes that differ at every offset, so a wrong range or a misplaced part shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn files_round_trip_through_the_bucket_and_every_replica_sees_them() {
    let Some(endpoint) = endpoint("files_round_trip") else {
        return;
    };
    let bucket = bucket(&endpoint).await;
    let one = Storage::s3(&s3_config(&endpoint, &bucket)).unwrap();
    let two = Storage::s3(&s3_config(&endpoint, &bucket)).unwrap();
    assert!(one.local_path(Area::Private, "a/b.pdf").is_none());
    assert!(one.local_public_dir().is_none());

    let small = one
        .put(
            Area::Private,
            "books/a.pdf",
            b"%PDF-1.7 tiny",
            &Headers::attachment("application/pdf", "a.pdf"),
        )
        .await
        .unwrap();
    assert_eq!(small.size_bytes, 13);
    // A big file in parts (8 MiB each): 2 full parts and a short last one.
    let big = pattern(17 * 1024 * 1024 + 123);
    let headers = Headers::attachment("application/octet-stream", "big.bin");
    let disposition = headers.disposition.clone().unwrap();
    let mut writer = one
        .writer(Area::Private, "books/big.bin", &headers)
        .unwrap();
    for chunk in big.chunks(1 << 20) {
        writer.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    assert!(
        !two.exists(Area::Private, "books/big.bin").await.unwrap(),
        "nothing is visible before the upload completes"
    );
    writer.finish().await.unwrap();

    // The other replica reads both; the areas are apart.
    assert!(two.exists(Area::Private, "books/a.pdf").await.unwrap());
    assert!(!two.exists(Area::Public, "books/a.pdf").await.unwrap());
    assert_eq!(
        &two.read(Area::Private, "books/a.pdf").await.unwrap()[..],
        b"%PDF-1.7 tiny"
    );
    let read = two.read(Area::Private, "books/big.bin").await.unwrap();
    assert_eq!(read.len(), big.len());
    assert!(read[..] == big[..], "the parts came back in order");

    let range = two
        .get(
            Area::Private,
            "books/big.bin",
            Some(object_store::GetRange::Bounded(9_000_000..9_000_100)),
        )
        .await
        .unwrap();
    assert_eq!(range.range, 9_000_000..9_000_100);
    assert_eq!(range.meta.size, big.len() as u64);
    assert_eq!(
        &range.bytes().await.unwrap()[..],
        &big[9_000_000..9_000_100]
    );

    // A pre-signed URL works for anyone, with no credentials, and names the file.
    let url = one
        .signed_download_url(
            Area::Private,
            "books/big.bin",
            Duration::from_secs(60),
            "application/octet-stream",
            &disposition,
        )
        .await
        .unwrap()
        .expect("S3 signs URLs");
    assert!(url.as_str().starts_with(&endpoint), "{url}");
    let http = reqwest::Client::new();
    let res = http.get(url.clone()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-disposition"], disposition.as_str());
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert!(res.bytes().await.unwrap()[..] == big[..]);
    let res = http
        .get(url.clone())
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(&res.bytes().await.unwrap()[..], &big[100..200]);
    // moto does not check signatures (real S3 does), so only their presence and lifetime show.
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(param("X-Amz-Expires"), Some("60"));
    assert!(
        param("X-Amz-Signature").is_some_and(|s| s.len() == 64),
        "{url}"
    );
    assert_eq!(
        param("response-content-disposition"),
        Some(disposition.as_str())
    );

    two.delete(Area::Private, "books/big.bin").await.unwrap();
    two.delete(Area::Private, "books/big.bin").await.unwrap();
    assert!(!one.exists(Area::Private, "books/big.bin").await.unwrap());
    assert!(matches!(
        one.read(Area::Private, "books/big.bin").await,
        Err(StorageError::NotFound(_))
    ));
    // S3 answers 403 rather than 404 to those who may not list the bucket.
    let gone = http.get(url).send().await.unwrap().status();
    assert!(matches!(gone.as_u16(), 403 | 404), "{gone}");
}

struct Fixed(Vec<Bytes>);

#[async_trait::async_trait]
impl Chunks for Fixed {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, StudioError> {
        Ok((!self.0.is_empty()).then(|| self.0.remove(0)))
    }
}

#[tokio::test]
async fn studio_uploads_stream_into_the_bucket_and_oversize_ones_leave_nothing() {
    let Some(endpoint) = endpoint("studio_uploads") else {
        return;
    };
    let bucket = bucket(&endpoint).await;
    let storage = Storage::s3(&s3_config(&endpoint, &bucket)).unwrap();
    let mut body = b"%PDF-1.7\n".to_vec();
    body.extend(pattern(10 * 1024 * 1024));
    let mut chunks = Fixed(
        body.chunks(256 * 1024)
            .map(Bytes::copy_from_slice)
            .collect(),
    );
    let up = uploads::store(
        &storage,
        Area::Private,
        "products/9",
        "book.pdf",
        &mut chunks,
        u64::MAX,
    )
    .await
    .unwrap();
    assert_eq!(up.mime_type, "application/pdf");
    assert!(up.key.starts_with("products/9/") && up.key.ends_with(".pdf"));
    assert_eq!(up.size_bytes, body.len() as u64);
    assert_eq!(up.sha256, hex::encode(Sha256::digest(&body)));
    assert!(storage.read(Area::Private, &up.key).await.unwrap()[..] == body[..]);

    // Past the limit after a part went up: refused, and the multipart upload is abandoned.
    let limit = 9 * 1024 * 1024;
    let mut chunks = Fixed(
        body.chunks(256 * 1024)
            .map(Bytes::copy_from_slice)
            .collect(),
    );
    let err = uploads::store(
        &storage,
        Area::Private,
        "products/10",
        "b.pdf",
        &mut chunks,
        limit,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StudioError::TooLarge { .. }), "{err:?}");
    let listed = reqwest::get(format!(
        "{endpoint}/{bucket}?list-type=2&prefix=private/products/10"
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(!listed.contains("<Key>"), "{listed}");
    let pending = reqwest::get(format!("{endpoint}/{bucket}?uploads"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!pending.contains("products/10"), "aborted: {pending}");
}

#[tokio::test]
async fn a_purchase_on_a_bucket_backed_shop_is_delivered_and_downloaded_by_signed_url() {
    let Some(endpoint) = endpoint("a_purchase_on_a_bucket_backed_shop") else {
        return;
    };
    let bucket = bucket(&endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let vars = s3_vars(&endpoint, &bucket);
    let (config, _stop) = common::serve(common::config(&dir, &vars)).await;
    assert!(matches!(config.storage, StorageConfig::S3(_)));
    let base = format!("http://{}", config.bind);
    let emu = common::Emu::new(base.clone());
    // A second replica of the same shop: its own process state, the same database and bucket.
    let replica = server::prepare(&Config {
        seed_demo: false,
        ..config.clone()
    })
    .await
    .unwrap();
    let bot = replica.telegram.clone().unwrap().bot;
    let db = replica.db.clone();

    // Seeding wrote the demo files to the bucket, none to this server's disk.
    assert!(
        !config.files_dir().join("private").exists() && !config.files_dir().join("public").exists(),
        "no file may live only on one server's disk"
    );
    let (file_name, mime, key, sha256): (String, String, String, String) =
        server::on_db!(&db, |pool| sqlx::query_as(
            "SELECT f.file_name, f.mime_type, f.storage_key, f.sha256 FROM product_files f
         JOIN products p ON p.id = f.product_id WHERE p.slug = $1 AND f.role = 'content'",
        )
        .bind(RUST_BOOK)
        .fetch_one(pool)
        .await)
        .unwrap();
    let stored = replica.storage.read(Area::Private, &key).await.unwrap();
    assert_eq!(hex::encode(Sha256::digest(&stored)), sha256);

    // Public files come through the shop's own /media URLs, with ranges.
    let sample: String = server::on_db!(&db, |pool| sqlx::query_scalar(
        "SELECT f.storage_key FROM product_files f JOIN products p ON p.id = f.product_id
         WHERE p.slug = $1 AND f.role = 'sample'",
    )
    .bind(RUST_BOOK)
    .fetch_one(pool)
    .await)
    .unwrap();
    let sample_bytes = replica.storage.read(Area::Public, &sample).await.unwrap();
    let http = no_redirects();
    let res = http
        .get(format!("{base}/media/{sample}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap(), sample_bytes);
    let res = http
        .get(format!("{base}/media/{sample}"))
        .header("range", "bytes=5-14")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes 5-14/{}", sample_bytes.len()).as_str()
    );
    assert_eq!(&res.bytes().await.unwrap()[..], &sample_bytes[5..15]);
    let res = http
        .post(format!("{base}/media/{sample}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    for missing in [
        "covers/none.png".to_owned(),
        "../private/".to_owned() + &key,
        "%2e%2e/private/".to_owned() + &key,
    ] {
        let res = http
            .get(format!("{base}/media/{missing}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{missing}");
    }

    // The purchase: paid in the emulator, delivered by the served shop's worker from the bucket.
    emu.control(
        "users",
        json!({ "id": BUYER, "first_name": "Bea", "language_code": "en" }),
    )
    .await;
    server::on_db!(&db, |pool| sqlx::query(
        "INSERT INTO users (id, first_name) VALUES ($1, 'Bea') ON CONFLICT DO NOTHING"
    )
    .bind(BUYER)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let order = payments::create_order(&db, &bot, BUYER, RUST_BOOK, None)
        .await
        .unwrap();
    let paid = emu
        .control(
            "invoices/pay",
            json!({ "link": order.invoice_link, "user_id": BUYER }),
        )
        .await;
    assert_eq!(paid["status"], "paid", "{paid}");
    wait_for("the delivery", async || {
        emu.chat(BUYER)
            .await
            .iter()
            .any(|m| m["message"].get("document").is_some())
    })
    .await;
    let chat = emu.chat(BUYER).await;
    let document = chat
        .iter()
        .find(|m| m["message"].get("document").is_some())
        .unwrap();
    assert_eq!(document["file"]["file_name"], file_name.as_str());
    // The buyer's stamped copy, made once and kept in the bucket beside the untouched original.
    let (copy_key, copy_sha256): (String, String) = server::on_db!(&db, |pool| sqlx::query_as(
        "SELECT storage_key, sha256 FROM stamped_copies WHERE user_id = $1"
    )
    .bind(BUYER)
    .fetch_one(pool)
    .await)
    .unwrap();
    let copy = replica
        .storage
        .read(Area::Private, &copy_key)
        .await
        .unwrap();
    assert_eq!(hex::encode(Sha256::digest(&copy)), copy_sha256);
    assert_ne!(copy_sha256, sha256);
    assert_eq!(
        document["file"]["sha256"],
        copy_sha256.as_str(),
        "the bot sent the buyer's stamped copy"
    );
    assert_eq!(
        replica.storage.read(Area::Private, &key).await.unwrap(),
        stored,
        "the original is untouched"
    );

    // The library's link: checked by the shop, then a redirect to a short-lived signed URL.
    let library: Vec<Value> = reqwest::Client::new()
        .get(format!("{base}/api/library"))
        .header("authorization", auth(BUYER))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = library[0]["files"][0]["url"].as_str().unwrap().to_owned();
    let res = http.get(format!("{base}{link}")).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&endpoint), "{location}");
    assert!(location.contains("X-Amz-Signature="), "{location}");
    // Signed in, the buyer is named as their init data names them ("User<id>", no longer the
    // "Bea" of the delivery): their copy now carries that name, a second copy in the bucket.
    let (copy_key, copy_sha256): (String, String) = server::on_db!(&db, |pool| sqlx::query_as(
        "SELECT storage_key, sha256 FROM stamped_copies WHERE user_id = $1 ORDER BY id DESC"
    )
    .bind(BUYER)
    .fetch_one(pool)
    .await)
    .unwrap();
    let copy = replica
        .storage
        .read(Area::Private, &copy_key)
        .await
        .unwrap();
    assert_eq!(hex::encode(Sha256::digest(&copy)), copy_sha256);
    assert!(String::from_utf8_lossy(&copy).contains(&format!("Licensed to User{BUYER}")));
    let res = reqwest::get(&location).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], mime.as_str());
    assert_eq!(
        res.headers()["content-disposition"],
        format!("attachment; filename=\"{file_name}\"; filename*=UTF-8''pocket%2Dguide%2Dto%2Drust%2Epdf").as_str()
    );
    assert_eq!(res.bytes().await.unwrap(), copy);
    // A plain client following the redirect gets the file too.
    let followed = reqwest::get(format!("{base}{link}")).await.unwrap();
    assert_eq!(followed.status(), 200);
    assert_eq!(followed.bytes().await.unwrap(), copy);
    let logged: Vec<(i64, i64)> = server::on_db!(&db, |pool| sqlx::query_as(
        "SELECT user_id, status FROM downloads ORDER BY id"
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    assert_eq!(logged, [(BUYER, 302), (BUYER, 302)]);

    // The reader's link is served by the shop itself, whose origin is the only one its frame
    // may fetch from: the same checked, stamped copy, with ranges, no redirect to the bucket.
    let read_url = library[0]["files"][0]["read_url"].as_str().unwrap();
    let file_id = read_url.strip_prefix("/read/").unwrap();
    let opened: Value = reqwest::Client::new()
        .get(format!("{base}/api/reader/{file_id}"))
        .header("authorization", auth(BUYER))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reader_link = opened["url"].as_str().unwrap();
    let res = http
        .get(format!("{base}{reader_link}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap(), copy);
    let res = http
        .get(format!("{base}{reader_link}"))
        .header("range", "bytes=0-4")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(&res.bytes().await.unwrap()[..], b"%PDF-");

    // A refund ends it: no more redirects.
    server::on_db!(&db, |pool| sqlx::query(
        "UPDATE entitlements SET revoked_at = unixepoch() WHERE user_id = $1"
    )
    .bind(BUYER)
    .execute(pool)
    .await
    .map(server::db::Done::from))
    .unwrap();
    let res = http.get(format!("{base}{link}")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("location").is_none());
}

#[tokio::test]
async fn a_lesson_video_on_a_bucket_backed_shop_is_prepared_and_streamed_from_the_bucket() {
    use leptos::server_fn::ServerFn;
    let Some(endpoint) = endpoint("a_lesson_video_on_a_bucket_backed_shop") else {
        return;
    };
    let bucket = bucket(&endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let vars = s3_vars(&endpoint, &bucket);
    // The served shop runs the video worker, which prepares the demo seed's clip: read from the
    // bucket into scratch space, its ladder and poster written back to the bucket.
    let (config, _stop) = common::serve(common::config(&dir, &vars)).await;
    let base = format!("http://{}", config.bind);
    let db = server::db::connect(&config.database_url).await.unwrap();
    let lesson: i64 = server::on_db!(&db, |pool| sqlx::query_scalar(
        "SELECT lesson_id FROM video_jobs ORDER BY id LIMIT 1"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    wait_for("the demo video to be prepared", async || {
        server::on_db!(&db, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM lesson_videos WHERE lesson_id = $1"
        )
        .bind(lesson)
        .fetch_one(pool)
        .await)
        .unwrap()
            == 1
    })
    .await;
    assert!(
        !config.files_dir().join("private").exists(),
        "no part of a video may live only on one server's disk"
    );

    // A visitor opens the free preview lesson and streams it: the shop reads the parts from the
    // bucket after its checks.
    let http = no_redirects();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("slug", "telegram-mini-apps-from-scratch")
        .append_pair("lesson_id", &lesson.to_string())
        .finish();
    let view: Value = http
        .post(format!("{base}{}", app::api::GetLesson::PATH))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let master = view["video"]["playlist_url"].as_str().unwrap();
    let res = http.get(format!("{base}{master}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().starts_with("#EXTM3U"));
    let segment = master.replace("master.m3u8", "v0/seg_000.ts");
    let res = http.get(format!("{base}{segment}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().first(), Some(&0x47));
    let poster = view["video"]["poster_url"].as_str().unwrap();
    let res = http.get(format!("{base}{poster}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
}
