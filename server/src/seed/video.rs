//! The demo course's video lesson: a short clip ffmpeg makes from its own test sources (a moving
//! test card and a tone), queued for preparation like a creator's upload, so the dev preview
//! shows the whole path: the job, the studio's progress, the player.

use std::process::Stdio;
use tokio::sync::OnceCell;

/// Long enough to watch a position being saved and restored, short enough to prepare in a
/// second or two.
pub const SECONDS: u32 = 12;

/// The clip, made once per process (the tests start many shops); `None`, with a warning, where
/// ffmpeg is missing: the demo course then has no video.
pub async fn clip() -> Option<&'static [u8]> {
    static CLIP: OnceCell<Option<Vec<u8>>> = OnceCell::const_new();
    CLIP.get_or_init(make).await.as_deref()
}

async fn make() -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().ok()?;
    let out = dir.path().join("demo-lesson.mp4");
    let made = tokio::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size=640x360:rate=24:duration={SECONDS}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=330:duration={SECONDS}"))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac", "-b:a", "64k"])
        .arg(&out)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .status()
        .await;
    match made {
        Ok(status) if status.success() => tokio::fs::read(&out).await.ok(),
        Ok(status) => {
            tracing::warn!(%status, "ffmpeg could not make the demo video; the demo course has none");
            None
        }
        Err(err) => {
            tracing::warn!(error = %err, "no ffmpeg (scripts/setup.sh installs it); the demo course has no video");
            None
        }
    }
}
