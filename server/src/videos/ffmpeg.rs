//! ffmpeg and ffprobe (Debian's, installed by `scripts/setup.sh`) run as child processes: probe
//! an upload, cut it into an HLS ladder, take its poster frame. Each process dies with the
//! future that awaits it (`kill_on_drop`), so a stopped job leaves no encoder behind.

use serde::Deserialize;
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The renditions of the ladder, by height: each one the source reaches (the smallest always),
/// never upscaled. Bitrates suit phones on mobile data first.
const LADDER: [(u32, &str); 3] = [(360, "800k"), (720, "2500k"), (1080, "5000k")];
/// Segment length: short enough that a seek starts quickly, long enough that a lesson of an
/// hour stays under a thousand requests.
const SEGMENT_SECONDS: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum FfmpegError {
    #[error("cannot run {program}: {source} (is ffmpeg installed? scripts/setup.sh installs it)")]
    Spawn {
        program: &'static str,
        source: std::io::Error,
    },
    /// The tool ran and refused the input; its last words are kept for the log.
    #[error("{program} failed: {stderr}")]
    Failed {
        program: &'static str,
        stderr: String,
    },
    #[error("ffprobe's answer is not what was expected: {0}")]
    Answer(String),
}

/// What ffprobe says about an upload.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub duration_seconds: f64,
    /// The first picture stream's size; `None` for a file without one.
    pub picture: Option<(u32, u32)>,
    pub has_audio: bool,
}

#[derive(Deserialize)]
struct ProbeAnswer {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    #[serde(default)]
    disposition: ProbeDisposition,
}

#[derive(Deserialize, Default)]
struct ProbeDisposition {
    /// A cover picture in an audio file looks like a video stream of one frame.
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Deserialize)]
struct ProbeFormat {
    duration: Option<String>,
}

pub async fn probe(source: &Path) -> Result<Probe, FfmpegError> {
    let stdout = run(
        "ffprobe",
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
            ])
            .arg(source),
    )
    .await?;
    let answer: ProbeAnswer =
        serde_json::from_slice(&stdout).map_err(|err| FfmpegError::Answer(err.to_string()))?;
    let duration_seconds = answer
        .format
        .and_then(|f| f.duration)
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d > 0.0)
        .ok_or_else(|| FfmpegError::Answer("no duration".into()))?;
    let picture = answer
        .streams
        .iter()
        .filter(|s| s.codec_type.as_deref() == Some("video") && s.disposition.attached_pic == 0)
        .find_map(|s| Some((s.width?, s.height?)))
        .filter(|(w, h)| *w > 0 && *h > 0);
    let has_audio = answer
        .streams
        .iter()
        .any(|s| s.codec_type.as_deref() == Some("audio"));
    Ok(Probe {
        duration_seconds,
        picture,
        has_audio,
    })
}

/// The heights of the renditions a source of `height` gets.
pub fn ladder(height: u32) -> Vec<(u32, &'static str)> {
    let mut rungs: Vec<_> = LADDER
        .iter()
        .copied()
        .filter(|(h, _)| *h <= height)
        .collect();
    if rungs.is_empty() {
        // Smaller than the lowest rung: one rendition at its own size.
        rungs.push((height, LADDER[0].1));
    }
    rungs
}

/// Cuts `source` into `out/master.m3u8`, `out/v<n>/index.m3u8` and `out/v<n>/seg_<k>.ts`,
/// calling `on_progress` with the share done (0.0–1.0) as ffmpeg reports it.
pub async fn hls(
    source: &Path,
    probe: &Probe,
    out: &Path,
    mut on_progress: impl FnMut(f64),
) -> Result<(), FfmpegError> {
    let (_, height) = probe.picture.ok_or_else(|| FfmpegError::Failed {
        program: "ffmpeg",
        stderr: "no picture stream".into(),
    })?;
    let rungs = ladder(height);
    let split: Vec<String> = (0..rungs.len()).map(|i| format!("[s{i}]")).collect();
    let mut filter = format!("[0:v]split={}{}", rungs.len(), split.concat());
    for (i, (h, _)) in rungs.iter().enumerate() {
        // Even sizes: H.264 in 4:2:0 needs them.
        filter.push_str(&format!(";[s{i}]scale=-2:{}[v{i}]", h / 2 * 2));
    }
    let mut command = Command::new("ffmpeg");
    command
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(source)
        .args(["-filter_complex", &filter]);
    let mut stream_map = Vec::new();
    for (i, (_, bitrate)) in rungs.iter().enumerate() {
        command.args(["-map", &format!("[v{i}]")]);
        command.args([format!("-b:v:{i}"), bitrate.to_string()]);
        if probe.has_audio {
            command.args(["-map", "0:a:0"]);
            stream_map.push(format!("v:{i},a:{i}"));
        } else {
            stream_map.push(format!("v:{i}"));
        }
    }
    command
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-profile:v",
            "main",
        ])
        .args(["-pix_fmt", "yuv420p"])
        // A key frame at every segment boundary, whatever the frame rate: every rung cuts at
        // the same moments, so players switch between them cleanly.
        .args([
            "-force_key_frames",
            &format!("expr:gte(t,n_forced*{SEGMENT_SECONDS})"),
        ])
        .args(["-sc_threshold", "0"]);
    if probe.has_audio {
        command.args(["-c:a", "aac", "-b:a", "96k", "-ac", "2"]);
    }
    command
        .args(["-f", "hls", "-hls_time", &SEGMENT_SECONDS.to_string()])
        .args([
            "-hls_playlist_type",
            "vod",
            "-hls_flags",
            "independent_segments",
        ])
        .args(["-master_pl_name", "master.m3u8"])
        .arg("-hls_segment_filename")
        .arg(out.join("v%v/seg_%03d.ts"))
        .args(["-var_stream_map", &stream_map.join(" ")])
        .args(["-progress", "pipe:1", "-nostats"])
        .arg(out.join("v%v/index.m3u8"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|source| FfmpegError::Spawn {
        program: "ffmpeg",
        source,
    })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut stderr, &mut buf).await;
        buf
    });
    let total_us = probe.duration_seconds * 1_000_000.0;
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        // `out_time_us=12345678`, once per progress report (about every half second).
        if let Some(us) = line
            .strip_prefix("out_time_us=")
            .and_then(|v| v.parse::<f64>().ok())
        {
            on_progress((us / total_us).clamp(0.0, 1.0));
        }
    }
    let status = child.wait().await.map_err(|source| FfmpegError::Spawn {
        program: "ffmpeg",
        source,
    })?;
    let stderr = errors.await.unwrap_or_default();
    if !status.success() {
        return Err(FfmpegError::Failed {
            program: "ffmpeg",
            stderr: last_words(&stderr),
        });
    }
    Ok(())
}

/// One frame from `at_seconds` in, as a JPEG at most 720 pixels high.
pub async fn poster(source: &Path, at_seconds: f64, out: &Path) -> Result<(), FfmpegError> {
    run(
        "ffmpeg",
        Command::new("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
            .args(["-ss", &format!("{at_seconds:.3}"), "-i"])
            .arg(source)
            .args([
                "-frames:v",
                "1",
                "-vf",
                "scale=-2:'min(720,ih)'",
                "-q:v",
                "4",
            ])
            .arg(out),
    )
    .await?;
    if !out.exists() {
        return Err(FfmpegError::Failed {
            program: "ffmpeg",
            stderr: "no frame written".into(),
        });
    }
    Ok(())
}

/// An H.264/AAC MP4 of `seconds` from ffmpeg's own test sources (a moving test card and a
/// tone): the demo seed's lesson video, and the tests' uploads.
pub async fn test_card(seconds: u32, width: u32, height: u32) -> Result<Vec<u8>, FfmpegError> {
    let dir = tempfile::tempdir().map_err(|source| FfmpegError::Spawn {
        program: "ffmpeg",
        source,
    })?;
    let out = dir.path().join("test-card.mp4");
    run(
        "ffmpeg",
        Command::new("ffmpeg")
            .args([
                "-nostdin",
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
            ])
            .arg(format!(
                "testsrc2=size={width}x{height}:rate=24:duration={seconds}"
            ))
            .args(["-f", "lavfi", "-i"])
            .arg(format!("sine=frequency=330:duration={seconds}"))
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
            ])
            .args(["-c:a", "aac", "-b:a", "64k"])
            .arg(&out),
    )
    .await?;
    tokio::fs::read(&out)
        .await
        .map_err(|source| FfmpegError::Spawn {
            program: "ffmpeg",
            source,
        })
}

/// Runs a tool to its end and returns what it printed; a tool that says no is `Failed` with the
/// end of its complaint.
async fn run(program: &'static str, command: &mut Command) -> Result<Vec<u8>, FfmpegError> {
    let output = command
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|source| FfmpegError::Spawn { program, source })?;
    if !output.status.success() {
        return Err(FfmpegError::Failed {
            program,
            stderr: last_words(&output.stderr),
        });
    }
    Ok(output.stdout)
}

/// The end of a tool's complaint: enough for the log, bounded for a garbage input.
fn last_words(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    let start = text.char_indices().rev().nth(500).map_or(0, |(i, _)| i);
    text[start..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_never_upscales_and_always_has_a_rung() {
        let heights = |h| ladder(h).into_iter().map(|(h, _)| h).collect::<Vec<_>>();
        assert_eq!(heights(1080), vec![360, 720, 1080]);
        assert_eq!(heights(2160), vec![360, 720, 1080]);
        assert_eq!(heights(720), vec![360, 720]);
        assert_eq!(heights(480), vec![360]);
        assert_eq!(heights(180), vec![180]);
    }
}
