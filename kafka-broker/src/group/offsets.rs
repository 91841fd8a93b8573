//! Committed offsets of one group.
//!
//! Kafka keeps these in the `__consumer_offsets` log; the bundled broker keeps them in memory,
//! per topic and partition, with what OffsetFetch returns (offset, leader epoch, metadata) and
//! what retention needs (commit time, an explicit expiry from OffsetCommit v2-4).

use std::collections::BTreeMap;

/// One committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    /// The offset of the next record to consume.
    pub offset: i64,
    /// Leader epoch of the last consumed record (KIP-320), `-1` if unknown.
    pub leader_epoch: i32,
    /// Client metadata; a null from the client is stored as the empty string, as Kafka does.
    pub metadata: String,
    /// When it was committed (coordinator ms).
    pub commit_ms: u64,
    /// Expiry fixed by the request's `retention_time_ms` (OffsetCommit v2-4), if it set one.
    pub expire_ms: Option<u64>,
}

/// All committed offsets of a group: topic → partition → offset.
#[derive(Debug, Clone, Default)]
pub struct OffsetStore {
    topics: BTreeMap<String, BTreeMap<i32, CommittedOffset>>,
}

impl OffsetStore {
    /// Stores `offset` for `topic`/`partition`, replacing an older commit.
    pub fn commit(&mut self, topic: &str, partition: i32, offset: CommittedOffset) {
        self.topics
            .entry(topic.to_owned())
            .or_default()
            .insert(partition, offset);
    }

    /// The committed offset of `topic`/`partition`, if any.
    #[cfg(test)]
    pub fn get(&self, topic: &str, partition: i32) -> Option<&CommittedOffset> {
        self.topics.get(topic).and_then(|p| p.get(&partition))
    }

    /// The committed offsets of one topic.
    pub fn topic(&self, topic: &str) -> Option<&BTreeMap<i32, CommittedOffset>> {
        self.topics.get(topic)
    }

    /// Every committed offset, topic by topic, in name order.
    pub fn all(&self) -> impl Iterator<Item = (&str, &BTreeMap<i32, CommittedOffset>)> {
        self.topics.iter().map(|(t, p)| (t.as_str(), p))
    }

    /// Deletes the offset of `topic`/`partition`; returns whether there was one.
    pub fn delete(&mut self, topic: &str, partition: i32) -> bool {
        let Some(parts) = self.topics.get_mut(topic) else {
            return false;
        };
        let removed = parts.remove(&partition).is_some();
        if parts.is_empty() {
            self.topics.remove(topic);
        }
        removed
    }

    /// Whether no offset is stored.
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// Number of stored partition offsets.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.topics.values().map(BTreeMap::len).sum()
    }

    /// Drops expired offsets and returns how many went.
    ///
    /// Per KIP-211 an offset expires `retention_ms` after the later of its commit and
    /// `base_ms` (the time the group became empty), unless the commit fixed its own expiry.
    /// `keep_topic` protects topics a live group is still subscribed to: their offsets do not
    /// expire while the group consumes them.
    pub fn expire(
        &mut self,
        now_ms: u64,
        retention_ms: u64,
        base_ms: u64,
        keep_topic: &dyn Fn(&str) -> bool,
    ) -> usize {
        let mut removed = 0;
        self.topics.retain(|topic, parts| {
            if keep_topic(topic) {
                return true;
            }
            parts.retain(|_, o| {
                let expiry = o
                    .expire_ms
                    .unwrap_or_else(|| o.commit_ms.max(base_ms).saturating_add(retention_ms));
                let keep = expiry > now_ms;
                if !keep {
                    removed += 1;
                }
                keep
            });
            !parts.is_empty()
        });
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off(offset: i64, commit_ms: u64) -> CommittedOffset {
        CommittedOffset {
            offset,
            leader_epoch: -1,
            metadata: String::new(),
            commit_ms,
            expire_ms: None,
        }
    }

    #[test]
    fn commit_get_delete() {
        let mut s = OffsetStore::default();
        s.commit("t", 0, off(5, 0));
        s.commit("t", 0, off(7, 1));
        s.commit("t", 1, off(3, 1));
        assert_eq!(s.get("t", 0).map(|o| o.offset), Some(7));
        assert_eq!(s.len(), 2);
        assert!(s.delete("t", 0));
        assert!(!s.delete("t", 0));
        assert!(s.delete("t", 1));
        assert!(s.is_empty());
    }

    #[test]
    fn expiry_uses_later_of_commit_and_empty_time() {
        let mut s = OffsetStore::default();
        s.commit("a", 0, off(1, 100));
        s.commit("b", 0, off(1, 500));
        let mut fixed = off(1, 0);
        fixed.expire_ms = Some(50);
        s.commit("c", 0, fixed);
        // Group became empty at 300; retention 1000.
        assert_eq!(s.expire(1200, 1000, 300, &|_| false), 1); // only "c" (fixed expiry)
        assert_eq!(s.expire(1300, 1000, 300, &|_| false), 1); // "a": max(100,300)+1000
        assert_eq!(s.expire(1499, 1000, 300, &|_| false), 0);
        assert_eq!(s.expire(10_000, 1000, 300, &|t| t == "b"), 0); // subscribed: kept
        assert_eq!(s.expire(1500, 1000, 300, &|_| false), 1);
        assert!(s.is_empty());
    }
}
