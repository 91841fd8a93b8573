//! Exponential backoff with jitter, as Kafka's `ExponentialBackoff`: the wait after `attempts`
//! failures is `initial * 2^attempts`, capped at `max`, then spread by ±20 % so that many clients
//! that failed together do not retry together.

use std::time::Duration;

/// The spread applied around each wait.
pub const JITTER: f64 = 0.2;

/// A backoff policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Backoff {
    /// Waits from `initial`, doubling, never beyond `max` (before jitter).
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
        }
    }

    /// The wait after `attempts` consecutive failures (0 for the first retry), with `unit` a
    /// random value in `[0, 1)` choosing where in the jitter band it falls.
    pub fn wait(&self, attempts: u32, unit: f64) -> Duration {
        let base = self.initial.as_secs_f64() * 2f64.powi(attempts.min(62) as i32);
        let capped = base.min(self.max.as_secs_f64());
        let factor = 1.0 - JITTER + 2.0 * JITTER * unit.clamp(0.0, 1.0);
        Duration::from_secs_f64((capped * factor).max(0.0))
    }
}

/// A random value in `[0, 1)` for [`Backoff::wait`], from a cheap thread-local generator (no
/// need for cryptographic quality; only that clients do not agree).
pub fn jitter_unit() -> f64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    STATE.with(|s| {
        // xorshift64*
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    })
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x9e37_79b9_7f4a_7c15);
    h.finish() | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps_within_the_jitter_band() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1_000));
        assert_eq!(b.wait(0, 0.5), Duration::from_millis(100));
        assert_eq!(b.wait(1, 0.5), Duration::from_millis(200));
        assert_eq!(b.wait(3, 0.5), Duration::from_millis(800));
        assert_eq!(b.wait(4, 0.5), Duration::from_millis(1_000));
        assert_eq!(b.wait(u32::MAX, 0.5), Duration::from_millis(1_000));
        assert_eq!(b.wait(0, 0.0), Duration::from_millis(80));
        assert!(b.wait(0, 0.999_999) <= Duration::from_millis(120));
    }

    #[test]
    fn jitter_units_stay_in_range_and_vary() {
        let v: Vec<f64> = (0..1000).map(|_| jitter_unit()).collect();
        assert!(v.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(v.iter().any(|x| *x < 0.5) && v.iter().any(|x| *x >= 0.5));
    }
}
