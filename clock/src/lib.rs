//! The shop's notion of now for memberships: the system clock plus an offset that only the dev
//! preview's emulator (and the tests through it) ever moves, so "a month later" can be played
//! without waiting a month. Shared by the shop and its in-process emulator, one per `prepare`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The system's now in Unix seconds (0 before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Unix seconds.
    pub fn now(&self) -> i64 {
        unix_now().saturating_add(self.offset.load(Ordering::Relaxed))
    }

    /// Moves now forward by `secs` for everyone holding this clock.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs.max(0), Ordering::Relaxed);
    }

    /// How far this clock runs ahead of the system's.
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_advance() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = clock.now();
        other.advance(2_592_000);
        assert!(clock.now() >= before + 2_592_000);
        assert_eq!(clock.offset(), 2_592_000);
        Clock::default().advance(-5);
        assert_eq!(Clock::default().offset(), 0);
    }
}
