//! [`ConsumerMetrics`]: what the consumer counted, for dashboards and tests.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::record::TopicPartition;

/// A snapshot of the consumer's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerMetrics {
    /// Records handed out by `poll`.
    pub records_consumed: u64,
    /// Bytes of record data fetched (response record sets, as on the wire).
    pub bytes_fetched: u64,
    /// Fetch requests answered.
    pub fetches: u64,
    /// Their total round-trip time.
    pub fetch_latency_total: Duration,
    /// The slowest one.
    pub fetch_latency_max: Duration,
    /// Rebalances this member completed (joins that returned an assignment).
    pub rebalances: u64,
    /// Commits answered (successful or not) and failed.
    pub commits: u64,
    /// Commits that failed.
    pub commits_failed: u64,
    /// Their total round-trip time.
    pub commit_latency_total: Duration,
    /// Records behind the end, per assigned partition, as of its last fetch.
    pub lag: BTreeMap<TopicPartition, i64>,
}

impl ConsumerMetrics {
    /// Average fetch round trip.
    pub fn fetch_latency_avg(&self) -> Option<Duration> {
        let n = u32::try_from(self.fetches).ok().filter(|n| *n > 0)?;
        Some(self.fetch_latency_total / n)
    }
}

/// The counters as the consumer updates them.
#[derive(Debug, Default)]
pub(crate) struct MetricsRecorder {
    m: ConsumerMetrics,
}

impl MetricsRecorder {
    pub(crate) fn fetched(&mut self, latency: Duration, bytes: usize) {
        self.m.fetches += 1;
        self.m.fetch_latency_total += latency;
        self.m.fetch_latency_max = self.m.fetch_latency_max.max(latency);
        self.m.bytes_fetched += bytes as u64;
    }

    pub(crate) fn consumed(&mut self, records: usize) {
        self.m.records_consumed += records as u64;
    }

    pub(crate) fn rebalanced(&mut self) {
        self.m.rebalances += 1;
    }

    pub(crate) fn commit(&mut self, latency: Duration, ok: bool) {
        self.m.commits += 1;
        self.m.commits_failed += u64::from(!ok);
        self.m.commit_latency_total += latency;
    }

    pub(crate) fn snapshot(&self, lag: BTreeMap<TopicPartition, i64>) -> ConsumerMetrics {
        ConsumerMetrics {
            lag,
            ..self.m.clone()
        }
    }
}
