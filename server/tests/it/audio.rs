//! Audio (#18): a product's tracks play as previews cut by the server for anyone (the served WAV
//! holds `AUDIO_PREVIEW_SECONDS`, whatever the browser asks), buyers play the whole track from
//! their signed library link with ranges, and a refunded buyer is back to the preview.

use crate::common::TestApp;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, RANGE};
use reqwest::Method;
use serde_json::{json, Value};
use server::audio::AUDIO_PREVIEW_SECONDS;

const PACK: &str = "lofi-sample-pack-vol-1";
const BUYER: i64 = 4242;
/// The demo's tracks are 8 kHz, 16-bit mono: 16,000 bytes a second.
const BYTES_PER_SECOND: u64 = 16_000;

/// A WAV's duration in seconds, read from its own chunks (the `fmt ` rate and frame size, the
/// `data` length), after checking the header's sizes agree with the bytes served.
fn wav_seconds(wav: &[u8]) -> f64 {
    assert_eq!(&wav[..4], b"RIFF", "not a WAV");
    assert_eq!(&wav[8..12], b"WAVE");
    let riff = u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff + 8, wav.len(), "RIFF size and bytes served differ");
    let (mut at, mut rate_and_frame) = (12, None);
    while at + 8 <= wav.len() {
        let size = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &wav[at + 8..];
        match &wav[at..at + 4] {
            b"fmt " => {
                let rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
                let frame = u16::from_le_bytes(body[12..14].try_into().unwrap());
                rate_and_frame = Some((f64::from(rate), f64::from(frame)));
            }
            b"data" => {
                assert_eq!(
                    at + 8 + size,
                    wav.len(),
                    "data size and bytes served differ"
                );
                let (rate, frame) = rate_and_frame.expect("fmt before data");
                return size as f64 / frame / rate;
            }
            _ => {}
        }
        at += 8 + size + (size & 1);
    }
    panic!("no data chunk");
}

/// The preview URLs the product page renders, in order.
async fn preview_urls(app: &TestApp) -> Vec<String> {
    let html = app
        .http
        .get(format!("{}/p/{PACK}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    html.split("src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|src| src.starts_with("/audio/"))
        .map(str::to_owned)
        .collect()
}

async fn get(
    app: &TestApp,
    path: &str,
    range: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app.http.get(format!("{}{path}", app.base));
    if let Some(range) = range {
        req = req.header(RANGE, range);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.unwrap().to_vec())
}

/// The buyer's library links to the pack's audio files.
async fn library_tracks(app: &TestApp) -> Vec<Value> {
    let (status, library) = app.call(BUYER, Method::GET, "/api/library", None).await;
    assert_eq!(status, 200, "{library}");
    let item = library
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["slug"] == PACK)
        .expect("the pack is in the library")
        .clone();
    item["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|file| file["audio"] == json!(true))
        .cloned()
        .collect()
}

#[tokio::test]
async fn non_buyers_hear_the_preview_buyers_the_whole_track_and_a_refund_ends_it() {
    let app = TestApp::with_creators(&[]).await;
    let previews = preview_urls(&app).await;
    assert_eq!(previews.len(), 3, "one player per track: {previews:?}");

    // Anyone, signed in or not, gets the first 30 s of a 40 s track, and nothing past it by range.
    let (status, headers, preview) = get(&app, &previews[0], None).await;
    assert_eq!(status, 200);
    assert_eq!(headers[CONTENT_TYPE], "audio/wav");
    assert_eq!(wav_seconds(&preview), f64::from(AUDIO_PREVIEW_SECONDS));
    let total = preview.len() as u64;
    assert_eq!(
        total,
        44 + BYTES_PER_SECOND * u64::from(AUDIO_PREVIEW_SECONDS)
    );
    let (status, headers, part) = get(&app, &previews[0], Some("bytes=40-99")).await;
    assert_eq!(status, 206);
    assert_eq!(
        headers[CONTENT_RANGE],
        format!("bytes 40-99/{total}").as_str()
    );
    assert_eq!(part, preview[40..100]);
    let (status, _, tail) = get(&app, &previews[0], Some("bytes=-10")).await;
    assert_eq!(
        (status, tail.as_slice()),
        (206, &preview[preview.len() - 10..])
    );
    let (status, headers, rest) = get(&app, &previews[0], Some("bytes=100000000-")).await;
    assert_eq!(
        status,
        416,
        "past the preview's end: {headers:?} {} bytes",
        rest.len()
    );
    let (status, _, _) = get(&app, "/audio/999999/preview", None).await;
    assert_eq!(status, 404);

    // A buyer's library plays each track whole, resumable by range, through the signed link.
    let order = app.buy(BUYER, PACK).await;
    let tracks = library_tracks(&app).await;
    assert_eq!(tracks.len(), 3, "{tracks:?}");
    let url = tracks[0]["url"].as_str().unwrap().to_owned();
    let (status, headers, whole) = get(&app, &url, None).await;
    assert_eq!(status, 200);
    assert_eq!(headers[CONTENT_TYPE], "audio/wav");
    assert!(
        (wav_seconds(&whole) - 40.0).abs() < 0.01,
        "the whole track: {} s",
        wav_seconds(&whole)
    );
    assert_eq!(
        whole[44..][..1000],
        preview[44..][..1000],
        "the preview is its start"
    );
    let (status, _, part) = get(&app, &url, Some("bytes=1000-1999")).await;
    assert_eq!((status, part.as_slice()), (206, &whole[1000..2000]));

    // Refunded: the link stops, the preview is all that is left.
    app.refund_as(1003, &order).await;
    let (status, _, _) = get(&app, &url, None).await;
    assert_eq!(status, 403);
    assert!(library_tracks_gone(&app).await);
    let (status, _, again) = get(&app, &previews[0], None).await;
    assert_eq!(status, 200);
    assert_eq!(wav_seconds(&again), f64::from(AUDIO_PREVIEW_SECONDS));
}

/// After the refund the pack is no longer in the buyer's library.
async fn library_tracks_gone(app: &TestApp) -> bool {
    let (status, library) = app.call(BUYER, Method::GET, "/api/library", None).await;
    assert_eq!(status, 200);
    !library
        .as_array()
        .unwrap()
        .iter()
        .any(|item| item["slug"] == PACK)
}
