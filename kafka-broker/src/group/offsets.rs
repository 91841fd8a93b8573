//! Committed offsets of one group.
//!
//! Kafka keeps these in the `__consumer_offsets` log; the bundled broker keeps them in memory,
//! per topic and partition, with what OffsetFetch returns (offset, leader epoch, metadata) and
//! what retention needs (commit time, an explicit expiry from OffsetCommit v2-4).

use std::collections::{BTreeMap, HashMap};

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

/// All committed offsets of a group: topic → partition → offset, and the offsets that open
/// transactions committed (TxnOffsetCommit), which become visible only with the transaction's
/// COMMIT marker.
#[derive(Debug, Clone, Default)]
pub struct OffsetStore {
    topics: BTreeMap<String, BTreeMap<i32, CommittedOffset>>,
    /// Offsets of open transactions, by producer id.
    pending: HashMap<i64, BTreeMap<(String, i32), CommittedOffset>>,
}

impl OffsetStore {
    /// Stores `offset` for `topic`/`partition`, replacing an older commit.
    pub fn commit(&mut self, topic: &str, partition: i32, offset: CommittedOffset) {
        self.topics
            .entry(topic.to_owned())
            .or_default()
            .insert(partition, offset);
    }

    /// Stages `offset` for `topic`/`partition` in producer `producer_id`'s open transaction.
    pub fn stage(
        &mut self,
        producer_id: i64,
        topic: &str,
        partition: i32,
        offset: CommittedOffset,
    ) {
        self.pending
            .entry(producer_id)
            .or_default()
            .insert((topic.to_owned(), partition), offset);
    }

    /// Ends producer `producer_id`'s transaction: its staged offsets are committed (replacing
    /// older commits) or dropped.
    pub fn complete_transaction(&mut self, producer_id: i64, committed: bool) {
        let Some(staged) = self.pending.remove(&producer_id) else {
            return;
        };
        if committed {
            for ((topic, partition), offset) in staged {
                self.commit(&topic, partition, offset);
            }
        }
    }

    /// Whether an open transaction staged an offset for `topic`/`partition` (OffsetFetch with
    /// `require_stable` answers UNSTABLE_OFFSET_COMMIT then, KIP-447).
    pub fn has_pending(&self, topic: &str, partition: i32) -> bool {
        self.pending
            .values()
            .any(|staged| staged.keys().any(|(t, p)| t == topic && *p == partition))
    }

    /// Whether any open transaction staged offsets.
    pub fn any_pending(&self) -> bool {
        !self.pending.is_empty()
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

    /// Whether no offset is stored (committed or staged).
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty() && self.pending.is_empty()
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
    fn staged_offsets_appear_only_when_their_transaction_commits() {
        let mut s = OffsetStore::default();
        s.commit("t", 0, off(1, 0));
        s.stage(7, "t", 0, off(10, 1));
        s.stage(8, "t", 1, off(20, 1));
        assert_eq!(
            s.get("t", 0).map(|o| o.offset),
            Some(1),
            "staged is not committed"
        );
        assert!(s.has_pending("t", 0) && s.has_pending("t", 1) && !s.has_pending("t", 2));
        s.complete_transaction(7, true);
        s.complete_transaction(8, false);
        assert_eq!(s.get("t", 0).map(|o| o.offset), Some(10));
        assert_eq!(s.get("t", 1), None, "aborted offsets vanish");
        assert!(!s.any_pending());
        s.complete_transaction(9, true); // nothing staged: nothing happens
        assert_eq!(s.len(), 1);
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
