//! The broker's clock: one source for wall-clock milliseconds (record timestamps, log-append
//! time, producer and fetch-session expiry) and for the timers of the group coordinator.
//!
//! Wall time is derived from tokio's clock: `now_ms` is the wall time at the clock's creation
//! plus the tokio time elapsed since. Tests that pause tokio's time (`tokio::time::pause()`)
//! therefore move timestamps, retention and timeouts together when they advance it.

use tokio::time::Instant;

/// Wall-clock and monotonic time from one source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    origin_wall_ms: i64,
    origin: Instant,
}

impl Clock {
    /// A clock reading the system's wall time now.
    pub(crate) fn new() -> Clock {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Clock::starting_at(wall)
    }

    /// A clock whose wall time is `wall_ms` now (tests pick a round number).
    pub(crate) fn starting_at(wall_ms: i64) -> Clock {
        Clock {
            origin_wall_ms: wall_ms,
            origin: Instant::now(),
        }
    }

    /// Milliseconds since the Unix epoch, Kafka's timestamp unit.
    pub(crate) fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.origin.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.origin_wall_ms.saturating_add(elapsed)
    }

    /// Milliseconds since the clock was created, for timers that count from zero.
    pub(crate) fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The monotonic instant `ms` after the clock's creation.
    pub(crate) fn instant_at(&self, ms: u64) -> Instant {
        self.origin + std::time::Duration::from_millis(ms)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn wall_time_follows_paused_tokio_time() {
        let clock = Clock::starting_at(1_000_000);
        assert_eq!(clock.now_ms(), 1_000_000);
        tokio::time::advance(std::time::Duration::from_secs(3600)).await;
        assert_eq!(clock.now_ms(), 1_000_000 + 3_600_000);
        assert_eq!(clock.elapsed_ms(), 3_600_000);
    }
}
