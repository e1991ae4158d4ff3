//! The hydration bundle's sizes: raw, and compressed the way browsers receive it.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[derive(Clone, Copy, Debug, Default)]
pub struct Sizes {
    pub raw: u64,
    pub gzip: Option<u64>,
    pub brotli: Option<u64>,
}

impl std::ops::Add for Sizes {
    type Output = Sizes;
    fn add(self, o: Sizes) -> Sizes {
        let both = |a: Option<u64>, b: Option<u64>| Some(a? + b?);
        Sizes {
            raw: self.raw + o.raw,
            gzip: both(self.gzip, o.gzip),
            brotli: both(self.brotli, o.brotli),
        }
    }
}

/// Sizes of one file; compressed sizes come from the `gzip -9` and `brotli -q 11` tools (None
/// when a tool is missing).
pub fn sizes(path: &Path) -> std::io::Result<Sizes> {
    let bytes = std::fs::read(path)?;
    Ok(Sizes {
        raw: bytes.len() as u64,
        gzip: compressed_len(&bytes, "gzip", &["-9", "-c"]),
        brotli: compressed_len(&bytes, "brotli", &["-q", "11", "-c"]),
    })
}

fn compressed_len(bytes: &[u8], tool: &str, args: &[&str]) -> Option<u64> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    output
        .status
        .success()
        .then_some(output.stdout.len() as u64)
}
