//! The processes the bench runs: the release server, nginx, and their resident memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("cannot start {what}: {source}")]
    Spawn {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} did not answer at {url} within 30 s (its log: {log})")]
    NotReady {
        what: String,
        url: String,
        log: String,
    },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// A child process that is killed when dropped, so a failed run leaves nothing behind.
pub struct Running {
    child: Child,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size in bytes, from /proc.
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The shop's release binary on `127.0.0.1:port` with its data in `data`, and none of the
/// settings of the shell the bench runs in (a `PUBLIC_URL` or `DEV_PREVIEW` there would change
/// what is measured); each run adds its own.
pub fn server_command(bin: &Path, port: u16, data: &Path) -> Command {
    let mut command = Command::new(bin);
    for var in [
        "DEV_PREVIEW",
        "SEED_DEMO",
        "PUBLIC_URL",
        "PORT",
        "DATABASE_URL",
        "ADMIN_IDS",
        "DEMO_REFUND",
        "THIRD_PARTY_BOT_ID",
        "RUST_LOG",
    ] {
        command.env_remove(var);
    }
    command
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("DATA_DIR", data);
    command
}

pub fn spawn(
    name: &str,
    mut command: Command,
    log: &Path,
    ready_url: &str,
) -> Result<Running, ProcError> {
    let log_file = std::fs::File::create(log)?;
    let child = command
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .spawn()
        .map_err(|source| ProcError::Spawn {
            what: name.to_owned(),
            source,
        })?;
    let running = Running { child };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !probe::get_ok(ready_url) {
        if Instant::now() > deadline {
            return Err(ProcError::NotReady {
                what: name.to_owned(),
                url: ready_url.to_owned(),
                log: log.display().to_string(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(running)
}

/// A tiny GET that needs no async runtime: true on any HTTP 2xx.
mod probe {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    pub fn get_ok(url: &str) -> bool {
        let Some(rest) = url.strip_prefix("http://") else {
            return false;
        };
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let Ok(mut stream) = TcpStream::connect(host) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 2")
    }
}

/// nginx serving `root` on `port`, configured like a plain static file server (sendfile on,
/// no access log), with every path it writes under `dir`.
pub fn nginx(dir: &Path, root: &Path, port: u16) -> Result<Running, ProcError> {
    std::fs::create_dir_all(dir.join("tmp"))?;
    let conf = dir.join("nginx.conf");
    let d = dir.display();
    // As root, nginx's workers would switch to `nobody`, who may not read the files.
    let user = if running_as_root() { "user root;" } else { "" };
    std::fs::write(
        &conf,
        format!(
            "{user}
worker_processes auto;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
",
            root = root.display()
        ),
    )?;
    let mut command = Command::new(nginx_binary());
    command.arg("-p").arg(dir).arg("-c").arg(&conf);
    spawn(
        "nginx",
        command,
        &dir.join("nginx.log"),
        &format!("http://127.0.0.1:{port}/ready"),
    )
}

pub fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nginx"))
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}
