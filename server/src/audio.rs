//! Audio previews: the first `AUDIO_PREVIEW_SECONDS` of a product's WAV track, cut on the
//! server for anyone, so a non-buyer's URL never carries more than the preview (the browser's
//! player is not trusted with the limit). Buyers play whole tracks through their signed download
//! links (`downloads`), which check the entitlement on every request, so a refund stops them.
//!
//! The cut is a slice of the stored file behind a rewritten header, not an ffmpeg transcode:
//! PCM WAV (what sound packs ship) is a fixed number of bytes a second, so the first seconds are
//! one byte range, served straight from the store (local disk or a bucket) with ranges of their
//! own, with no process to run, no job to wait for and no second copy to keep in step with the
//! creator's file. Other formats get no preview (buyers still play them in the library).

use crate::db::Db;
use crate::storage::{Area, Storage, StorageError};
pub use app::api::AUDIO_PREVIEW_SECONDS;
use object_store::{GetRange, GetResult};
use std::ops::Range;

/// How much of a stored file is read to find its `data` chunk. Encoders put `fmt ` and any
/// metadata (`LIST`, `bext`, …) before it; a file whose audio starts later gets no preview.
const HEAD_BYTES: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("no published audio track {0}")]
    NoTrack(i64),
    #[error("track {file_id} has no preview: {reason}")]
    NotPreviewable { file_id: i64, reason: &'static str },
    #[error("the range asked for is outside the preview")]
    BadRange,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

/// Whether a buyer's player may be given the file: any audio type (browsers play what they
/// can, the download stays beside it).
pub fn playable(mime: &str) -> bool {
    mime.to_ascii_lowercase().starts_with("audio/")
}

/// Whether a stored type is one the preview can cut (and so the product page lists).
pub fn previewable(mime: &str) -> bool {
    matches!(
        mime.to_ascii_lowercase().as_str(),
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave"
    )
}

/// Where a content track's preview is served; the one place that spells the URL.
pub fn preview_url(file_id: i64) -> String {
    format!("/audio/{file_id}/preview")
}

/// A preview's layout: a new header (RIFF, the original `fmt `, a `data` chunk of the preview's
/// length) followed by `data` bytes of the stored file.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    pub header: Vec<u8>,
    /// The preview's audio within the stored file.
    pub data: Range<u64>,
}

impl Layout {
    /// The preview's size in bytes, header included.
    pub fn len(&self) -> u64 {
        self.header.len() as u64 + (self.data.end - self.data.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads the chunks at the start of a WAV file (`head`, of a file `file_size` bytes long) and
/// lays out its first `seconds`.
pub fn layout(head: &[u8], file_size: u64, seconds: u32) -> Result<Layout, &'static str> {
    if head.len() < 12 || &head[..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Err("not a RIFF WAVE file");
    }
    let mut fmt: Option<&[u8]> = None;
    let mut at = 12usize;
    while at + 8 <= head.len() {
        let id = &head[at..at + 4];
        let size = u32::from_le_bytes(head[at + 4..at + 8].try_into().expect("4 bytes"));
        let body = at + 8;
        if id == b"data" {
            let fmt = fmt.ok_or("the data chunk comes before fmt")?;
            return data_layout(fmt, body as u64, size, file_size, seconds);
        }
        let end = body
            .checked_add(size as usize)
            .ok_or("a chunk's size is out of range")?;
        if id == b"fmt " {
            fmt = Some(head.get(body..end).ok_or("the fmt chunk is cut short")?);
        }
        // Chunks are padded to an even length.
        at = end + (size as usize & 1);
    }
    Err("no data chunk near the start")
}

fn data_layout(
    fmt: &[u8],
    data_start: u64,
    declared: u32,
    file_size: u64,
    seconds: u32,
) -> Result<Layout, &'static str> {
    if fmt.len() < 16 {
        return Err("the fmt chunk is too short");
    }
    let word = |i: usize| u16::from_le_bytes([fmt[i], fmt[i + 1]]);
    let format = word(0);
    let sample_rate = u32::from_le_bytes(fmt[4..8].try_into().expect("4 bytes"));
    let block_align = u64::from(word(12));
    // PCM, IEEE float, A-law, µ-law and the extensible form of them: a fixed number of bytes
    // per sample frame, so seconds are a byte count. Compressed formats are not.
    if !matches!(format, 1 | 3 | 6 | 7 | 0xFFFE) {
        return Err("not uncompressed audio");
    }
    if sample_rate == 0 || block_align == 0 {
        return Err("no sample rate or frame size");
    }
    // Streaming writers leave the size 0 or all ones: the audio then runs to the end of file.
    let on_disk = file_size.saturating_sub(data_start);
    let declared = match declared {
        0 | u32::MAX => on_disk,
        n => u64::from(n).min(on_disk),
    };
    let wanted = u64::from(sample_rate) * block_align * u64::from(seconds);
    let len = declared.min(wanted) / block_align * block_align;
    let data_len = u32::try_from(len).map_err(|_| "the preview is too long for WAV")?;

    let padded_fmt = fmt.len() + (fmt.len() & 1);
    let mut header = Vec::with_capacity(20 + padded_fmt + 8);
    header.extend_from_slice(b"RIFF");
    let riff = 4 + 8 + padded_fmt as u64 + 8 + len;
    header.extend_from_slice(
        &u32::try_from(riff)
            .map_err(|_| "the preview is too long for WAV")?
            .to_le_bytes(),
    );
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    header.extend_from_slice(fmt);
    if fmt.len() & 1 == 1 {
        header.push(0);
    }
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data_len.to_le_bytes());
    Ok(Layout {
        header,
        data: data_start..data_start + len,
    })
}

/// The bytes `range` asks for out of `len`, as RFC 9110 reads it (an end past the last byte
/// stops there); `None` when no byte of it exists.
pub fn resolve(range: &GetRange, len: u64) -> Option<Range<u64>> {
    let span = match *range {
        GetRange::Bounded(ref r) => r.start..r.end.min(len),
        GetRange::Offset(start) => start..len,
        GetRange::Suffix(n) => len.saturating_sub(n)..len,
    };
    (span.start < span.end).then_some(span)
}

/// What is served for one request: the preview's total size, the span of it sent, and that
/// span's bytes (the part of the header in it, then the store's stream of audio, if any).
pub struct Preview {
    pub total: u64,
    pub served: Range<u64>,
    pub header: Vec<u8>,
    pub audio: Option<GetResult>,
}

/// The preview of content track `file_id` of a published product, or the part of it `range`
/// asks for.
pub async fn preview(
    db: &Db,
    storage: &Storage,
    file_id: i64,
    range: Option<GetRange>,
) -> Result<Preview, AudioError> {
    let row: Option<(String, String, i64)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT f.mime_type, f.storage_key, f.size_bytes FROM product_files f
         JOIN products p ON p.id = f.product_id
         WHERE f.id = $1 AND f.role = 'content' AND p.status = 'published'",
    )
    .bind(file_id)
    .fetch_optional(pool)
    .await)?;
    let Some((mime, key, size)) = row else {
        return Err(AudioError::NoTrack(file_id));
    };
    let not_previewable = |reason| AudioError::NotPreviewable { file_id, reason };
    if !previewable(&mime) {
        return Err(not_previewable("not a WAV file"));
    }
    let size = u64::try_from(size).unwrap_or(0);
    let head = storage
        .read_range(Area::Private, &key, 0..HEAD_BYTES.min(size))
        .await?;
    let layout = layout(&head, size, AUDIO_PREVIEW_SECONDS).map_err(not_previewable)?;
    let total = layout.len();
    let served = match &range {
        None => 0..total,
        Some(range) => resolve(range, total).ok_or(AudioError::BadRange)?,
    };
    let header_len = layout.header.len() as u64;
    let header = layout
        .header
        .get(served.start.min(header_len) as usize..served.end.min(header_len) as usize)
        .unwrap_or_default()
        .to_vec();
    // The audio part of the span, shifted into the stored file.
    let audio = if served.end > header_len {
        let from = layout.data.start + served.start.saturating_sub(header_len);
        let to = layout.data.start + (served.end - header_len);
        Some(
            storage
                .get(Area::Private, &key, Some(GetRange::Bounded(from..to)))
                .await?,
        )
    } else {
        None
    };
    Ok(Preview {
        total,
        served,
        header,
        audio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 16-bit mono PCM at `rate`, `seconds` long, with a `LIST` chunk before the audio as many
    /// encoders write.
    fn wav(rate: u32, seconds: u32) -> Vec<u8> {
        let data_len = rate * 2 * seconds;
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(4 + 24 + 14 + 8 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"LIST");
        out.extend_from_slice(&5u32.to_le_bytes());
        out.extend_from_slice(b"INFO!\0");
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        out.extend((0..data_len).map(|i| i as u8));
        out
    }

    #[test]
    fn a_long_track_is_cut_to_the_preview_and_its_header_says_so() {
        let file = wav(8000, 40);
        let layout = layout(&file, file.len() as u64, 30).unwrap();
        assert_eq!(layout.data.end - layout.data.start, 8000 * 2 * 30);
        assert_eq!(&file[layout.data.start as usize - 8..][..4], b"data");
        let h = &layout.header;
        assert_eq!(&h[..4], b"RIFF");
        assert_eq!(
            u32::from_le_bytes(h[4..8].try_into().unwrap()) as u64,
            layout.len() - 8
        );
        assert_eq!(&h[h.len() - 8..h.len() - 4], b"data");
        assert_eq!(
            u32::from_le_bytes(h[h.len() - 4..].try_into().unwrap()),
            8000 * 2 * 30
        );
    }

    #[test]
    fn a_short_track_is_whole_and_junk_is_refused() {
        let file = wav(8000, 2);
        let layout = layout(&file, file.len() as u64, 30).unwrap();
        assert_eq!(layout.data.end, file.len() as u64);
        assert!(super::layout(b"RIFF....AVI LIST", 16, 30).is_err());
        assert!(super::layout(b"", 0, 30).is_err());
        let mut compressed = wav(8000, 2);
        compressed[20] = 0x55; // MPEG layer 3 inside a WAV
        assert!(super::layout(&compressed, compressed.len() as u64, 30).is_err());
    }

    #[test]
    fn ranges_are_read_against_the_preview() {
        assert_eq!(resolve(&GetRange::Bounded(0..10), 5), Some(0..5));
        assert_eq!(resolve(&GetRange::Offset(3), 5), Some(3..5));
        assert_eq!(resolve(&GetRange::Suffix(2), 5), Some(3..5));
        assert_eq!(resolve(&GetRange::Offset(5), 5), None);
        assert_eq!(resolve(&GetRange::Suffix(9), 0), None);
    }
}
