//! Request metrics per broker and API, shared by every connection of a [`crate::Client`].

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use kafka_protocol::ApiKey;

/// Counters for one (broker address, API) pair.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiMetrics {
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed (connection, timeout, decode); broker error codes inside a
    /// response do not count, the response arrived.
    pub errors: u64,
    /// Request bytes written, size prefixes included.
    pub bytes_sent: u64,
    /// Response bytes read.
    pub bytes_received: u64,
    /// Total time from sending to the answer, for the mean.
    pub latency_total: Duration,
    /// The slowest answer.
    pub latency_max: Duration,
}

impl ApiMetrics {
    /// The mean time to an answer.
    pub fn mean_latency(&self) -> Duration {
        let answered = self.requests.saturating_sub(self.errors).max(1);
        self.latency_total / u32::try_from(answered).unwrap_or(u32::MAX)
    }
}

/// The client's request counters. One lock per request (never per record).
#[derive(Debug, Default)]
pub struct ClientMetrics {
    by_api: Mutex<BTreeMap<(String, ApiKey), ApiMetrics>>,
}

impl ClientMetrics {
    pub(crate) fn record(
        &self,
        addr: &str,
        api: ApiKey,
        sent: usize,
        outcome: Result<usize, ()>,
        latency: Duration,
    ) {
        let mut map = self
            .by_api
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let m = match map.get_mut(&(addr.to_string(), api)) {
            Some(m) => m,
            None => map.entry((addr.to_string(), api)).or_default(),
        };
        m.requests += 1;
        m.bytes_sent += sent as u64;
        match outcome {
            Ok(received) => {
                m.bytes_received += received as u64;
                m.latency_total += latency;
                m.latency_max = m.latency_max.max(latency);
            }
            Err(()) => m.errors += 1,
        }
    }

    /// A snapshot: ((broker address, API), counters), sorted.
    pub fn snapshot(&self) -> Vec<((String, ApiKey), ApiMetrics)> {
        self.by_api
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// Counters summed over brokers, for one API.
    pub fn for_api(&self, api: ApiKey) -> ApiMetrics {
        self.snapshot()
            .into_iter()
            .filter(|((_, a), _)| *a == api)
            .fold(ApiMetrics::default(), |mut acc, (_, m)| {
                acc.requests += m.requests;
                acc.errors += m.errors;
                acc.bytes_sent += m.bytes_sent;
                acc.bytes_received += m.bytes_received;
                acc.latency_total += m.latency_total;
                acc.latency_max = acc.latency_max.max(m.latency_max);
                acc
            })
    }
}
