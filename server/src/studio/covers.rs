//! Covers: PNG, JPEG or WebP only (an SVG could carry script onto the shop's origin), decoded
//! under limits, scaled down to a phone-friendly size and re-encoded, which also drops metadata.

use super::StudioError;
use app::i18n::{td_string, Locale};
use app::text;
use app::texts::{fill, Text};
use image::{ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// A cover upload larger than this is refused before decoding.
pub const COVER_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Covers larger than this on either side are scaled down to fit.
pub const COVER_MAX_SIDE: u32 = 1200;
pub const COVER_MIN_SIDE: u32 = 100;
/// Refuse to decode anything claiming more pixels than this on either side or in all (decompression
/// bombs): 24 megapixels is a phone's full-size photo, about 96 MB once decoded as RGBA.
const DECODE_MAX_SIDE: u32 = 10_000;
pub const DECODE_MAX_PIXELS: u64 = 24_000_000;
/// Covers decoded at once; further uploads wait their turn, so a burst of uploads cannot hold
/// more than this many decoded images (and resize buffers) in memory.
pub const DECODE_SLOTS: usize = 2;

/// [`process`] on the blocking pool, at most [`DECODE_SLOTS`] at a time.
pub async fn process_bounded(bytes: Vec<u8>) -> Result<Cover, StudioError> {
    static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(DECODE_SLOTS);
    let _slot = SLOTS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || process(&bytes))
        .await
        .map_err(|err| StudioError::Io(std::io::Error::other(err)))?
}

/// A cover ready to store.
#[derive(Debug)]
pub struct Cover {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

pub fn process(bytes: &[u8]) -> Result<Cover, StudioError> {
    let format = match super::uploads::sniff_mime(bytes, "") {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        "image/webp" => ImageFormat::WebP,
        other => {
            let other = other.to_owned();
            return Err(StudioError::UnsupportedMedia(Text::from_fn(
                move |locale| {
                    fill(
                        td_string!(locale, studio_errors.cover_type),
                        &[("kind", &describe(&other, locale))],
                    )
                },
            )));
        }
    };
    let unreadable = |err: image::ImageError| {
        tracing::info!(error = %err, "unreadable cover");
        StudioError::UnsupportedMedia(text!(studio_errors.cover_unreadable))
    };
    // The header alone says how large the image is: refuse before a pixel is decoded.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(unreadable)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > DECODE_MAX_PIXELS || width.max(height) > DECODE_MAX_SIDE {
        return Err(StudioError::Invalid(text!(
            studio_errors.cover_too_big,
            width = width,
            height = height,
            megapixels = DECODE_MAX_PIXELS / 1_000_000,
            side = DECODE_MAX_SIDE
        )));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(DECODE_MAX_SIDE);
    limits.max_image_height = Some(DECODE_MAX_SIDE);
    // 16-bit RGBA at the pixel limit, and nothing more.
    limits.max_alloc = Some(DECODE_MAX_PIXELS * 8);
    reader.limits(limits);
    let image = reader.decode().map_err(unreadable)?;
    if image.width() < COVER_MIN_SIDE || image.height() < COVER_MIN_SIDE {
        return Err(StudioError::Invalid(text!(
            studio_errors.cover_too_small,
            width = image.width(),
            height = image.height(),
            min = COVER_MIN_SIDE
        )));
    }
    let image = if image.width() > COVER_MAX_SIDE || image.height() > COVER_MAX_SIDE {
        image.resize(
            COVER_MAX_SIDE,
            COVER_MAX_SIDE,
            image::imageops::FilterType::Triangle,
        )
    } else {
        image
    };
    let mut out = Cursor::new(Vec::new());
    // PNG keeps transparency; photos stay JPEG (WebP encoding here would be lossless and large).
    let (format, mime) = if format == ImageFormat::Png {
        (ImageFormat::Png, "image/png")
    } else {
        (ImageFormat::Jpeg, "image/jpeg")
    };
    let encoded = if format == ImageFormat::Jpeg {
        image::DynamicImage::ImageRgb8(image.to_rgb8()).write_to(&mut out, format)
    } else {
        image.write_to(&mut out, format)
    };
    encoded.map_err(|err| {
        tracing::warn!(error = %err, "cover not encoded");
        StudioError::Invalid(text!(studio_errors.cover_encode))
    })?;
    Ok(Cover {
        width: image.width(),
        height: image.height(),
        bytes: out.into_inner(),
        mime,
    })
}

fn describe(mime: &str, locale: Locale) -> &str {
    match mime {
        "text/html" => td_string!(locale, studio_errors.cover_markup),
        "image/gif" => td_string!(locale, studio_errors.cover_gif),
        "application/octet-stream" => td_string!(locale, studio_errors.cover_not_image),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbaImage::from_pixel(width, height, image::Rgba([200, 80, 40, 255]));
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn large_covers_are_scaled_down_and_small_ones_kept() {
        let cover = process(&png(2400, 1800)).unwrap();
        assert_eq!((cover.width, cover.height), (1200, 900));
        assert_eq!(cover.mime, "image/png");
        let cover = process(&png(300, 400)).unwrap();
        assert_eq!((cover.width, cover.height), (300, 400));
    }

    /// A PNG whose header claims `width`×`height`, with a few real pixels behind it.
    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        fn crc32(bytes: &[u8]) -> u32 {
            let mut crc = !0u32;
            for &b in bytes {
                crc ^= u32::from(b);
                for _ in 0..8 {
                    crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
                }
            }
            !crc
        }
        let mut bytes = png(200, 200);
        // Signature (8), IHDR length (4) and type (4), then width and height.
        bytes[16..20].copy_from_slice(&width.to_be_bytes());
        bytes[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    #[test]
    fn covers_over_the_pixel_limit_are_refused_before_decoding() {
        for (w, h) in [(10_000, 10_000), (6_000, 4_001), (10_001, 200)] {
            let err = process(&png_claiming(w, h)).unwrap_err();
            assert!(matches!(err, StudioError::Invalid(_)), "{w}×{h}: {err}");
            assert!(err.to_string().contains(&format!("{w}×{h}")), "{err}");
            assert!(err.to_string().contains("24 megapixels"), "{err}");
        }
        // Under the limit the header passes and the (truncated) data is what fails.
        assert!(matches!(
            process(&png_claiming(6_000, 4_000)),
            Err(StudioError::UnsupportedMedia(_))
        ));
    }

    #[tokio::test]
    async fn the_bounded_pool_processes_covers() {
        let tasks: Vec<_> = (0..5)
            .map(|_| tokio::spawn(process_bounded(png(300, 300))))
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().width, 300);
        }
    }

    #[test]
    fn svg_and_other_types_are_refused_with_a_reason() {
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
        let err = process(svg).unwrap_err();
        assert!(matches!(err, StudioError::UnsupportedMedia(_)));
        assert!(err.to_string().contains("PNG, JPEG or WebP"), "{err}");
        assert!(err.to_string().contains("SVG"), "{err}");
        assert!(matches!(
            process(b"%PDF-1.7"),
            Err(StudioError::UnsupportedMedia(_))
        ));
        // The right magic, then garbage.
        assert!(matches!(
            process(b"\x89PNG\r\n\x1a\nnot really"),
            Err(StudioError::UnsupportedMedia(_))
        ));
        assert!(matches!(
            process(&png(20, 20)),
            Err(StudioError::Invalid(_))
        ));
    }
}
