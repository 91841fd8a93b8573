//! Fault injection and the request log.
//!
//! A [`Fault`] matches requests by API key and (optionally) broker and applies an action to the
//! next N of them: answer with an error code, delay the response, or drop the connection before
//! or after the request takes effect. Faults are consulted in the order they were injected; the
//! first that matches a request is applied (and its count decremented).

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::sync::lock;
use std::time::Duration;

use kafka_protocol::{ApiKey, ErrorCode};

/// What a fault does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Do not apply the request; answer it with this error code in every error field.
    Fail(ErrorCode),
    /// Apply the request, then wait this long before sending the response.
    Delay(Duration),
    /// Close the connection without applying the request: the client sees a network error and
    /// can safely retry.
    DropBeforeApply,
    /// Apply the request, then close the connection without answering: the client sees a network
    /// error although the request took effect (the case idempotent producers exist for).
    DropAfterApply,
}

/// A fault to inject with [`crate::Cluster::inject`].
///
/// ```
/// use std::time::Duration;
/// use kafka_broker::Fault;
/// use kafka_protocol::{ApiKey, ErrorCode};
///
/// // The next two Produce requests to broker 1 fail with NOT_LEADER_OR_FOLLOWER.
/// let fail = Fault::fail(ErrorCode::NotLeaderOrFollower).with_api(ApiKey::Produce).with_broker(1).with_times(2);
/// // Every Fetch response is delayed by 50 ms until the fault is cleared.
/// let slow = Fault::delay(Duration::from_millis(50)).with_api(ApiKey::Fetch).with_no_limit();
/// assert_eq!(fail.remaining(), Some(2));
/// assert_eq!(slow.remaining(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    api_key: Option<ApiKey>,
    broker: Option<i32>,
    remaining: Option<u32>,
    action: FaultAction,
}

impl Fault {
    /// A fault with this action, matching any API on any broker, once.
    pub fn new(action: FaultAction) -> Self {
        Fault {
            api_key: None,
            broker: None,
            remaining: Some(1),
            action,
        }
    }

    /// Answer matching requests with `code` instead of applying them.
    pub fn fail(code: ErrorCode) -> Self {
        Self::new(FaultAction::Fail(code))
    }

    /// Delay the responses of matching requests.
    pub fn delay(delay: Duration) -> Self {
        Self::new(FaultAction::Delay(delay))
    }

    /// Close the connection instead of applying matching requests.
    pub fn drop_before_apply() -> Self {
        Self::new(FaultAction::DropBeforeApply)
    }

    /// Apply matching requests, then close the connection instead of answering.
    pub fn drop_after_apply() -> Self {
        Self::new(FaultAction::DropAfterApply)
    }

    /// Only requests of this API.
    pub fn with_api(mut self, api_key: ApiKey) -> Self {
        self.api_key = Some(api_key);
        self
    }

    /// Only requests received by this broker.
    pub fn with_broker(mut self, broker_id: i32) -> Self {
        self.broker = Some(broker_id);
        self
    }

    /// Apply to the next `n` matching requests (1 by default).
    pub fn with_times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    /// Apply to every matching request until [`crate::Cluster::clear_faults`].
    pub fn with_no_limit(mut self) -> Self {
        self.remaining = None;
        self
    }

    /// How many more requests the fault applies to (`None`: unlimited).
    pub fn remaining(&self) -> Option<u32> {
        self.remaining
    }

    /// The action.
    pub fn action(&self) -> FaultAction {
        self.action
    }

    fn matches(&self, api_key: ApiKey, broker: i32) -> bool {
        self.api_key.is_none_or(|k| k == api_key) && self.broker.is_none_or(|b| b == broker)
    }
}

/// One received request, as recorded in the request log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestLogEntry {
    /// The broker that received it.
    pub broker_id: i32,
    /// The API key.
    pub api_key: i16,
    /// The API version.
    pub api_version: i16,
    /// The client id from the request header.
    pub client_id: Option<String>,
    /// The correlation id from the request header.
    pub correlation_id: i32,
}

/// The most entries the request log keeps; older ones are discarded so a long run does not
/// grow without bound.
pub const REQUEST_LOG_CAPACITY: usize = 100_000;

/// Faults and the request log of a cluster.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    faults: Mutex<Vec<Fault>>,
    log: Mutex<VecDeque<RequestLogEntry>>,
}

impl Faults {
    pub fn inject(&self, fault: Fault) {
        if fault.remaining == Some(0) {
            return;
        }
        lock(&self.faults).push(fault);
    }

    pub fn clear(&self) {
        lock(&self.faults).clear();
    }

    /// The action for a request, consuming one use of the first matching fault.
    pub fn take(&self, api_key: ApiKey, broker: i32) -> Option<FaultAction> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(|f| f.matches(api_key, broker))?;
        let fault = faults.get_mut(index)?;
        let action = fault.action;
        if let Some(n) = fault.remaining.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                faults.remove(index);
            }
        }
        Some(action)
    }

    pub fn record(&self, entry: RequestLogEntry) {
        let mut log = lock(&self.log);
        if log.len() >= REQUEST_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }

    pub fn log(&self) -> Vec<RequestLogEntry> {
        lock(&self.log).iter().cloned().collect()
    }

    pub fn clear_log(&self) {
        lock(&self.log).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_and_matches_api_and_broker() {
        let faults = Faults::default();
        faults.inject(
            Fault::fail(ErrorCode::RequestTimedOut)
                .with_api(ApiKey::Produce)
                .with_broker(1)
                .with_times(2),
        );
        assert_eq!(faults.take(ApiKey::Fetch, 1), None);
        assert_eq!(faults.take(ApiKey::Produce, 0), None);
        let expected = Some(FaultAction::Fail(ErrorCode::RequestTimedOut));
        assert_eq!(faults.take(ApiKey::Produce, 1), expected);
        assert_eq!(faults.take(ApiKey::Produce, 1), expected);
        assert_eq!(faults.take(ApiKey::Produce, 1), None);
    }

    #[test]
    fn forever_lasts_until_cleared() {
        let faults = Faults::default();
        faults.inject(Fault::drop_before_apply().with_no_limit());
        for _ in 0..10 {
            assert_eq!(
                faults.take(ApiKey::Metadata, 0),
                Some(FaultAction::DropBeforeApply)
            );
        }
        faults.clear();
        assert_eq!(faults.take(ApiKey::Metadata, 0), None);
    }
}
