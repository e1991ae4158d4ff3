//! Hostile input: the unauthenticated `Authorization: tma k1=&k2=&…` header with 60,000 distinct
//! keys (about 470 KB) that once took tens of seconds each to refuse and stalled `/healthz`.
//! Measured over raw TCP, because the server may answer and close before the client has sent
//! the whole header (which is the point).

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Hostile requests kept running at once while `/healthz` is timed.
pub const CONCURRENT: usize = 64;
pub const KEYS: usize = 60_000;

pub struct Report {
    /// The status line's code of every refusal, `None` when the server closed the connection
    /// before a status could be read (it stops reading an oversized head and closes, and the
    /// kernel may reset the connection before the client reads the 431).
    pub statuses: Vec<Option<u16>>,
    /// Time from the first byte sent to the status line, one hostile request alone.
    pub alone: Vec<Duration>,
    /// `/healthz` answers while `CONCURRENT` hostile requests run.
    pub healthz: Vec<Duration>,
    pub healthz_failures: usize,
    /// Hostile requests completed during that time.
    pub hostile_done: usize,
}

fn hostile_request() -> Vec<u8> {
    let keys: Vec<String> = (1..=KEYS).map(|i| format!("k{i}=")).collect();
    format!(
        "GET /api/me HTTP/1.1\r\nHost: bench\r\nAuthorization: tma {}\r\nConnection: close\r\n\r\n",
        keys.join("&")
    )
    .into_bytes()
}

/// Sends one hostile request; returns its status code (if one could be read) and the time until
/// the status line or the close.
async fn one(addr: SocketAddr, request: &'static [u8]) -> Option<(Option<u16>, Duration)> {
    let started = Instant::now();
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut read, mut write) = stream.into_split();
    // The server may refuse after the first 64 KiB and close: a failed write is expected.
    let writer = tokio::spawn(async move {
        let _ = write.write_all(request).await;
        write
    });
    let mut head = [0u8; 12];
    let got = tokio::time::timeout(Duration::from_secs(60), read.read_exact(&mut head)).await;
    let elapsed = started.elapsed();
    writer.abort();
    let status = match got.ok()? {
        Ok(_) => std::str::from_utf8(&head[9..12]).ok()?.parse().ok(),
        Err(_) => None,
    };
    Some((status, elapsed))
}

pub async fn run(addr: SocketAddr, secs: u64) -> Report {
    let request: &'static [u8] = Vec::leak(hostile_request());
    let mut report = Report {
        statuses: Vec::new(),
        alone: Vec::new(),
        healthz: Vec::new(),
        healthz_failures: 0,
        hostile_done: 0,
    };
    for _ in 0..50 {
        if let Some((status, took)) = one(addr, request).await {
            report.statuses.push(status);
            report.alone.push(took);
        }
    }

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attackers: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut done = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if one(addr, request).await.is_some() {
                        done += 1;
                    }
                }
                done
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/healthz");
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        let started = Instant::now();
        match http.get(&url).timeout(Duration::from_secs(10)).send().await {
            Ok(res) if res.status().is_success() => report.healthz.push(started.elapsed()),
            _ => report.healthz_failures += 1,
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for attacker in attackers {
        report.hostile_done += attacker.await.unwrap_or(0);
    }
    report
}

/// The `p`-th percentile (0–100) of `samples`.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
