//! Video lessons (issue #18): a creator's upload becomes a job in `video_jobs`; a worker prepares
//! it for streaming (`ffmpeg`: probe, an HLS ladder, a poster frame) and, only when all of that
//! is stored, makes it the lesson's video in one transaction. A job that fails says why in the
//! studio and leaves the lesson playing what it played before.
//!
//! The queue lives in the database: a worker claims a job with a lease it renews as it reports
//! progress, so a process that stops mid-job (a deploy, a crash, an out-of-memory kill) leaves a
//! lease that runs out, and the next worker, here or on another replica, starts the job again.
//! Each claim counts an attempt, and a job that stops its worker [`MAX_ATTEMPTS`] times fails
//! rather than taking every restart down with it.
//!
//! Buyers stream through `/stream/<token>/…` (see `http::videos`): the token names the viewer
//! and the lesson and runs out, and every request under it must come from that same viewer.

pub mod ffmpeg;

use crate::db::Db;
use crate::storage::{Area, Headers, Storage, StorageError};
use app::api::LessonVideo;
use app::studio::types::{PlayingVideo, StudioVideo, VideoFailure, VideoStatus};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a claim holds without news from its worker. ffmpeg reports about twice a second,
/// and each report renews it.
pub const LEASE_SECONDS: i64 = 60;
/// Claims a job gets before it is given up as the thing stopping its worker.
pub const MAX_ATTEMPTS: i64 = 3;
/// How often an idle worker looks for work a stopped process left (an upload wakes it at once).
const IDLE_POLL: Duration = Duration::from_secs(10);
/// A stream token lasts the video's length plus this: long enough to watch it through with
/// pauses, short enough that a copied URL soon stops working. The lesson page gets a new one at
/// every opening.
pub const STREAM_SLACK_SECONDS: i64 = 30 * 60;

#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("no such lesson, or it has no video")]
    NoVideo,
    #[error("this lesson is for the course's buyers")]
    Locked,
    #[error("not a file of a prepared video")]
    NoSuchPart,
    /// The stream token names another viewer than the request's init data (or the request
    /// carries none).
    #[error("this stream was opened by another viewer")]
    NotYours,
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot prepare a video: {0}")]
    Tool(#[from] ffmpeg::FfmpegError),
    #[error("scratch space for a video: {0}")]
    Io(#[from] std::io::Error),
}

/// What the worker needs besides the database and the store.
#[derive(Clone, Debug)]
pub struct Settings {
    pub max_seconds: u32,
}

/// Wakes the worker when an upload queues a job (otherwise it looks every [`IDLE_POLL`]).
pub type Wake = Arc<tokio::sync::Notify>;

/// Queues the preparation of `source_key` (the upload, in the private area) for `lesson_id`.
pub async fn enqueue(
    db: &Db,
    lesson_id: i64,
    source_key: &str,
    source_bytes: u64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_scalar(
        "INSERT INTO video_jobs (lesson_id, source_key, source_bytes, created_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(lesson_id)
    .bind(source_key)
    .bind(i64::try_from(source_bytes).unwrap_or(i64::MAX))
    .bind(now)
    .fetch_one(pool)
    .await)
}

/// A job this worker holds: `attempt` fences it, so a worker whose lease ran out (and whose job
/// another worker took) can no longer write to it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claim {
    pub id: i64,
    pub lesson_id: i64,
    pub source_key: String,
    pub attempts: i64,
}

/// Takes the oldest job that is queued or whose worker stopped (its lease ran out).
pub async fn claim(db: &Db, now: i64) -> Result<Option<Claim>, sqlx::Error> {
    // The condition is repeated outside the subquery: two workers may pick the same id, and the
    // update's own check (re-evaluated on the locked row) lets only the first one have it.
    crate::on_db!(db, |pool| sqlx::query_as(
        "UPDATE video_jobs
         SET status = 'preparing', attempts = attempts + 1, lease_until = $2, progress = 0
         WHERE id = (SELECT id FROM video_jobs
                     WHERE status = 'queued' OR (status = 'preparing' AND lease_until < $1)
                     ORDER BY id LIMIT 1)
           AND (status = 'queued' OR (status = 'preparing' AND lease_until < $1))
         RETURNING id, lesson_id, source_key, attempts",
    )
    .bind(now)
    .bind(now + LEASE_SECONDS)
    .fetch_optional(pool)
    .await)
}

/// Records progress and renews the lease; `false` when the job is no longer this claim's.
async fn report(db: &Db, claim: &Claim, percent: u8, now: i64) -> Result<bool, sqlx::Error> {
    let done = crate::on_db!(db, |pool| sqlx::query(
        "UPDATE video_jobs SET progress = $3, lease_until = $4
         WHERE id = $1 AND attempts = $2 AND status = 'preparing'",
    )
    .bind(claim.id)
    .bind(claim.attempts)
    .bind(i64::from(percent))
    .bind(now + LEASE_SECONDS)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(done.rows_affected() == 1)
}

async fn fail(db: &Db, claim: &Claim, failure: VideoFailure, now: i64) -> Result<(), sqlx::Error> {
    crate::on_db!(db, |pool| {
        sqlx::query(
        "UPDATE video_jobs SET status = 'failed', failure = $3, lease_until = NULL, finished_at = $4
         WHERE id = $1 AND attempts = $2 AND status = 'preparing'",
    )
    .bind(claim.id)
    .bind(claim.attempts)
    .bind(failure.as_str())
    .bind(now)
    .execute(pool)
    .await
    .map(crate::db::Done::from)
    })?;
    Ok(())
}

/// A prepared video, stored and ready to become the lesson's.
struct Prepared {
    prefix: String,
    poster_key: String,
    duration_ms: i64,
    width: u32,
    height: u32,
}

/// What a lesson played before a new video replaced it: its files, now nobody's.
struct Replaced {
    prefix: String,
    poster_key: String,
}

/// The job is done and the lesson plays its video, in one transaction: `None` when the claim was
/// lost meanwhile (another worker's result stands), else what the lesson played before, if any.
async fn finish(
    db: &Db,
    claim: &Claim,
    prepared: &Prepared,
    now: i64,
) -> Result<Option<Option<Replaced>>, sqlx::Error> {
    crate::on_db!(db, |pool| async {
        let mut tx = pool.begin().await?;
        let marked = sqlx::query(
            "UPDATE video_jobs
             SET status = 'ready', progress = 100, lease_until = NULL, finished_at = $3
             WHERE id = $1 AND attempts = $2 AND status = 'preparing'",
        )
        .bind(claim.id)
        .bind(claim.attempts)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() != 1 {
            return Ok(None);
        }
        let replaced: Option<(String, String)> =
            sqlx::query_as("SELECT prefix, poster_key FROM lesson_videos WHERE lesson_id = $1")
                .bind(claim.lesson_id)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO lesson_videos
                 (lesson_id, job_id, prefix, poster_key, duration_ms, width, height, ready_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (lesson_id) DO UPDATE SET
                 job_id = excluded.job_id, prefix = excluded.prefix,
                 poster_key = excluded.poster_key, duration_ms = excluded.duration_ms,
                 width = excluded.width, height = excluded.height, ready_at = excluded.ready_at",
        )
        .bind(claim.lesson_id)
        .bind(claim.id)
        .bind(&prepared.prefix)
        .bind(&prepared.poster_key)
        .bind(prepared.duration_ms)
        .bind(i64::from(prepared.width))
        .bind(i64::from(prepared.height))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(replaced.map(|(prefix, poster_key)| Replaced {
            prefix,
            poster_key,
        })))
    }
    .await)
}

/// Prepares one job, if there is one; `Ok(false)` when the queue is empty.
///
/// An input ffmpeg refuses fails its job (the creator's to fix). Anything else (the store, the
/// database, ffmpeg missing) leaves the job to its lease, to be tried again.
pub async fn work_once(
    db: &Db,
    storage: &Storage,
    settings: &Settings,
    clock: &clock::Clock,
) -> Result<bool, VideoError> {
    let Some(claim) = claim(db, clock.now()).await? else {
        return Ok(false);
    };
    if claim.attempts > MAX_ATTEMPTS {
        tracing::warn!(
            job = claim.id,
            "a video job stopped its worker too often; failing it"
        );
        fail(db, &claim, VideoFailure::Stopped, clock.now()).await?;
        return Ok(true);
    }
    tracing::info!(
        job = claim.id,
        lesson = claim.lesson_id,
        attempt = claim.attempts,
        "preparing a video"
    );
    let scratch = tempfile::Builder::new()
        .prefix("starfront-video-")
        .tempdir()?;
    match prepare(db, storage, settings, clock, &claim, scratch.path()).await? {
        Outcome::Prepared(prepared) => {
            if let Some(replaced) = finish(db, &claim, &prepared, clock.now()).await? {
                tracing::info!(job = claim.id, lesson = claim.lesson_id, "video ready");
                // The earlier video's files: no stream serves them any more (a stream follows
                // the lesson to its current video), so they go. A failure only leaves garbage.
                if let Some(old) = replaced {
                    let removed = async {
                        storage.delete_prefix(Area::Private, &old.prefix).await?;
                        storage.delete(Area::Public, &old.poster_key).await
                    };
                    if let Err(err) = removed.await {
                        tracing::warn!(error = %err, prefix = old.prefix, "cannot remove a replaced video");
                    }
                }
            }
        }
        Outcome::Refused(failure, why) => {
            tracing::info!(
                job = claim.id,
                failure = failure.as_str(),
                why,
                "video refused"
            );
            fail(db, &claim, failure, clock.now()).await?;
        }
        Outcome::Lost => tracing::warn!(job = claim.id, "a video job's claim was lost"),
    }
    Ok(true)
}

enum Outcome {
    Prepared(Prepared),
    /// The input is at fault: the job fails with this reason (and ffmpeg's words for the log).
    Refused(VideoFailure, String),
    /// Another worker holds the job now.
    Lost,
}

async fn prepare(
    db: &Db,
    storage: &Storage,
    settings: &Settings,
    clock: &clock::Clock,
    claim: &Claim,
    scratch: &Path,
) -> Result<Outcome, VideoError> {
    let source = local_copy(storage, &claim.source_key, scratch).await?;
    let probe = match ffmpeg::probe(&source).await {
        Ok(probe) => probe,
        Err(ffmpeg::FfmpegError::Spawn { program, source }) => {
            return Err(ffmpeg::FfmpegError::Spawn { program, source }.into())
        }
        Err(err) => return Ok(Outcome::Refused(VideoFailure::Unreadable, err.to_string())),
    };
    let Some((width, height)) = probe.picture else {
        return Ok(Outcome::Refused(
            VideoFailure::NoVideo,
            "no picture stream".into(),
        ));
    };
    if probe.duration_seconds > f64::from(settings.max_seconds) {
        return Ok(Outcome::Refused(
            VideoFailure::TooLong,
            format!("{:.0} s", probe.duration_seconds),
        ));
    }
    let out = scratch.join("hls");
    tokio::fs::create_dir_all(&out).await?;
    // ffmpeg reports from its own pace; the database hears at most one change of percent.
    let (progress, mut reports) = tokio::sync::watch::channel(0u8);
    let encode = ffmpeg::hls(&source, &probe, &out, move |share| {
        // 0–95 %: the last few are storing the result.
        let _ = progress.send((share * 95.0) as u8);
    });
    tokio::pin!(encode);
    // The lease is renewed with each new percent, and on a timer besides: a long 1080p ladder
    // on a small machine can spend minutes on one percent.
    let mut renew = tokio::time::interval(Duration::from_secs((LEASE_SECONDS / 3) as u64));
    let encoded = loop {
        let percent = tokio::select! {
            result = &mut encode => break result,
            changed = reports.changed() => match changed {
                Ok(()) => *reports.borrow_and_update(),
                Err(_) => continue,
            },
            _ = renew.tick() => *reports.borrow(),
        };
        if !report(db, claim, percent, clock.now()).await? {
            // Dropping `encode` kills ffmpeg.
            return Ok(Outcome::Lost);
        }
    };
    match encoded {
        Ok(()) => {}
        Err(err @ ffmpeg::FfmpegError::Spawn { .. }) => return Err(err.into()),
        Err(err) => return Ok(Outcome::Refused(VideoFailure::Unreadable, err.to_string())),
    }
    let poster = scratch.join("poster.jpg");
    let poster_at = (probe.duration_seconds / 3.0).min(5.0);
    if let Err(err) = ffmpeg::poster(&source, poster_at, &poster).await {
        return match err {
            ffmpeg::FfmpegError::Spawn { .. } => Err(err.into()),
            err => Ok(Outcome::Refused(VideoFailure::Unreadable, err.to_string())),
        };
    }
    if !report(db, claim, 96, clock.now()).await? {
        return Ok(Outcome::Lost);
    }
    // Named by lesson and job: a later upload never overwrites what buyers are watching now.
    let prefix = format!("videos/lesson-{}/job-{}", claim.lesson_id, claim.id);
    store_tree(storage, &out, &prefix).await?;
    let poster_key = crate::studio::uploads::new_key("videos/posters", "image/jpeg");
    let poster_bytes = tokio::fs::read(&poster).await?;
    storage
        .put(
            Area::Public,
            &poster_key,
            &poster_bytes,
            &Headers::inline("image/jpeg"),
        )
        .await?;
    Ok(Outcome::Prepared(Prepared {
        prefix,
        poster_key,
        duration_ms: (probe.duration_seconds * 1000.0).round() as i64,
        width,
        height,
    }))
}

/// The upload as a local file ffmpeg can open: the stored file itself on a local store, a copy
/// in the scratch directory from a bucket.
async fn local_copy(storage: &Storage, key: &str, scratch: &Path) -> Result<PathBuf, VideoError> {
    if let Some(path) = storage.local_path(Area::Private, key) {
        return Ok(path);
    }
    let path = scratch.join("source");
    storage.copy_to_file(Area::Private, key, &path).await?;
    Ok(path)
}

/// Stores every file under `dir` at `prefix/<its path under dir>`, in the private area.
async fn store_tree(storage: &Storage, dir: &Path, prefix: &str) -> Result<(), VideoError> {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let mut entries = tokio::fs::read_dir(&current).await?;
        while let Some(entry) = entries.next_entry().await? {
            let path = entry.path();
            if entry.file_type().await?.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .expect("walked from dir")
                .to_string_lossy()
                .replace('\\', "/");
            let key = format!("{prefix}/{relative}");
            let bytes = tokio::fs::read(&path).await?;
            storage
                .put(
                    Area::Private,
                    &key,
                    &bytes,
                    &Headers::inline(part_type(&relative)),
                )
                .await?;
        }
    }
    Ok(())
}

/// The content type of a part of a prepared video: a playlist or a segment.
pub fn part_type(path: &str) -> &'static str {
    if path.ends_with(".m3u8") {
        "application/vnd.apple.mpegurl"
    } else {
        "video/mp2t"
    }
}

/// Whether `path` (under a stream token) names a part of a prepared video, and nothing else in
/// the store: `master.m3u8`, `v<n>/index.m3u8` or `v<n>/seg_<k>.ts`.
pub fn is_part(path: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
    if path == "master.m3u8" {
        return true;
    }
    let Some((rendition, file)) = path.split_once('/') else {
        return false;
    };
    let rendition_ok = rendition.strip_prefix('v').is_some_and(digits);
    let file_ok = file == "index.m3u8"
        || file
            .strip_prefix("seg_")
            .and_then(|f| f.strip_suffix(".ts"))
            .is_some_and(digits);
    rendition_ok && file_ok
}

/// Prepares jobs as they come, one at a time (ffmpeg uses every core it is given), until the
/// task is stopped; stopping it kills ffmpeg, and the job's lease brings it back.
pub async fn run(db: Db, storage: Storage, settings: Settings, clock: clock::Clock, wake: Wake) {
    loop {
        match work_once(&db, &storage, &settings, &clock).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(err) => {
                tracing::warn!(error = %err, "video preparation stopped; the job will be tried again")
            }
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

/// The lesson's video as the studio shows it: the latest job and what plays now.
pub async fn studio_state(db: &Db, lesson_id: i64) -> Result<Option<StudioVideo>, sqlx::Error> {
    let job: Option<(String, i64, Option<String>)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT status, progress, failure FROM video_jobs
         WHERE lesson_id = $1 ORDER BY id DESC LIMIT 1"
    )
    .bind(lesson_id)
    .fetch_optional(pool)
    .await)?;
    let Some((status, progress, failure)) = job else {
        return Ok(None);
    };
    let playing: Option<(i64, String)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT duration_ms, poster_key FROM lesson_videos WHERE lesson_id = $1"
    )
    .bind(lesson_id)
    .fetch_optional(pool)
    .await)?;
    Ok(Some(StudioVideo {
        status: VideoStatus::parse(&status).unwrap_or(VideoStatus::Queued),
        progress: u8::try_from(progress.clamp(0, 100)).unwrap_or(0),
        failure: failure.as_deref().and_then(VideoFailure::parse),
        playing: playing.map(|(duration_ms, poster_key)| PlayingVideo {
            duration_seconds: seconds(duration_ms),
            poster_url: Storage::public_url(&poster_key),
        }),
    }))
}

fn seconds(duration_ms: i64) -> u32 {
    u32::try_from((duration_ms + 500) / 1000).unwrap_or(0)
}

/// The lesson's video for a viewer who may open the lesson (the caller has checked), with a
/// stream URL for `viewer` alone (0: a visitor, for a free preview) and where they stopped.
pub async fn for_viewer(
    db: &Db,
    signer: &crate::downloads::Signer,
    lesson_id: i64,
    viewer: Option<i64>,
    now: i64,
) -> Result<Option<LessonVideo>, sqlx::Error> {
    let video: Option<(i64, String)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT duration_ms, poster_key FROM lesson_videos WHERE lesson_id = $1"
    )
    .bind(lesson_id)
    .fetch_optional(pool)
    .await)?;
    let Some((duration_ms, poster_key)) = video else {
        return Ok(None);
    };
    let position = match viewer {
        Some(user) => position(db, user, lesson_id).await?,
        None => 0,
    };
    let expires = now + duration_ms / 1000 + STREAM_SLACK_SECONDS;
    let token = signer.sign_stream(viewer.unwrap_or(0), lesson_id, expires);
    Ok(Some(LessonVideo {
        playlist_url: format!("/stream/{token}/master.m3u8"),
        poster_url: Storage::public_url(&poster_key),
        duration_seconds: seconds(duration_ms),
        position_seconds: position,
    }))
}

/// Where the lesson's prepared files are, for the stream handler.
pub async fn prefix(db: &Db, lesson_id: i64) -> Result<String, VideoError> {
    let prefix: Option<String> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT prefix FROM lesson_videos WHERE lesson_id = $1"
    )
    .bind(lesson_id)
    .fetch_optional(pool)
    .await)?;
    prefix.ok_or(VideoError::NoVideo)
}

async fn position(db: &Db, user: i64, lesson_id: i64) -> Result<u32, sqlx::Error> {
    let seconds: Option<i64> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT seconds FROM video_positions WHERE user_id = $1 AND lesson_id = $2"
    )
    .bind(user)
    .bind(lesson_id)
    .fetch_optional(pool)
    .await)?;
    Ok(seconds.map_or(0, |s| u32::try_from(s).unwrap_or(0)))
}

/// Remembers where `user` is in the lesson's video (the last write wins, from any device).
pub async fn save_position(
    db: &Db,
    user: i64,
    lesson_id: i64,
    seconds: u32,
    now: i64,
) -> Result<(), sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query(
        "INSERT INTO video_positions (user_id, lesson_id, seconds, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, lesson_id)
         DO UPDATE SET seconds = excluded.seconds, updated_at = excluded.updated_at",
    )
    .bind(user)
    .bind(lesson_id)
    .bind(i64::from(seconds))
    .bind(now)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_parts_of_a_prepared_video_are_served() {
        for ok in [
            "master.m3u8",
            "v0/index.m3u8",
            "v1/seg_000.ts",
            "v2/seg_1234.ts",
        ] {
            assert!(is_part(ok), "{ok}");
        }
        for bad in [
            "",
            "../master.m3u8",
            "v0/../../secret.pdf",
            "v0/seg_.ts",
            "v/index.m3u8",
            "v0/index.m3u8/x",
            "v0/seg_001.ts.pdf",
            "x0/seg_001.ts",
            "master.m3u8/",
            "v0/v1/seg_001.ts",
        ] {
            assert!(!is_part(bad), "{bad}");
        }
    }
}
