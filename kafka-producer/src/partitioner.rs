//! Choosing a partition: Java's default partitioner, round-robin, or the caller's own.
//!
//! Keyed records go where the Java client sends them: `toPositive(murmur2(key)) %
//! partitions`, so that a topic written by Java and Rust producers keeps each key on one
//! partition. Records without a key use KIP-794's uniform sticky partitioning: all of them go to
//! one partition until about `batch.size` bytes have gone there, then a new partition is picked,
//! preferring partitions whose queues are shorter (so a slow broker gets less), which fills
//! batches instead of spreading a few records over every partition.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Kafka's murmur2 (the Java client's `Utils.murmur2`): 32-bit MurmurHash2 with seed
/// `0x9747b28c`, reading four bytes at a time little-endian.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    // Java's switch falls through from the highest remaining byte down.
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows on `i32::MIN`).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition Java's default partitioner gives `key` among `partitions` partitions.
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    if partitions <= 0 {
        return 0;
    }
    to_positive(murmur2(key)) % partitions
}

/// A caller-supplied way to choose partitions.
pub trait Partitioner: Send + Sync + fmt::Debug + 'static {
    /// The partition for a record with `key` (if any) on `topic`, which has `partitions`
    /// partitions. Out-of-range answers fail the record.
    fn partition(&self, topic: &str, key: Option<&[u8]>, partitions: i32) -> i32;
}

/// Round-robin over partitions, per topic, ignoring keys (`RoundRobinPartitioner` in Java).
#[derive(Debug, Default)]
pub struct RoundRobinPartitioner {
    counters: Mutex<HashMap<String, u32>>,
}

impl Partitioner for RoundRobinPartitioner {
    fn partition(&self, topic: &str, _key: Option<&[u8]>, partitions: i32) -> i32 {
        let mut counters = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = counters.entry(topic.to_string()).or_default();
        let p = *n % partitions.max(1) as u32;
        *n = n.wrapping_add(1);
        p as i32
    }
}

/// Which partitioner a producer uses.
#[derive(Debug, Clone, Default)]
pub enum PartitionerChoice {
    /// Java's default: murmur2 for keys, uniform sticky (KIP-794) without.
    #[default]
    Default,
    /// Round-robin over partitions.
    RoundRobin,
    /// The caller's partitioner.
    Custom(std::sync::Arc<dyn Partitioner>),
}

/// The sticky choice for keyless records of each topic (KIP-794).
#[derive(Debug, Default)]
pub(crate) struct StickyPartitions {
    by_topic: HashMap<String, Sticky>,
    seed: AtomicU32,
}

#[derive(Debug, Clone, Copy)]
struct Sticky {
    partition: i32,
    bytes: usize,
}

impl StickyPartitions {
    /// The partition for a keyless record of `size` bytes. `queued(p)` is the number of
    /// batches waiting for partition `p`, used to steer new choices away from slow partitions;
    /// `available` lists the partitions with a known leader (all if empty); it is called only
    /// when a new partition is chosen, about once per batch.
    pub(crate) fn partition(
        &mut self,
        topic: &str,
        partitions: i32,
        size: usize,
        batch_size: usize,
        available: impl FnOnce() -> Vec<i32>,
        queued: impl Fn(i32) -> usize,
    ) -> i32 {
        let current = self.by_topic.get(topic).copied();
        let need_new = match current {
            None => true,
            Some(s) => s.partition >= partitions || s.bytes >= batch_size,
        };
        let sticky = if need_new {
            let p = self.pick(
                partitions,
                &available(),
                &queued,
                current.map(|s| s.partition),
            );
            Sticky {
                partition: p,
                bytes: 0,
            }
        } else {
            current.unwrap_or(Sticky {
                partition: 0,
                bytes: 0,
            })
        };
        let updated = Sticky {
            partition: sticky.partition,
            bytes: sticky.bytes.saturating_add(size),
        };
        if let Some(s) = self.by_topic.get_mut(topic) {
            *s = updated;
        } else {
            self.by_topic.insert(topic.to_string(), updated);
        }
        updated.partition
    }

    /// A random partition, weighted towards short queues: weight = (longest queue + 1 -
    /// this queue), as KIP-794's adaptive partitioning does with queue sizes.
    fn pick(
        &self,
        partitions: i32,
        available: &[i32],
        queued: &impl Fn(i32) -> usize,
        previous: Option<i32>,
    ) -> i32 {
        let all: Vec<i32>;
        let candidates: &[i32] = if available.is_empty() {
            all = (0..partitions.max(1)).collect();
            &all
        } else {
            available
        };
        // Prefer a different partition than the one just filled, when there is a choice.
        let filtered: Vec<i32> = candidates
            .iter()
            .copied()
            .filter(|p| candidates.len() == 1 || Some(*p) != previous)
            .collect();
        let longest = filtered.iter().map(|p| queued(*p)).max().unwrap_or(0);
        let weights: Vec<usize> = filtered.iter().map(|p| longest + 1 - queued(*p)).collect();
        let total: usize = weights.iter().sum();
        let mut r = (self.next_random() as usize) % total.max(1);
        for (p, w) in filtered.iter().zip(&weights) {
            if r < *w {
                return *p;
            }
            r -= w;
        }
        filtered.first().copied().unwrap_or(0)
    }

    fn next_random(&self) -> u32 {
        // xorshift32 stepped atomically: contention is rare (one call per batch).
        let mut x = self.seed.load(Ordering::Relaxed);
        if x == 0 {
            x = 0x2545_f491 ^ (std::process::id() | 1);
        }
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.seed.store(x, Ordering::Relaxed);
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_javas_published_values() {
        // Values from the Java client's UtilsTest.testMurmur2.
        let cases: [(&[u8], i32); 3] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
        ];
        for (input, expected) in cases {
            assert_eq!(murmur2(input), expected, "{:?}", std::str::from_utf8(input));
        }
    }

    #[test]
    fn to_positive_clears_the_sign_bit() {
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(5), 5);
    }

    #[test]
    fn round_robin_cycles_per_topic() {
        let rr = RoundRobinPartitioner::default();
        let a: Vec<i32> = (0..5).map(|_| rr.partition("a", None, 3)).collect();
        assert_eq!(a, [0, 1, 2, 0, 1]);
        assert_eq!(rr.partition("b", None, 3), 0);
    }

    #[test]
    fn sticky_keeps_a_partition_for_a_batch_then_moves() {
        let mut s = StickyPartitions::default();
        let first = s.partition("t", 4, 100, 1000, Vec::new, |_| 0);
        for _ in 0..8 {
            assert_eq!(s.partition("t", 4, 100, 1000, Vec::new, |_| 0), first);
        }
        // 900 bytes so far, the next record fills it to 1000, after which it moves.
        assert_eq!(s.partition("t", 4, 100, 1000, Vec::new, |_| 0), first);
        let next = s.partition("t", 4, 100, 1000, Vec::new, |_| 0);
        assert_ne!(next, first);
    }

    #[test]
    fn sticky_avoids_long_queues_and_unavailable_partitions() {
        let mut s = StickyPartitions::default();
        let mut seen = [0usize; 4];
        for _ in 0..400 {
            // Partition 3 has no leader; partition 0 has a long queue.
            let p = s.partition(
                "t",
                4,
                2000,
                1000,
                || vec![0, 1, 2],
                |p| if p == 0 { 50 } else { 0 },
            );
            seen[p as usize] += 1;
        }
        assert_eq!(seen[3], 0);
        assert!(seen[0] < seen[1] / 5 && seen[0] < seen[2] / 5, "{seen:?}");
    }
}
