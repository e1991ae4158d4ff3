//! The creator studio over HTTP against the whole shop (emulator included): roles on every route,
//! uploads and their limit, covers, and publish → catalog → buy → dashboard → refund, tips and
//! invites.

use crate::common::{auth, wait_for, TestApp};

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const MIRA: i64 = 1001; // a seeded creator
const OLEG: i64 = 1002; // another seeded creator
const ADMIN: i64 = 4242;
const BUYER: i64 = 2101;
/// A small limit so the oversize test stays small.
const LIMIT: u64 = 4096;

struct Shop(TestApp);

impl std::ops::Deref for Shop {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.0
    }
}

async fn shop() -> Shop {
    let limit = LIMIT.to_string();
    Shop(
        TestApp::start(&[
            ("ADMIN_IDS", "4242"),
            ("MAX_UPLOAD_BYTES", &limit),
            ("MAX_PRICE_STARS", "5000"),
        ])
        .await,
    )
}

/// A multipart body with one part named `file`.
pub(crate) fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "studio-test-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(width, height, image::Rgb([30, 90, 200]))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

impl Shop {
    async fn call(
        &self,
        method: &str,
        path: &str,
        who: Option<i64>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(id) = who {
            req = req.header("authorization", auth(id));
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn ok(&self, method: &str, path: &str, who: i64, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, Some(who), body).await;
        assert_eq!(status, 200, "{method} {path}: {value}");
        value
    }

    async fn upload(&self, path: &str, who: i64, name: &str, bytes: &[u8]) -> (u16, Value) {
        let (content_type, body) = multipart(name, bytes);
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("authorization", auth(who))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A user Telegram and the shop both know, with Stars.
    async fn user(&self, id: i64) {
        self.emu
            .control(
                "users",
                json!({ "id": id, "first_name": format!("User{id}"), "language_code": "en" }),
            )
            .await;
        self.ok("GET", "/api/studio/me", id, None).await;
    }

    async fn new_product(&self, who: i64, title: &str, kind: &str, price: u32) -> Value {
        self.ok(
            "POST",
            "/api/studio/products",
            who,
            Some(json!({ "title": title, "kind": kind, "description": "", "price_stars": price })),
        )
        .await
    }

    fn files_dir(&self) -> PathBuf {
        self.config.files_dir()
    }

    async fn dashboard(&self, who: i64) -> Value {
        self.ok("GET", "/api/studio/sales", who, None).await
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
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
async fn every_studio_route_checks_the_role_on_the_server() {
    let s = shop().await;
    s.user(BUYER).await;
    let mira_book = s.new_product(MIRA, "Mira's draft", "ebook", 100).await;
    let id = mira_book["id"].as_i64().unwrap();
    let course = s.new_product(MIRA, "Mira's course", "course", 100).await;
    let lesson = s
        .ok(
            "POST",
            &format!("/api/studio/products/{}/lessons", course["id"]),
            MIRA,
            Some(json!({ "title": "One", "body": "", "is_preview": true, "file_id": null })),
        )
        .await["lessons"][0]["id"]
        .as_i64()
        .unwrap();
    let input = json!({ "title": "X", "kind": "ebook", "description": "", "price_stars": 5 });
    let lesson_input = json!({ "title": "X", "body": "", "is_preview": false, "file_id": null });
    // Every studio route, as (method, path, body, open to any creator).
    let routes: Vec<(&str, String, Option<Value>, bool)> = vec![
        ("GET", "/api/studio/products".into(), None, true),
        (
            "POST",
            "/api/studio/products".into(),
            Some(input.clone()),
            true,
        ),
        ("GET", format!("/api/studio/products/{id}"), None, false),
        (
            "PUT",
            format!("/api/studio/products/{id}"),
            Some(input.clone()),
            false,
        ),
        (
            "POST",
            format!("/api/studio/products/{id}/publish"),
            None,
            false,
        ),
        (
            "POST",
            format!("/api/studio/products/{id}/archive"),
            None,
            false,
        ),
        (
            "POST",
            format!("/api/studio/products/{}/lessons", course["id"]),
            Some(lesson_input.clone()),
            false,
        ),
        (
            "PUT",
            format!("/api/studio/lessons/{lesson}"),
            Some(lesson_input.clone()),
            false,
        ),
        (
            "POST",
            format!("/api/studio/lessons/{lesson}/move?dir=up"),
            None,
            false,
        ),
        (
            "DELETE",
            format!("/api/studio/lessons/{lesson}"),
            None,
            false,
        ),
        ("DELETE", "/api/studio/files/1".into(), None, false),
        ("GET", "/api/studio/sales".into(), None, true),
        (
            "GET",
            format!("/api/studio/sales?creator={MIRA}"),
            None,
            false,
        ),
        (
            "POST",
            "/api/studio/orders/nonexistent-order-id-0000/refund".into(),
            None,
            false,
        ),
        (
            "POST",
            "/api/studio/creators".into(),
            Some(json!({ "user_id": BUYER })),
            false,
        ),
        ("POST", "/api/studio/invites".into(), None, false),
    ];
    for (method, path, body, _) in &routes {
        let (status, _) = s.call(method, path, None, body.clone()).await;
        assert_eq!(status, 401, "{method} {path} without init data");
        let (status, value) = s.call(method, path, Some(BUYER), body.clone()).await;
        assert_eq!(status, 403, "{method} {path} as a buyer: {value}");
        assert_eq!(value["error"], "forbidden");
        assert!(
            value["message"].as_str().unwrap().contains("creator"),
            "{value}"
        );
    }
    // Another creator: the general routes work, Mira's products and admin routes do not.
    for (method, path, body, open) in &routes {
        let (status, value) = s.call(method, path, Some(OLEG), body.clone()).await;
        if *open {
            assert_eq!(status, 200, "{method} {path} as another creator: {value}");
        } else if path.contains("/refund") {
            // The order does not exist: 404 comes after the role check passed.
            assert_eq!(status, 404, "{method} {path}: {value}");
        } else {
            assert_eq!(status, 403, "{method} {path} as another creator: {value}");
        }
    }
    // Uploads too, before reading a byte.
    for path in [
        format!("/api/studio/products/{id}/files"),
        format!("/api/studio/products/{id}/cover"),
    ] {
        let (status, _) = s.upload(&path, BUYER, "a.pdf", b"%PDF-1.4").await;
        assert_eq!(status, 403, "{path}");
        let (status, _) = s.upload(&path, OLEG, "a.pdf", b"%PDF-1.4").await;
        assert_eq!(status, 403, "{path}");
    }
    // The role itself is readable by anyone signed in.
    assert_eq!(
        s.ok("GET", "/api/studio/me", BUYER, None).await["role"],
        "member"
    );
    assert_eq!(
        s.ok("GET", "/api/studio/me", MIRA, None).await["role"],
        "creator"
    );
    let admin = s.ok("GET", "/api/studio/me", ADMIN, None).await;
    assert_eq!(admin["role"], "admin");
    assert_eq!(admin["max_upload_bytes"], LIMIT);
    // Admins see and manage everything.
    let all = s.ok("GET", "/api/studio/products", ADMIN, None).await;
    assert!(all.as_array().unwrap().iter().any(|p| p["id"] == id));
    let mine = s.ok("GET", "/api/studio/products", OLEG, None).await;
    assert!(mine
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["creator_id"] == OLEG));
    s.ok(
        "PUT",
        &format!("/api/studio/products/{id}"),
        ADMIN,
        Some(input),
    )
    .await;
}

#[tokio::test]
async fn uploads_are_limited_cleaned_hashed_and_versioned() {
    let s = shop().await;
    let product = s.new_product(MIRA, "Upload Test", "ebook", 10).await;
    let id = product["id"].as_i64().unwrap();
    let files = format!("/api/studio/products/{id}/files");
    let private = s.files_dir().join("private");
    let before = files_under(&private);

    // Oversize: refused with the limit in the message, nothing left behind.
    let (status, value) = s
        .upload(&files, MIRA, "big.pdf", &vec![b'x'; LIMIT as usize + 1])
        .await;
    assert_eq!(status, 413, "{value}");
    assert_eq!(value["error"], "too_large");
    assert!(
        value["message"].as_str().unwrap().contains("4 KiB"),
        "{value}"
    );
    assert_eq!(files_under(&private), before);
    // Exactly the limit is fine.
    let exact = [b"%PDF-1.4 ".as_slice(), &vec![b'y'; LIMIT as usize - 9]].concat();
    let (status, value) = s.upload(&files, MIRA, "exact.pdf", &exact).await;
    assert_eq!(status, 200, "{value}");

    // Traversal and control characters in the name.
    let body = b"%PDF-1.7 the book";
    let (status, file) = s
        .upload(&files, MIRA, "../../../etc/pass\u{202E}wd.pdf", body)
        .await;
    assert_eq!(status, 200, "{file}");
    assert_eq!(file["name"], "passwd.pdf");
    assert_eq!(file["mime_type"], "application/pdf");
    assert_eq!(file["size_bytes"], body.len());
    assert_eq!(file["version"], 1);
    use sha2::Digest;
    assert_eq!(file["sha256"], hex::encode(sha2::Sha256::digest(body)));
    let stored: Vec<_> = files_under(&private);
    assert!(stored.iter().all(|p| p.starts_with(&private)));
    assert!(stored.iter().any(|p| std::fs::read(p).unwrap() == body));
    assert!(!s.files_dir().join("etc").exists());

    // Replacing makes version 2 of the same file.
    let (status, v2) = s
        .upload(
            &format!("{files}?replace={}", file["id"]),
            MIRA,
            "passwd.pdf",
            b"%PDF-1.7 second edition",
        )
        .await;
    assert_eq!(status, 200, "{v2}");
    assert_eq!(
        (v2["id"].clone(), v2["version"].clone()),
        (file["id"].clone(), json!(2))
    );

    // Covers: SVG refused with a reason, a PNG scaled down.
    let cover = format!("/api/studio/products/{id}/cover");
    let (status, value) = s
        .upload(
            &cover,
            MIRA,
            "cover.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        )
        .await;
    assert_eq!(status, 415, "{value}");
    assert!(
        value["message"]
            .as_str()
            .unwrap()
            .contains("PNG, JPEG or WebP"),
        "{value}"
    );
    let (status, value) = s.upload(&cover, MIRA, "cover.pdf", b"%PDF-1.4").await;
    assert_eq!(status, 415, "{value}");
    // Bigger than the upload limit is fine for a cover (it has its own); it comes back smaller.
    let big = png(1600, 2000);
    assert!(big.len() as u64 > LIMIT);
    let (status, product) = s.upload(&cover, MIRA, "cover.png", &big).await;
    assert_eq!(status, 200, "{product}");
    let url = product["cover_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("/media/covers/") && url.ends_with(".png"),
        "{url}"
    );
    let served = s.http.get(format!("{}{url}", s.base)).send().await.unwrap();
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    let image = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (960, 1200));

    // Samples are public: markup is refused, a PDF is served.
    let sample = format!("{files}?role=sample");
    let (status, value) = s
        .upload(
            &sample,
            MIRA,
            "sample.html",
            b"<!DOCTYPE html><script>alert(1)</script>",
        )
        .await;
    assert_eq!(status, 415, "{value}");
    let (status, value) = s
        .upload(&sample, MIRA, "sample.pdf", b"%PDF-1.4 sample")
        .await;
    assert_eq!(status, 200, "{value}");
    assert!(value["url"].as_str().unwrap().ends_with(".pdf"));
}

#[tokio::test]
async fn products_validate_and_publish_only_when_ready() {
    let s = shop().await;
    let (status, value) = s
        .call("POST", "/api/studio/products", Some(MIRA),
            Some(json!({ "title": "Too dear", "kind": "ebook", "description": "", "price_stars": 5001 })))
        .await;
    assert_eq!(status, 400);
    assert!(
        value["message"].as_str().unwrap().contains("1 to 5000"),
        "{value}"
    );
    let a = s.new_product(MIRA, "Ночная съёмка", "ebook", 10).await;
    let b = s.new_product(OLEG, "Ночная съёмка", "ebook", 10).await;
    assert_eq!(a["slug"], "nochnaia-siomka");
    assert_eq!(b["slug"], "nochnaia-siomka-2");
    assert_eq!(a["status"], "draft");

    let id = a["id"].as_i64().unwrap();
    let (status, value) = s
        .call(
            "POST",
            &format!("/api/studio/products/{id}/publish"),
            Some(MIRA),
            None,
        )
        .await;
    assert_eq!(status, 409, "{value}");
    // The description is Markdown, sanitised for buyers.
    let edited = s
        .ok("PUT", &format!("/api/studio/products/{id}"), MIRA,
            Some(json!({ "title": "Night shots", "kind": "ebook", "price_stars": 10,
                         "description": "**Bold** <script>alert(1)</script> [x](javascript:alert(1))" })))
        .await;
    let html = edited["description_html"].as_str().unwrap();
    assert!(
        html.contains("<strong>Bold</strong>")
            && !html.contains("<script")
            && !html.contains("javascript:"),
        "{html}"
    );

    // Courses need lessons and a free preview.
    let course = s.new_product(MIRA, "A course", "course", 10).await;
    let cid = course["id"].as_i64().unwrap();
    let publish = format!("/api/studio/products/{cid}/publish");
    let lessons = format!("/api/studio/products/{cid}/lessons");
    assert_eq!(s.call("POST", &publish, Some(MIRA), None).await.0, 409);
    s.ok(
        "POST",
        &lessons,
        MIRA,
        Some(json!({ "title": "Paid", "body": "", "is_preview": false, "file_id": null })),
    )
    .await;
    let (status, value) = s.call("POST", &publish, Some(MIRA), None).await;
    assert_eq!(status, 409);
    assert!(
        value["message"].as_str().unwrap().contains("preview"),
        "{value}"
    );
    let c = s
        .ok(
            "POST",
            &lessons,
            MIRA,
            Some(json!({ "title": "Free", "body": "hi", "is_preview": true, "file_id": null })),
        )
        .await;
    let free = c["lessons"][1]["id"].as_i64().unwrap();
    let c = s
        .ok(
            "POST",
            &format!("/api/studio/lessons/{free}/move?dir=up"),
            MIRA,
            None,
        )
        .await;
    assert_eq!(c["lessons"][0]["title"], "Free");
    let c = s.ok("POST", &publish, MIRA, None).await;
    assert_eq!(c["status"], "published");
    // Lessons belong to courses only.
    let (status, _) = s
        .call(
            "POST",
            &format!("/api/studio/products/{id}/lessons"),
            Some(MIRA),
            Some(json!({ "title": "x", "body": "", "is_preview": true, "file_id": null })),
        )
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_product_carries_the_link_that_opens_it_from_any_chat() {
    let s = shop().await;
    let created = s.new_product(MIRA, "Ночная съёмка", "ebook", 10).await;
    let link = "https://t.me/starfront_bot?startapp=p_nochnaia-siomka";
    assert_eq!(created["share_link"], link, "{created}");
    let id = created["id"].as_i64().unwrap();
    let detail = s
        .ok("GET", &format!("/api/studio/products/{id}"), MIRA, None)
        .await;
    assert_eq!(detail["share_link"], link);
    // The Mini App opens the product from the link's start parameter.
    let param = link.split_once("startapp=").unwrap().1;
    assert_eq!(
        app::webapp::start_param_path(param).as_deref(),
        Some("/p/nochnaia-siomka")
    );
}

#[tokio::test]
async fn publish_buy_dashboard_refund_and_tip() {
    let s = shop().await;
    s.user(BUYER).await;
    // Its stand-in PDFs are no documents a stamped copy could be made of: sold as uploaded.
    let product = s
        .ok(
            "POST",
            "/api/studio/products",
            MIRA,
            Some(
                json!({ "title": "Studio Test Book", "kind": "ebook", "description": "",
                         "price_stars": 77, "stamp_copies": false }),
            ),
        )
        .await;
    assert_eq!(product["stamp_copies"], false);
    let id = product["id"].as_i64().unwrap();
    let slug = product["slug"].as_str().unwrap().to_owned();
    let (status, _) = s
        .upload(
            &format!("/api/studio/products/{id}/files"),
            MIRA,
            "book.pdf",
            b"%PDF-1.7 v1",
        )
        .await;
    assert_eq!(status, 200);
    s.ok(
        "POST",
        &format!("/api/studio/products/{id}/publish"),
        MIRA,
        None,
    )
    .await;

    // In the catalog now.
    let page = s
        .http
        .get(format!("{}/p/{slug}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Studio Test Book"));

    // The buyer pays through the emulator.
    let state = server::prepare(&s.config).await.unwrap();
    let bot = state.telegram.clone().unwrap().bot;
    let order = server::payments::create_order(&state.db, &bot, BUYER, &slug, None)
        .await
        .unwrap();
    let paid = s
        .emu
        .control(
            "invoices/pay",
            json!({ "link": order.invoice_link, "user_id": BUYER }),
        )
        .await;
    assert_eq!(paid["status"], "paid");
    wait_for("the payment", async || {
        s.dashboard(MIRA).await["totals"]["sales"] == 1
    })
    .await;

    // A new version reaches the buyer under the same file; the download is logged.
    let library = s.ok("GET", "/api/library", BUYER, None).await;
    let item = library
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["slug"] == slug.as_str())
        .unwrap()
        .clone();
    let file_id = s
        .ok("GET", &format!("/api/studio/products/{id}"), MIRA, None)
        .await["files"][0]["id"]
        .clone();
    let (status, _) = s
        .upload(
            &format!("/api/studio/products/{id}/files?replace={file_id}"),
            MIRA,
            "book.pdf",
            b"%PDF-1.7 v2",
        )
        .await;
    assert_eq!(status, 200);
    let url = format!("{}{}", s.base, item["files"][0]["url"].as_str().unwrap());
    let got = s.http.get(&url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(&got.bytes().await.unwrap()[..], b"%PDF-1.7 v2");

    let d = s.dashboard(MIRA).await;
    assert_eq!(
        d["totals"],
        json!({ "sales": 1, "gross_stars": 77, "refunds": 0, "refunded_stars": 0, "net_stars": 77 })
    );
    let row = d["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_id"] == id)
        .unwrap();
    assert_eq!(row["totals"]["gross_stars"], 77);
    assert_eq!(d["orders"][0]["order_id"], order.public_id.as_str());
    assert_eq!(d["orders"][0]["buyer_id"], BUYER);
    assert_eq!(d["orders"][0]["downloads"], 1);
    assert_eq!(d["orders"][0]["status"], "paid");
    assert_eq!(d["days"].as_array().unwrap().len(), 30);
    assert_eq!(d["days"][29]["gross_stars"], 77);
    let svg = d["chart_svg"].as_str().unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("77 Stars gross"),
        "{svg}"
    );
    // Oleg sees none of it.
    assert_eq!(
        s.dashboard(OLEG).await["orders"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["product_slug"] == slug.as_str())
            .count(),
        0
    );

    // Refund from the dashboard: only the creator (or an admin).
    let refund = format!("/api/studio/orders/{}/refund", order.public_id);
    assert_eq!(s.call("POST", &refund, Some(OLEG), None).await.0, 403);
    assert_eq!(
        s.ok("POST", &refund, MIRA, None).await["status"],
        "refunded"
    );
    let d = s.dashboard(MIRA).await;
    assert_eq!(
        d["totals"],
        json!({ "sales": 1, "gross_stars": 77, "refunds": 1, "refunded_stars": 77, "net_stars": 0 })
    );
    assert_eq!(d["orders"][0]["status"], "refunded");
    assert_eq!(d["days"][29]["refunded_stars"], 77);
    assert_eq!(s.http.get(&url).send().await.unwrap().status(), 403);

    // Archived products leave the catalog, not the buyers' libraries.
    let order2 = server::payments::create_order(&state.db, &bot, BUYER, &slug, None)
        .await
        .unwrap();
    let paid = s
        .emu
        .control(
            "invoices/pay",
            json!({ "link": order2.invoice_link, "user_id": BUYER }),
        )
        .await;
    assert_eq!(paid["status"], "paid");
    wait_for("the second payment", async || {
        s.dashboard(MIRA).await["totals"]["sales"] == 2
    })
    .await;
    s.ok(
        "POST",
        &format!("/api/studio/products/{id}/archive"),
        MIRA,
        None,
    )
    .await;
    assert_eq!(
        s.http
            .get(format!("{}/p/{slug}", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let library = s.ok("GET", "/api/library", BUYER, None).await;
    assert!(library
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["slug"] == slug.as_str()));

    // A tip: paid through the same invoice flow, seen by the creator, granting nothing.
    let stars_before = s.emu.get(&format!("users/{BUYER}")).await["stars"]
        .as_i64()
        .unwrap();
    let tip = s
        .ok(
            "POST",
            "/api/tips",
            BUYER,
            Some(json!({ "slug": slug, "amount_stars": 15 })),
        )
        .await;
    // A tip payload names its kind, apart from any order's random id.
    assert!(tip["tip_id"].as_str().unwrap().starts_with("t."));
    // Asked again while it is pending, the same tip comes back: no second order, no second
    // invoice link. Another amount is another tip.
    let again = s
        .ok(
            "POST",
            "/api/tips",
            BUYER,
            Some(json!({ "slug": slug, "amount_stars": 15 })),
        )
        .await;
    assert_eq!(again["tip_id"], tip["tip_id"]);
    assert_eq!(again["invoice_link"], tip["invoice_link"]);
    let other = s
        .ok(
            "POST",
            "/api/tips",
            BUYER,
            Some(json!({ "slug": slug, "amount_stars": 16 })),
        )
        .await;
    assert_ne!(other["tip_id"], tip["tip_id"]);
    assert_ne!(other["invoice_link"], tip["invoice_link"]);
    let paid = s
        .emu
        .control(
            "invoices/pay",
            json!({ "link": tip["invoice_link"], "user_id": BUYER }),
        )
        .await;
    assert_eq!(paid["status"], "paid");
    let status_path = format!("/api/tips/{}", tip["tip_id"].as_str().unwrap());
    wait_for("the tip", async || {
        s.ok("GET", &status_path, BUYER, None).await["status"] == "paid"
    })
    .await;
    let stars_after = s.emu.get(&format!("users/{BUYER}")).await["stars"]
        .as_i64()
        .unwrap();
    assert_eq!(stars_before - stars_after, 15);
    let d = s.dashboard(MIRA).await;
    assert_eq!(d["tips_stars"], 15);
    assert_eq!(d["supporters"][0]["user_id"], BUYER);
    assert_eq!(d["supporters"][0]["product_title"], "Studio Test Book");
    assert_eq!(d["totals"]["sales"], 2, "a tip is not a sale");
    assert_eq!(s.dashboard(OLEG).await["tips_stars"], 0);
    // Another user cannot read the tip; nobody tips themselves; amounts are capped.
    assert_eq!(s.call("GET", &status_path, Some(OLEG), None).await.0, 404);
    assert_eq!(
        s.call(
            "POST",
            "/api/tips",
            Some(MIRA),
            Some(json!({ "creator_id": MIRA, "amount_stars": 5 }))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        s.call(
            "POST",
            "/api/tips",
            Some(BUYER),
            Some(json!({ "creator_id": MIRA, "amount_stars": 5001 }))
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn admins_make_creators_by_invite_or_command() {
    let s = shop().await;
    let newcomer = 2201;
    s.user(newcomer).await;
    assert_eq!(
        s.ok("GET", "/api/studio/me", newcomer, None).await["role"],
        "member"
    );
    assert_eq!(
        s.call("POST", "/api/studio/invites", Some(MIRA), None)
            .await
            .0,
        403
    );
    let invite = s.ok("POST", "/api/studio/invites", ADMIN, None).await;
    let payload = invite["start_payload"].as_str().unwrap().to_owned();
    assert!(
        invite["link"]
            .as_str()
            .unwrap()
            .ends_with(&format!("?start={payload}")),
        "{invite}"
    );

    s.emu
        .control(
            &format!("users/{newcomer}/messages"),
            json!({ "text": format!("/start {payload}") }),
        )
        .await;
    wait_for("the invite", async || {
        s.ok("GET", "/api/studio/me", newcomer, None).await["role"] == "creator"
    })
    .await;
    // Used once only.
    let other = 2202;
    s.user(other).await;
    s.emu
        .control(
            &format!("users/{other}/messages"),
            json!({ "text": format!("/start {payload}") }),
        )
        .await;
    wait_for("the refusal", async || {
        s.emu.chat(other).await.iter().any(|m| {
            m["message"]["text"]
                .as_str()
                .unwrap_or_default()
                .contains("not valid")
        })
    })
    .await;
    assert_eq!(
        s.ok("GET", "/api/studio/me", other, None).await["role"],
        "member"
    );

    // /makecreator works for admins only.
    s.emu
        .control("users", json!({ "id": ADMIN, "first_name": "Admin" }))
        .await;
    s.emu
        .control(
            &format!("users/{other}/messages"),
            json!({ "text": format!("/makecreator {other}") }),
        )
        .await;
    wait_for("the refusal", async || {
        s.emu.chat(other).await.iter().any(|m| {
            m["message"]["text"]
                .as_str()
                .unwrap_or_default()
                .contains("Only the shop's admins")
        })
    })
    .await;
    s.emu
        .control(
            &format!("users/{ADMIN}/messages"),
            json!({ "text": format!("/makecreator {other}") }),
        )
        .await;
    wait_for("the grant", async || {
        s.ok("GET", "/api/studio/me", other, None).await["role"] == "creator"
    })
    .await;
    // And the API way.
    let third = 2203;
    s.user(third).await;
    assert_eq!(
        s.call(
            "POST",
            "/api/studio/creators",
            Some(MIRA),
            Some(json!({ "user_id": third }))
        )
        .await
        .0,
        403
    );
    s.ok(
        "POST",
        "/api/studio/creators",
        ADMIN,
        Some(json!({ "user_id": third })),
    )
    .await;
    assert_eq!(
        s.ok("GET", "/api/studio/me", third, None).await["role"],
        "creator"
    );
}
