//! HTTP load from `wrk`, a separate process, and the figures read from its report.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub requests_per_sec: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub bytes_per_sec: f64,
    pub requests: u64,
    /// Non-2xx/3xx answers and socket errors: a run with any is not a measurement of success.
    pub errors: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WrkError {
    #[error("cannot run wrk (install it: apt-get install wrk, or run scripts/bench.sh): {0}")]
    Spawn(std::io::Error),
    #[error("wrk failed: {0}")]
    Failed(String),
    #[error("cannot read wrk's report ({0}):\n{1}")]
    Parse(&'static str, String),
}

pub struct Load<'a> {
    pub url: &'a str,
    pub connections: u32,
    pub duration: Duration,
    pub headers: &'a [(&'a str, &'a str)],
    /// A POST body (form-encoded), sent through a generated Lua script.
    pub post_form: Option<&'a str>,
}

pub fn run(load: &Load, scratch: &Path) -> Result<Report, WrkError> {
    let mut command = Command::new("wrk");
    command
        .arg("--latency")
        .arg("-t")
        .arg(load.connections.clamp(1, 2).to_string())
        .arg("-c")
        .arg(load.connections.to_string())
        .arg("-d")
        .arg(format!("{}s", load.duration.as_secs().max(1)))
        .arg("--timeout")
        .arg("10s");
    for (name, value) in load.headers {
        command.arg("-H").arg(format!("{name}: {value}"));
    }
    if let Some(body) = load.post_form {
        let script = scratch.join("post.lua");
        let lua = format!(
            "wrk.method = \"POST\"\nwrk.body = \"{}\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n",
            body.replace('\\', "\\\\").replace('"', "\\\"")
        );
        std::fs::write(&script, lua).map_err(WrkError::Spawn)?;
        command.arg("-s").arg(&script);
    }
    command.arg(load.url);
    let output = command.output().map_err(WrkError::Spawn)?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(WrkError::Failed(format!(
            "{text}{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    parse(&text)
}

fn parse(text: &str) -> Result<Report, WrkError> {
    let err = |what| WrkError::Parse(what, text.to_owned());
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix).map(str::trim))
    };
    let requests_per_sec = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| err("Requests/sec"))?;
    let bytes_per_sec = field("Transfer/sec:")
        .and_then(bytes)
        .ok_or_else(|| err("Transfer/sec"))?;
    let p50 = field("50%").and_then(latency).ok_or_else(|| err("50%"))?;
    let p99 = field("99%").and_then(latency).ok_or_else(|| err("99%"))?;
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .ok_or_else(|| err("requests"))?;
    let mut errors = field("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if let Some(socket) = field("Socket errors:") {
        // "connect 0, read 0, write 0, timeout 0"
        errors += socket
            .split(',')
            .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Ok(Report {
        requests_per_sec,
        p50,
        p99,
        bytes_per_sec,
        requests,
        errors,
    })
}

/// wrk's latencies: "812.00us", "5.12ms", "1.20s", "2.00m".
fn latency(v: &str) -> Option<Duration> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = v.split_at(split);
    let number: f64 = number.parse().ok()?;
    let secs = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

/// wrk's sizes are binary: "1.20GB" is 1.2 GiB.
fn bytes(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit {
        "" | "B" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(number * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let text = "Running 5s test @ http://127.0.0.1:3000/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    1.23ms  20.00ms   80.00%
    Req/Sec     6.25k   500.00     7.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    6.00ms
     90%    7.00ms
     99%    1.50s
  62500 requests in 5.00s, 3.00GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  12500.00
Transfer/sec:    600.00MB
";
        let r = parse(text).unwrap();
        assert_eq!(r.requests_per_sec, 12500.0);
        assert_eq!(r.p50, Duration::from_micros(812));
        assert_eq!(r.p99, Duration::from_millis(1500));
        assert_eq!(r.bytes_per_sec, 600.0 * 1024.0 * 1024.0);
        assert_eq!(r.requests, 62500);
        assert_eq!(r.errors, 8);
    }
}
