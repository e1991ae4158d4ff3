//! Video lessons (#18): a creator uploads a video to a lesson, the worker prepares it (HLS ladder,
//! poster, duration) as a job that survives its worker stopping, and the lesson streams it through
//! short-lived URLs bound to the viewer. A broken or too long upload fails its job with a reason
//! and leaves the lesson playing what it played.

use crate::common::{auth, TestApp};
use leptos::server_fn::ServerFn;
use reqwest::Method;
use serde_json::Value;
use server::storage::Area;
use server::videos::{self, Settings};

const COURSE: &str = "telegram-mini-apps-from-scratch";
/// The course's creator in the demo seed.
const MIRA: i64 = 1001;

/// A small H.264 video of `seconds` (ffmpeg's test card and a tone).
async fn generated_video(seconds: u32) -> Vec<u8> {
    videos::ffmpeg::test_card(seconds, 320, 180)
        .await
        .expect("ffmpeg runs (scripts/setup.sh installs it)")
}

/// The course's lessons, in order.
async fn lessons(app: &TestApp) -> Vec<i64> {
    server::on_db!(&app.db, |pool| sqlx::query_scalar(
        "SELECT l.id FROM lessons l JOIN products p ON p.id = l.product_id
         WHERE p.slug = $1 ORDER BY l.position, l.id"
    )
    .bind(COURSE)
    .fetch_all(pool)
    .await)
    .unwrap()
}

async fn upload(app: &TestApp, who: i64, lesson: i64, name: &str, bytes: &[u8]) -> (u16, Value) {
    let (content_type, body) = crate::studio::multipart(name, bytes);
    let res = app
        .as_user(
            who,
            Method::POST,
            &format!("/api/studio/lessons/{lesson}/video"),
        )
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn status(app: &TestApp, lesson: i64) -> Value {
    let (code, video) = app
        .call(
            MIRA,
            Method::GET,
            &format!("/api/studio/lessons/{lesson}/video/status"),
            None,
        )
        .await;
    assert_eq!(code, 200, "{video}");
    video
}

fn settings(max_seconds: u32) -> Settings {
    Settings { max_seconds }
}

/// Runs the worker until the queue is empty (the demo seed may have queued its own lesson).
async fn prepare_all(app: &TestApp, max_seconds: u32) {
    while videos::work_once(
        &app.db,
        &app.state.storage,
        &settings(max_seconds),
        &app.state.clock,
    )
    .await
    .unwrap()
    {}
}

/// The lesson as its page opens it, for `viewer` (a visitor when `None`).
async fn open_lesson(app: &TestApp, viewer: Option<i64>, lesson: i64) -> Value {
    let id = lesson.to_string();
    let (code, view) = app
        .server_fn(
            viewer,
            app::api::GetLesson::PATH,
            &[("slug", COURSE), ("lesson_id", &id)],
        )
        .await;
    assert_eq!(code, 200, "{view}");
    view
}

/// GET under a stream URL, with `viewer`'s init data when given: (status, content type, body).
async fn fetch(app: &TestApp, viewer: Option<i64>, url: &str) -> (u16, String, Vec<u8>) {
    let mut req = app.http.get(format!("{}{url}", app.base));
    if let Some(viewer) = viewer {
        req = req.header("authorization", auth(viewer));
    }
    let res = req.send().await.unwrap();
    let code = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (code, kind, res.bytes().await.unwrap().to_vec())
}

/// `playlist_url` with its last part replaced by `part`.
fn sibling(playlist_url: &str, part: &str) -> String {
    format!(
        "{}/{part}",
        playlist_url.strip_suffix("/master.m3u8").unwrap()
    )
}

#[tokio::test]
async fn a_prepared_video_streams_to_its_buyer_alone_until_a_refund() {
    let app = TestApp::with_creators(&[]).await;
    let (alex, dasha, stranger) = (4501, 4502, 4503);
    let lessons = lessons(&app).await;
    let (preview, paid) = (lessons[0], lessons[1]);
    let video = generated_video(3).await;

    // Only the course's creator uploads to its lessons.
    app.control(
        "users",
        serde_json::json!({ "id": stranger, "first_name": "Stranger" }),
    )
    .await;
    let (code, _) = upload(&app, stranger, paid, "lesson.mp4", &video).await;
    assert_eq!(code, 403);
    let (code, queued) = upload(&app, MIRA, paid, "lesson.mp4", &video).await;
    assert_eq!(code, 200, "{queued}");
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["playing"], Value::Null);
    // Nobody sees a video that is not ready yet.
    let alex_order = app.buy(alex, COURSE).await;
    assert_eq!(
        open_lesson(&app, Some(alex), paid).await["video"],
        Value::Null
    );

    prepare_all(&app, 60).await;
    let ready = status(&app, paid).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["progress"], 100);
    assert_eq!(ready["playing"]["duration_seconds"], 3);
    let poster = ready["playing"]["poster_url"].as_str().unwrap();
    let (code, kind, bytes) = fetch(&app, None, poster).await;
    assert_eq!((code, kind.as_str()), (200, "image/jpeg"));
    assert!(bytes.starts_with(b"\xFF\xD8\xFF"));

    // The buyer's lesson streams: master playlist, a rendition, a segment of MPEG-TS.
    let lesson = open_lesson(&app, Some(alex), paid).await;
    let url = lesson["video"]["playlist_url"].as_str().unwrap().to_owned();
    assert_eq!(lesson["video"]["duration_seconds"], 3);
    assert_eq!(lesson["video"]["position_seconds"], 0);
    let (code, kind, master) = fetch(&app, Some(alex), &url).await;
    assert_eq!(
        (code, kind.as_str()),
        (200, "application/vnd.apple.mpegurl")
    );
    let master = String::from_utf8(master).unwrap();
    assert!(
        master.starts_with("#EXTM3U") && master.contains("v0/index.m3u8"),
        "{master}"
    );
    let (code, _, rendition) = fetch(&app, Some(alex), &sibling(&url, "v0/index.m3u8")).await;
    assert_eq!(code, 200);
    let rendition = String::from_utf8(rendition).unwrap();
    assert!(
        rendition.contains("seg_000.ts") && rendition.contains("#EXT-X-ENDLIST"),
        "{rendition}"
    );
    let (code, kind, segment) = fetch(&app, Some(alex), &sibling(&url, "v0/seg_000.ts")).await;
    assert_eq!((code, kind.as_str()), (200, "video/mp2t"));
    assert_eq!(
        segment.first(),
        Some(&0x47),
        "an MPEG-TS packet starts with its sync byte"
    );
    // Only the parts of a prepared video are served under a token.
    let (code, _, _) = fetch(&app, Some(alex), &sibling(&url, "v0/secret.pdf")).await;
    assert_eq!(code, 404);

    // Another buyer of the same course cannot use Alex's URL, nor can anyone without init data.
    app.buy(dasha, COURSE).await;
    let (code, _, body) = fetch(&app, Some(dasha), &url).await;
    assert_eq!(code, 403);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "stream_not_yours", "{body}");
    assert_eq!(fetch(&app, None, &url).await.0, 403);
    // A token that was tampered with is nobody's.
    let forged = url.replacen("/stream/", "/stream/x", 1);
    assert_eq!(fetch(&app, Some(alex), &forged).await.0, 404);

    // The position is kept per buyer and comes back with the lesson.
    let id = paid.to_string();
    let (code, saved) = app
        .server_fn(
            Some(alex),
            app::api::SaveVideoPosition::PATH,
            &[("slug", COURSE), ("lesson_id", &id), ("seconds", "2")],
        )
        .await;
    assert_eq!(code, 200, "{saved}");
    assert_eq!(
        open_lesson(&app, Some(alex), paid).await["video"]["position_seconds"],
        2
    );
    assert_eq!(
        open_lesson(&app, Some(dasha), paid).await["video"]["position_seconds"],
        0
    );
    // A visitor keeps no place.
    let (code, _) = app
        .server_fn(
            Some(stranger),
            app::api::SaveVideoPosition::PATH,
            &[("slug", COURSE), ("lesson_id", &id), ("seconds", "2")],
        )
        .await;
    assert_ne!(code, 200);

    // A refund stops Alex's stream at the next request; Dasha's goes on.
    let dasha_url = open_lesson(&app, Some(dasha), paid).await["video"]["playlist_url"]
        .as_str()
        .unwrap()
        .to_owned();
    app.refund_as(MIRA, &alex_order).await;
    let (code, _, body) = fetch(&app, Some(alex), &sibling(&url, "v0/seg_000.ts")).await;
    assert_eq!(code, 403);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "lesson_locked", "{body}");
    assert_eq!(fetch(&app, Some(dasha), &dasha_url).await.0, 200);

    // The URL runs out: the video's length plus the slack.
    app.state
        .clock
        .advance(3 + videos::STREAM_SLACK_SECONDS + 1);
    assert_eq!(fetch(&app, Some(dasha), &dasha_url).await.0, 410);

    // A free preview lesson's video plays for a visitor, with no init data at all. It replaces
    // the demo seed's clip there, whose files go.
    let (seeded, seeded_poster): (String, String) = server::on_db!(&app.db, |pool| sqlx::query_as(
        "SELECT prefix, poster_key FROM lesson_videos WHERE lesson_id = $1"
    )
    .bind(preview)
    .fetch_one(pool)
    .await)
    .unwrap();
    let storage = &app.state.storage;
    let seeded_master = format!("{seeded}/master.m3u8");
    assert!(storage.exists(Area::Private, &seeded_master).await.unwrap());
    let (code, _) = upload(&app, MIRA, preview, "intro.mp4", &video).await;
    assert_eq!(code, 200);
    prepare_all(&app, 60).await;
    assert!(!storage.exists(Area::Private, &seeded_master).await.unwrap());
    assert!(!storage
        .exists(Area::Private, &format!("{seeded}/v0/seg_000.ts"))
        .await
        .unwrap());
    assert!(!storage.exists(Area::Public, &seeded_poster).await.unwrap());
    let visitor = open_lesson(&app, None, preview).await;
    let preview_url = visitor["video"]["playlist_url"].as_str().unwrap();
    assert_eq!(fetch(&app, None, preview_url).await.0, 200);
}

#[tokio::test]
async fn a_broken_or_too_long_video_fails_its_job_and_the_lesson_keeps_its_video() {
    let app = TestApp::with_creators(&[("MAX_UPLOAD_BYTES", "400000")]).await;
    let buyer = 4601;
    let lesson = lessons(&app).await[1];
    app.buy(buyer, COURSE).await;

    let (code, _) = upload(&app, MIRA, lesson, "first.mp4", &generated_video(2).await).await;
    assert_eq!(code, 200);
    prepare_all(&app, 10).await;
    assert_eq!(status(&app, lesson).await["status"], "ready");
    let first = open_lesson(&app, Some(buyer), lesson).await["video"].clone();
    assert_eq!(first["duration_seconds"], 2);

    // A file that starts like an MP4 and is garbage after: queued, then failed as unreadable.
    let mut broken = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    broken.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let (code, queued) = upload(&app, MIRA, lesson, "broken.mp4", &broken).await;
    assert_eq!(code, 200, "{queued}");
    prepare_all(&app, 10).await;
    let failed = status(&app, lesson).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"], "unreadable");
    // The lesson still plays the first video, and its stream still works.
    assert_eq!(failed["playing"]["duration_seconds"], 2);
    let now = open_lesson(&app, Some(buyer), lesson).await["video"].clone();
    assert_eq!(now["poster_url"], first["poster_url"]);
    assert_eq!(
        fetch(&app, Some(buyer), now["playlist_url"].as_str().unwrap())
            .await
            .0,
        200
    );

    // Longer than the shop allows: failed with its own reason.
    let (code, _) = upload(&app, MIRA, lesson, "long.mp4", &generated_video(4).await).await;
    assert_eq!(code, 200);
    prepare_all(&app, 3).await;
    let long = status(&app, lesson).await;
    assert_eq!(
        (long["status"].as_str(), long["failure"].as_str()),
        (Some("failed"), Some("too_long"))
    );
    assert_eq!(long["playing"]["duration_seconds"], 2);

    // Not a video at all, or larger than the upload limit: refused at the door, nothing queued.
    let (code, refused) = upload(&app, MIRA, lesson, "notes.pdf", b"%PDF-1.4 not a video").await;
    assert_eq!(code, 415, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("not a video"),
        "{refused}"
    );
    let (code, refused) = upload(&app, MIRA, lesson, "huge.mp4", &vec![0u8; 500_000]).await;
    assert_eq!(code, 413, "{refused}");
    assert_eq!(
        status(&app, lesson).await["failure"],
        "too_long",
        "the last job is still the last"
    );
}

#[tokio::test]
async fn a_job_whose_worker_stopped_is_prepared_again_and_given_up_after_three_stops() {
    let app = TestApp::with_creators(&[]).await;
    let lessons = lessons(&app).await;
    prepare_all(&app, 60).await;
    let clock = &app.state.clock;

    // A worker claims the job and stops (its process killed mid-encode): the claim holds until
    // its lease runs out, and no other worker takes the job meanwhile.
    let (code, _) = upload(&app, MIRA, lessons[1], "a.mp4", &generated_video(2).await).await;
    assert_eq!(code, 200);
    let stopped = videos::claim(&app.db, clock.now()).await.unwrap().unwrap();
    assert_eq!(stopped.attempts, 1);
    assert_eq!(status(&app, lessons[1]).await["status"], "preparing");
    assert!(
        !videos::work_once(&app.db, &app.state.storage, &settings(60), clock)
            .await
            .unwrap()
    );
    clock.advance(videos::LEASE_SECONDS + 1);
    prepare_all(&app, 60).await;
    let ready = status(&app, lessons[1]).await;
    assert_eq!(ready["status"], "ready", "{ready}");

    // A job that stops its worker every time fails after three attempts instead of forever.
    let (code, _) = upload(&app, MIRA, lessons[2], "b.mp4", &generated_video(2).await).await;
    assert_eq!(code, 200);
    for attempt in 1..=videos::MAX_ATTEMPTS {
        let claim = videos::claim(&app.db, clock.now()).await.unwrap().unwrap();
        assert_eq!(claim.attempts, attempt);
        clock.advance(videos::LEASE_SECONDS + 1);
    }
    prepare_all(&app, 60).await;
    let given_up = status(&app, lessons[2]).await;
    assert_eq!(
        (given_up["status"].as_str(), given_up["failure"].as_str()),
        (Some("failed"), Some("stopped"))
    );
    assert_eq!(given_up["playing"], Value::Null);
}
