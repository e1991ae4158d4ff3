//! The demo course's video lesson: a short clip ffmpeg makes from its test sources, queued for
//! preparation like a creator's upload, so the dev preview shows the whole path: the job, the
//! studio's progress, the player.

use tokio::sync::OnceCell;

/// Long enough to watch a position being saved and restored, short enough to prepare in a
/// second or two.
pub const SECONDS: u32 = 12;

/// The clip, made once per process (the tests start many shops); `None`, with a warning, where
/// ffmpeg is missing or fails: the demo course then has no video.
pub async fn clip() -> Option<&'static [u8]> {
    static CLIP: OnceCell<Option<Vec<u8>>> = OnceCell::const_new();
    CLIP.get_or_init(|| async {
        crate::videos::ffmpeg::test_card(SECONDS, 640, 360)
            .await
            .inspect_err(|err| {
                tracing::warn!(error = %err, "no demo video; the demo course's lessons have none")
            })
            .ok()
    })
    .await
    .as_deref()
}
