//! Which server process this is. Several replicas may share one database; each names itself in
//! the claims (leases) it takes and in its logs, so a stuck lease points at the process holding it.

use std::sync::OnceLock;

static ID: OnceLock<String> = OnceLock::new();

/// Fixes this process's replica id (`REPLICA_ID`, else host name and pid). The first call wins;
/// later ones (tests serving several shops in one process) keep it.
pub fn init(configured: Option<&str>) -> &'static str {
    ID.get_or_init(|| configured.map_or_else(default_id, str::to_owned))
}

/// This process's replica id.
pub fn id() -> &'static str {
    init(None)
}

/// Host name and pid: unique among replicas on one machine and across machines, and readable.
fn default_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}-{}", std::process::id())
}

/// `REPLICA_ID` may be at most 64 characters of `A-Z a-z 0-9 . _ -`: it goes into claim tokens
/// and log lines.
pub fn is_valid(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_names_host_and_process() {
        let id = default_id();
        assert!(id.ends_with(&format!("-{}", std::process::id())), "{id}");
    }

    #[test]
    fn ids_are_short_plain_text() {
        assert!(is_valid("web-1.eu_west"));
        assert!(!is_valid(""));
        assert!(!is_valid("has space"));
        assert!(!is_valid(&"x".repeat(65)));
    }
}
