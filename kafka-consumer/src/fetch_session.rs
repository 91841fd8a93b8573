//! The client's half of an incremental fetch session (KIP-227), as pure bookkeeping.
//!
//! A broker that keeps a session remembers which partitions a consumer fetches and at what
//! offsets, so that each Fetch names only what changed and each response carries only the
//! partitions that have something to say. The rules this module follows:
//!
//! * Session id 0 with epoch 0 asks for a new session (a *full* fetch naming every partition).
//!   A non-zero id with epoch 0 closes that session and asks for a new one. The broker answers
//!   with the new session's id, or 0 when it keeps no session for us (it may be out of slots,
//!   or too old): then every fetch stays full, which is correct, only bigger.
//! * In a session, epoch `n` (1, 2, ...) names the partitions that are new or whose fetch
//!   offset, maximum bytes or leader epoch changed since the last request, and lists under
//!   "forgotten topics" the ones no longer wanted. Partitions not named keep the parameters
//!   the broker remembers. After `i32::MAX` the epoch wraps to 1 (0 means "new session").
//! * A top-level FETCH_SESSION_ID_NOT_FOUND or INVALID_FETCH_SESSION_EPOCH (the broker evicted
//!   the session, or a response was lost) and any failed request start over with a full
//!   fetch. Because only one Fetch is ever in flight per broker, the request and its response
//!   cannot interleave with another one's, so the epoch sent is always the epoch expected.

use std::collections::BTreeMap;

use kafka_protocol::{ErrorCode, TopicName, Uuid};

/// One partition as a fetch asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FetchTarget {
    pub(crate) topic: TopicName,
    pub(crate) topic_id: Uuid,
    pub(crate) partition: i32,
    pub(crate) fetch_offset: i64,
    pub(crate) max_bytes: i32,
    /// The leader epoch the consumer believes current (-1 when unknown), so that a stale or
    /// newer leader answers FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH instead of data.
    pub(crate) current_leader_epoch: i32,
}

/// What to send in one Fetch: the session fields, the partitions to name and those to forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FetchPlan {
    pub(crate) session_id: i32,
    pub(crate) epoch: i32,
    /// Partitions named in the request.
    pub(crate) send: Vec<FetchTarget>,
    /// `(topic, topic id, partition)` the session drops.
    pub(crate) forget: Vec<(TopicName, Uuid, i32)>,
    /// Every partition the fetch covers once the broker applies it (named or remembered).
    pub(crate) wanted: Vec<FetchTarget>,
}

impl FetchPlan {
    /// Whether this fetch names every partition (no session, or a new one).
    pub(crate) fn is_full(&self) -> bool {
        self.epoch == 0
    }
}

/// The client's view of its fetch session with one broker.
#[derive(Debug, Default)]
pub(crate) struct FetchSession {
    id: i32,
    /// The epoch of the next request: 0 for a full fetch.
    epoch: i32,
    /// What the broker remembers, as of the last successful response.
    partitions: BTreeMap<(TopicName, i32), FetchTarget>,
}

impl FetchSession {
    /// The session id (0 when there is none).
    #[cfg(test)]
    pub(crate) fn id(&self) -> i32 {
        self.id
    }

    /// Plans the next Fetch for `wanted`.
    pub(crate) fn plan(&self, wanted: Vec<FetchTarget>) -> FetchPlan {
        if self.epoch == 0 {
            return FetchPlan {
                session_id: self.id,
                epoch: 0,
                send: wanted.clone(),
                forget: Vec::new(),
                wanted,
            };
        }
        let send = wanted
            .iter()
            .filter(|w| self.partitions.get(&(w.topic.clone(), w.partition)) != Some(w))
            .cloned()
            .collect();
        let forget = self
            .partitions
            .values()
            .filter(|s| {
                !wanted
                    .iter()
                    .any(|w| w.topic == s.topic && w.partition == s.partition)
            })
            .map(|s| (s.topic.clone(), s.topic_id, s.partition))
            .collect();
        FetchPlan {
            session_id: self.id,
            epoch: self.epoch,
            send,
            forget,
            wanted,
        }
    }

    /// Takes the broker's answer to `plan`: its top-level error and session id. Returns
    /// whether the response's partitions can be used.
    pub(crate) fn on_response(
        &mut self,
        plan: FetchPlan,
        error: ErrorCode,
        session_id: i32,
    ) -> bool {
        if error != ErrorCode::None {
            // FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, or anything else at the
            // top level: the broker's view is unknown, so the next fetch is full.
            self.restart();
            return false;
        }
        if plan.is_full() {
            self.id = session_id;
            self.epoch = if session_id == 0 { 0 } else { 1 };
        } else {
            self.epoch = if self.epoch == i32::MAX {
                1
            } else {
                self.epoch + 1
            };
        }
        self.partitions = plan
            .wanted
            .into_iter()
            .map(|t| ((t.topic.clone(), t.partition), t))
            .collect();
        true
    }

    /// The request failed (connection lost, timeout): the broker may or may not have applied
    /// it, so the next fetch closes the session and opens a new one.
    pub(crate) fn on_failure(&mut self) {
        self.restart();
    }

    fn restart(&mut self) {
        self.epoch = 0;
        self.partitions.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(partition: i32, offset: i64) -> FetchTarget {
        FetchTarget {
            topic: "t".into(),
            topic_id: Uuid::default(),
            partition,
            fetch_offset: offset,
            max_bytes: 1024,
            current_leader_epoch: 0,
        }
    }

    #[test]
    fn first_fetch_is_full_and_opens_a_session() {
        let mut s = FetchSession::default();
        let plan = s.plan(vec![target(0, 0), target(1, 0)]);
        assert!(plan.is_full());
        assert_eq!((plan.session_id, plan.send.len()), (0, 2));
        assert!(s.on_response(plan, ErrorCode::None, 77));
        assert_eq!(s.id(), 77);
        let next = s.plan(vec![target(0, 0), target(1, 0)]);
        assert_eq!((next.session_id, next.epoch), (77, 1));
        assert!(next.send.is_empty(), "nothing changed: {next:?}");
        assert!(next.forget.is_empty());
    }

    #[test]
    fn incremental_fetch_names_changes_and_forgets_what_is_gone() {
        let mut s = FetchSession::default();
        let plan = s.plan(vec![target(0, 0), target(1, 0), target(2, 0)]);
        s.on_response(plan, ErrorCode::None, 5);
        let plan = s.plan(vec![target(0, 10), target(1, 0), target(3, 0)]);
        assert_eq!(plan.send, vec![target(0, 10), target(3, 0)]);
        assert_eq!(plan.forget, vec![("t".into(), Uuid::default(), 2)]);
        assert!(s.on_response(plan, ErrorCode::None, 5));
        let plan = s.plan(vec![target(0, 10), target(1, 0), target(3, 0)]);
        assert_eq!(plan.epoch, 2);
        assert!(plan.send.is_empty() && plan.forget.is_empty());
    }

    #[test]
    fn session_errors_and_failures_fall_back_to_a_full_fetch() {
        for error in [
            ErrorCode::FetchSessionIdNotFound,
            ErrorCode::InvalidFetchSessionEpoch,
        ] {
            let mut s = FetchSession::default();
            let plan = s.plan(vec![target(0, 0)]);
            s.on_response(plan, ErrorCode::None, 9);
            let plan = s.plan(vec![target(0, 4)]);
            assert!(!s.on_response(plan, error, 0));
            let plan = s.plan(vec![target(0, 4)]);
            // Epoch 0 with the old id: close that session, open a new one.
            assert_eq!((plan.session_id, plan.epoch, plan.send.len()), (9, 0, 1));
        }
        let mut s = FetchSession::default();
        let plan = s.plan(vec![target(0, 0)]);
        s.on_response(plan, ErrorCode::None, 9);
        s.on_failure();
        assert!(s.plan(vec![target(0, 0)]).is_full());
    }

    #[test]
    fn a_broker_that_keeps_no_session_gets_full_fetches() {
        let mut s = FetchSession::default();
        for _ in 0..3 {
            let plan = s.plan(vec![target(0, 0)]);
            assert!(plan.is_full());
            assert_eq!(plan.session_id, 0);
            assert!(s.on_response(plan, ErrorCode::None, 0));
        }
    }

    #[test]
    fn epoch_wraps_to_one() {
        let mut s = FetchSession {
            id: 3,
            epoch: i32::MAX,
            partitions: BTreeMap::new(),
        };
        let plan = s.plan(vec![]);
        s.on_response(plan, ErrorCode::None, 3);
        assert_eq!(s.plan(vec![]).epoch, 1);
    }
}
