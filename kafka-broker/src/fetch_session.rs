//! Incremental fetch sessions (KIP-227): the state a broker keeps so that a consumer (or a
//! follower) need not resend every partition in every Fetch, and gets back only the partitions
//! that changed.
//!
//! A Fetch names a session id and an epoch:
//!
//! * epoch `-1` (FINAL): a full, sessionless fetch; a non-zero session id closes that session.
//! * epoch `0` (INITIAL): a full fetch asking for a new session; the broker creates one if its
//!   cache has room (or can evict), and answers its id, else `0` (the client stays sessionless).
//!   A non-zero session id in such a request is closed first.
//! * epoch `n > 0` with the session's id: an incremental fetch. It names only the partitions that
//!   were added or whose fetch position changed, and lists the ones to forget; the answer holds
//!   only partitions with news: records, a new high watermark, last stable offset or log start
//!   offset, or an error. Each such request moves the session to epoch `n + 1`. A session that
//!   an incremental fetch leaves with no partitions is closed.
//!
//! Errors are top-level: an unknown session id is FETCH_SESSION_ID_NOT_FOUND, a wrong epoch
//! INVALID_FETCH_SESSION_EPOCH, a session switching between topic names and topic ids
//! FETCH_SESSION_TOPIC_ID_ERROR. The client then starts over with a full fetch.
//!
//! The cache holds at most `max_slots` sessions (Kafka's
//! `max.incremental.fetch.session.cache.slots`, 1000). When it is full, a new session may evict
//! the least recently used session if that one was idle longer than `eviction_ms`
//! (`min.incremental.fetch.session.eviction.ms`, two minutes), or else the smallest session of a
//! consumer if the new session has more partitions; a follower's session may evict any
//! consumer's. Otherwise the new session is not created.
//!
//! This module is bookkeeping only: the Fetch handler reads the partitions and reports what it
//! saw; time is passed in, so tests drive it without a clock.

use std::collections::HashMap;

use kafka_protocol::ErrorCode;
use kafka_protocol::Uuid;

/// Kafka's default `max.incremental.fetch.session.cache.slots`.
pub(crate) const DEFAULT_MAX_SLOTS: usize = 1000;
/// Kafka's default `min.incremental.fetch.session.eviction.ms`.
pub(crate) const DEFAULT_EVICTION_MS: i64 = 120_000;

/// The epoch of a sessionless fetch, or of a request closing its session.
pub(crate) const FINAL_EPOCH: i32 = -1;
/// The epoch of a full fetch asking for a new session.
pub(crate) const INITIAL_EPOCH: i32 = 0;

/// How a session names its topics: by name (Fetch v7-v12) or by id (v13+, KIP-516).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum TopicKey {
    Name(String),
    Id(Uuid),
}

/// One partition as a Fetch asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionFetch {
    pub fetch_offset: i64,
    pub partition_max_bytes: i32,
    pub current_leader_epoch: i32,
    pub log_start_offset: i64,
}

/// What a read of one partition showed, as the handler reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionSeen {
    pub error: ErrorCode,
    pub high_watermark: i64,
    pub last_stable_offset: i64,
    pub log_start_offset: i64,
    pub record_bytes: usize,
}

/// A session's partition: the client's latest request and what the client last heard.
#[derive(Debug, Clone)]
struct CachedPartition {
    topic: TopicKey,
    partition: i32,
    fetch: PartitionFetch,
    /// `None` until the client has been sent a response for the partition.
    sent: Option<(i64, i64, i64)>,
}

#[derive(Debug, Clone)]
struct FetchSession {
    /// The epoch the next incremental request must carry.
    epoch: i32,
    uses_topic_ids: bool,
    privileged: bool,
    last_used_ms: i64,
    /// In fetch order; partitions that return records move to the back, so a fetch's byte
    /// budget goes round the partitions rather than to the first ones every time.
    partitions: Vec<CachedPartition>,
}

/// What to fetch for one request, as decided from its session fields.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FetchContext {
    /// A full fetch of the request's partitions, with no session.
    Sessionless,
    /// A full fetch that should leave a new session behind (see
    /// [`FetchSessionCache::create_session`]).
    FullNewSession,
    /// An incremental fetch of the session's partitions.
    Incremental {
        session_id: i32,
        partitions: Vec<(TopicKey, i32, PartitionFetch)>,
    },
    /// A session error, answered at the top level with no partitions.
    Error(ErrorCode),
}

/// Epoch arithmetic of KIP-227: epochs count up from 1 and wrap to 1 after `i32::MAX`.
fn next_epoch(epoch: i32) -> i32 {
    if epoch == i32::MAX {
        1
    } else {
        epoch + 1
    }
}

/// The fetch sessions of one broker.
#[derive(Debug)]
pub(crate) struct FetchSessionCache {
    max_slots: usize,
    eviction_ms: i64,
    sessions: HashMap<i32, FetchSession>,
    /// State of the session id generator (xorshift); ids are positive and never repeat while
    /// in use.
    seed: u64,
}

impl Default for FetchSessionCache {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_SLOTS, DEFAULT_EVICTION_MS)
    }
}

impl FetchSessionCache {
    /// A cache of at most `max_slots` sessions, evicting idle ones after `eviction_ms`.
    pub(crate) fn new(max_slots: usize, eviction_ms: i64) -> Self {
        let seed = std::collections::hash_map::RandomState::new();
        let seed = std::hash::BuildHasher::hash_one(&seed, 0x6b61_666b_u64) | 1;
        FetchSessionCache {
            max_slots,
            eviction_ms,
            sessions: HashMap::new(),
            seed,
        }
    }

    /// Number of sessions held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Decides how to serve a Fetch with `session_id` and `epoch`, updating the session of an
    /// incremental request with its `partitions` (added or changed) and `forgotten` ones.
    pub(crate) fn new_context(
        &mut self,
        session_id: i32,
        epoch: i32,
        uses_topic_ids: bool,
        partitions: &[(TopicKey, i32, PartitionFetch)],
        forgotten: &[(TopicKey, i32)],
        now_ms: i64,
    ) -> FetchContext {
        if epoch == FINAL_EPOCH || epoch == INITIAL_EPOCH {
            if session_id != 0 {
                self.sessions.remove(&session_id);
            }
            return if epoch == FINAL_EPOCH {
                FetchContext::Sessionless
            } else {
                FetchContext::FullNewSession
            };
        }
        if epoch < FINAL_EPOCH {
            return FetchContext::Error(ErrorCode::InvalidFetchSessionEpoch);
        }
        let Some(session) = self.sessions.get_mut(&session_id) else {
            return FetchContext::Error(ErrorCode::FetchSessionIdNotFound);
        };
        if session.epoch != epoch {
            return FetchContext::Error(ErrorCode::InvalidFetchSessionEpoch);
        }
        if session.uses_topic_ids != uses_topic_ids {
            return FetchContext::Error(ErrorCode::FetchSessionTopicIdError);
        }
        for (topic, partition) in forgotten {
            session
                .partitions
                .retain(|p| !(p.topic == *topic && p.partition == *partition));
        }
        for (topic, partition, fetch) in partitions {
            match session
                .partitions
                .iter_mut()
                .find(|p| p.topic == *topic && p.partition == *partition)
            {
                Some(existing) => existing.fetch = *fetch,
                None => session.partitions.push(CachedPartition {
                    topic: topic.clone(),
                    partition: *partition,
                    fetch: *fetch,
                    sent: None,
                }),
            }
        }
        if session.partitions.is_empty() {
            // A session left with no partitions is closed, as Kafka does: the client learns it
            // from the answer's session id 0 and starts over with a full fetch.
            self.sessions.remove(&session_id);
            return FetchContext::Sessionless;
        }
        session.epoch = next_epoch(session.epoch);
        session.last_used_ms = now_ms;
        FetchContext::Incremental {
            session_id,
            partitions: session
                .partitions
                .iter()
                .map(|p| (p.topic.clone(), p.partition, p.fetch))
                .collect(),
        }
    }

    /// After a full fetch that asked for a session: creates one holding `partitions` (with what
    /// their responses showed) if there is room, and returns its id, or `0` when the cache
    /// declined.
    pub(crate) fn create_session(
        &mut self,
        uses_topic_ids: bool,
        privileged: bool,
        partitions: Vec<(TopicKey, i32, PartitionFetch, PartitionSeen)>,
        now_ms: i64,
    ) -> i32 {
        let size = partitions.len();
        if self.sessions.len() >= self.max_slots && !self.try_evict(privileged, size, now_ms) {
            return 0;
        }
        let id = self.new_id();
        self.sessions.insert(
            id,
            FetchSession {
                epoch: 1,
                uses_topic_ids,
                privileged,
                last_used_ms: now_ms,
                partitions: partitions
                    .into_iter()
                    .map(|(topic, partition, fetch, seen)| CachedPartition {
                        topic,
                        partition,
                        fetch,
                        sent: Some((
                            seen.high_watermark,
                            seen.last_stable_offset,
                            seen.log_start_offset,
                        )),
                    })
                    .collect(),
            },
        );
        id
    }

    /// For an incremental fetch: whether the response must carry this partition, given what
    /// the read showed; remembers what is sent. Records, an error, or a change of high watermark,
    /// last stable offset or log start offset since the last response make it news.
    pub(crate) fn must_respond(
        &mut self,
        session_id: i32,
        topic: &TopicKey,
        partition: i32,
        seen: &PartitionSeen,
    ) -> bool {
        let Some(session) = self.sessions.get_mut(&session_id) else {
            return true;
        };
        let Some(index) = session
            .partitions
            .iter()
            .position(|p| p.topic == *topic && p.partition == partition)
        else {
            return true;
        };
        let now = (
            seen.high_watermark,
            seen.last_stable_offset,
            seen.log_start_offset,
        );
        let cached = &mut session.partitions[index];
        let respond = seen.record_bytes > 0 || seen.error.is_error() || cached.sent != Some(now);
        if respond {
            cached.sent = Some(now);
        }
        if seen.record_bytes > 0 {
            let moved = session.partitions.remove(index);
            session.partitions.push(moved);
        }
        respond
    }

    /// Forgets every session (the broker stopped).
    pub(crate) fn clear(&mut self) {
        self.sessions.clear();
    }

    fn try_evict(&mut self, privileged: bool, size: usize, now_ms: i64) -> bool {
        // 1. The least recently used session, if it has been idle long enough.
        let stale = self
            .sessions
            .iter()
            .min_by_key(|(id, s)| (s.last_used_ms, **id))
            .filter(|(_, s)| now_ms.saturating_sub(s.last_used_ms) > self.eviction_ms)
            .map(|(id, _)| *id);
        if let Some(id) = stale {
            self.sessions.remove(&id);
            return true;
        }
        // 2. Else the smallest consumer session, which a follower may always evict and a
        //    consumer only when its own session would be larger.
        let smallest = self
            .sessions
            .iter()
            .filter(|(_, s)| !s.privileged)
            .min_by_key(|(id, s)| (s.partitions.len(), s.last_used_ms, **id))
            .map(|(id, s)| (*id, s.partitions.len()));
        match smallest {
            Some((id, smaller)) if privileged || smaller < size => {
                self.sessions.remove(&id);
                true
            }
            _ => false,
        }
    }

    fn new_id(&mut self) -> i32 {
        loop {
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            let id = i32::try_from(self.seed & 0x7fff_ffff).unwrap_or(1);
            if id != 0 && !self.sessions.contains_key(&id) {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> TopicKey {
        TopicKey::Name(name.into())
    }

    fn at(offset: i64) -> PartitionFetch {
        PartitionFetch {
            fetch_offset: offset,
            partition_max_bytes: 1 << 20,
            current_leader_epoch: -1,
            log_start_offset: -1,
        }
    }

    fn seen(hw: i64, bytes: usize) -> PartitionSeen {
        PartitionSeen {
            error: ErrorCode::None,
            high_watermark: hw,
            last_stable_offset: hw,
            log_start_offset: 0,
            record_bytes: bytes,
        }
    }

    fn session_with(cache: &mut FetchSessionCache, partitions: &[(&str, i32)], now: i64) -> i32 {
        cache.create_session(
            false,
            false,
            partitions
                .iter()
                .map(|(t, p)| (key(t), *p, at(0), seen(0, 0)))
                .collect(),
            now,
        )
    }

    #[test]
    fn epochs_walk_and_errors_are_top_level() {
        let mut cache = FetchSessionCache::default();
        assert_eq!(
            cache.new_context(0, INITIAL_EPOCH, false, &[], &[], 0),
            FetchContext::FullNewSession
        );
        let id = session_with(&mut cache, &[("t", 0)], 0);
        assert_ne!(id, 0);
        assert!(matches!(
            cache.new_context(id, 1, false, &[], &[], 1),
            FetchContext::Incremental { .. }
        ));
        // Epoch 1 was used: the next request must say 2.
        assert_eq!(
            cache.new_context(id, 1, false, &[], &[], 2),
            FetchContext::Error(ErrorCode::InvalidFetchSessionEpoch)
        );
        assert_eq!(
            cache.new_context(id, 2, true, &[], &[], 2),
            FetchContext::Error(ErrorCode::FetchSessionTopicIdError)
        );
        assert_eq!(
            cache.new_context(id + 1, 2, false, &[], &[], 2),
            FetchContext::Error(ErrorCode::FetchSessionIdNotFound)
        );
        // An incremental fetch forgetting its last partition closes the session.
        let other = session_with(&mut cache, &[("t", 0)], 0);
        assert_eq!(
            cache.new_context(other, 1, false, &[], &[(key("t"), 0)], 1),
            FetchContext::Sessionless
        );
        assert_eq!(cache.len(), 1);
        // FINAL closes it.
        assert_eq!(
            cache.new_context(id, FINAL_EPOCH, false, &[], &[], 3),
            FetchContext::Sessionless
        );
        assert_eq!(cache.len(), 0);
        assert_eq!(next_epoch(i32::MAX), 1);
    }

    #[test]
    fn incremental_requests_add_update_and_forget_partitions() {
        let mut cache = FetchSessionCache::default();
        let id = session_with(&mut cache, &[("t", 0), ("t", 1)], 0);
        let ctx = cache.new_context(id, 1, false, &[(key("u"), 0, at(5))], &[(key("t"), 1)], 1);
        let FetchContext::Incremental { partitions, .. } = ctx else {
            panic!("{ctx:?}")
        };
        let names: Vec<(TopicKey, i32, i64)> = partitions
            .into_iter()
            .map(|(t, p, f)| (t, p, f.fetch_offset))
            .collect();
        assert_eq!(names, vec![(key("t"), 0, 0), (key("u"), 0, 5)]);
    }

    #[test]
    fn only_partitions_with_news_are_answered() {
        let mut cache = FetchSessionCache::default();
        let id = session_with(&mut cache, &[("t", 0)], 0);
        // Same high watermark, no records: nothing to say.
        assert!(!cache.must_respond(id, &key("t"), 0, &seen(0, 0)));
        // Records arrived.
        assert!(cache.must_respond(id, &key("t"), 0, &seen(3, 100)));
        // Nothing new since.
        assert!(!cache.must_respond(id, &key("t"), 0, &seen(3, 0)));
        // The high watermark moved (another reader's concern, still news).
        assert!(cache.must_respond(id, &key("t"), 0, &seen(4, 0)));
        let error = PartitionSeen {
            error: ErrorCode::NotLeaderOrFollower,
            ..seen(4, 0)
        };
        assert!(cache.must_respond(id, &key("t"), 0, &error));
    }

    #[test]
    fn partitions_with_records_move_to_the_back() {
        let mut cache = FetchSessionCache::default();
        let id = session_with(&mut cache, &[("t", 0), ("t", 1), ("t", 2)], 0);
        cache.must_respond(id, &key("t"), 0, &seen(1, 10));
        let FetchContext::Incremental { partitions, .. } =
            cache.new_context(id, 1, false, &[], &[], 1)
        else {
            panic!()
        };
        let order: Vec<i32> = partitions.iter().map(|(_, p, _)| *p).collect();
        assert_eq!(order, vec![1, 2, 0]);
    }

    #[test]
    fn a_full_cache_evicts_stale_or_smaller_sessions_only() {
        let mut cache = FetchSessionCache::new(2, 1_000);
        let small = session_with(&mut cache, &[("t", 0)], 0);
        let big = session_with(&mut cache, &[("t", 0), ("t", 1), ("t", 2)], 10);
        // Not stale yet, and a one-partition newcomer is no bigger than `small`: declined.
        assert_eq!(session_with(&mut cache, &[("u", 0)], 20), 0);
        // A bigger newcomer evicts the smallest session.
        let bigger = session_with(&mut cache, &[("u", 0), ("u", 1)], 30);
        assert_ne!(bigger, 0);
        assert!(!cache.sessions.contains_key(&small));
        assert!(cache.sessions.contains_key(&big));
        // After the eviction time, the least recently used session goes, whatever its size.
        let late = session_with(&mut cache, &[("v", 0)], 2_000);
        assert_ne!(late, 0);
        assert!(!cache.sessions.contains_key(&big));
        assert_eq!(cache.len(), 2);
        // A follower's session may evict a consumer's.
        let follower = cache.create_session(false, true, Vec::new(), 2_001);
        assert_ne!(follower, 0);
    }
}
