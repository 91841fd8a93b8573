//! The leader epoch cache of one partition (KIP-101, KIP-279): for every leader epoch, the offset
//! of the first record that leader wrote. It answers OffsetForLeaderEpoch, which a consumer sends
//! after a leader change to learn whether the log it was reading was truncated (KIP-320): the end
//! offset of the epoch it last saw, compared with its position, shows a divergence.
//!
//! The rules are Kafka's `LeaderEpochFileCache`:
//! * a new leader assigns its epoch at the log end offset; entries at or after that offset, or
//!   of an epoch not older, are dropped first (they describe a history the new leader replaced);
//! * when the log start moves forward, entries wholly before it go, and the last of them is kept
//!   starting at the new log start;
//! * the end offset of epoch `e` is the start offset of the first epoch after `e`, or the log
//!   end offset when `e` is the current epoch, reported with the largest known epoch not after
//!   `e`.

/// `UNDEFINED_EPOCH` and `UNDEFINED_EPOCH_OFFSET` of the protocol.
pub(crate) const UNDEFINED: (i32, i64) = (-1, -1);

/// The epochs of one partition, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeaderEpochCache {
    entries: Vec<(i32, i64)>,
}

impl LeaderEpochCache {
    /// A new partition: its first leader wrote epoch 0 from offset 0.
    pub(crate) fn new() -> Self {
        LeaderEpochCache {
            entries: vec![(0, 0)],
        }
    }

    /// A leader took over at `epoch`, writing from `start_offset` (the log end offset).
    pub(crate) fn assign(&mut self, epoch: i32, start_offset: i64) {
        if self.entries.last() == Some(&(epoch, start_offset)) {
            return;
        }
        self.entries
            .retain(|(e, start)| *e < epoch && *start < start_offset);
        self.entries.push((epoch, start_offset));
    }

    /// The log start offset moved to `log_start`.
    pub(crate) fn truncate_from_start(&mut self, log_start: i64) {
        let before = self
            .entries
            .iter()
            .take_while(|(_, start)| *start <= log_start)
            .count();
        if before > 1 {
            self.entries.drain(..before - 1);
        }
        if let Some(first) = self.entries.first_mut() {
            if first.1 < log_start {
                first.1 = log_start;
            }
        }
    }

    /// The log was cut back to end at `log_end_offset` (an unclean election): epochs that began
    /// at or after it never happened in the surviving history.
    pub(crate) fn truncate_from_end(&mut self, log_end_offset: i64) {
        self.entries.retain(|(_, start)| *start < log_end_offset);
    }

    /// The epoch and end offset answering OffsetForLeaderEpoch for `requested`, in a log whose
    /// end offset is `log_end_offset`.
    pub(crate) fn end_offset_for(&self, requested: i32, log_end_offset: i64) -> (i32, i64) {
        if requested == UNDEFINED.0 {
            return UNDEFINED;
        }
        if self.entries.last().map(|(e, _)| *e) == Some(requested) {
            return (requested, log_end_offset);
        }
        let Some(&(_, higher_start)) = self.entries.iter().find(|(e, _)| *e > requested) else {
            return UNDEFINED;
        };
        match self.entries.iter().rev().find(|(e, _)| *e <= requested) {
            Some(&(floor, _)) => (floor, higher_start),
            // Older than anything known: the first later epoch's start is the best answer.
            None => (requested, higher_start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_partition_answers_its_current_epoch_with_the_log_end() {
        let cache = LeaderEpochCache::new();
        assert_eq!(cache.end_offset_for(0, 5), (0, 5));
        assert_eq!(cache.end_offset_for(-1, 5), UNDEFINED);
        assert_eq!(cache.end_offset_for(3, 5), UNDEFINED);
    }

    #[test]
    fn earlier_epochs_end_where_the_next_began() {
        let mut cache = LeaderEpochCache::new();
        cache.assign(1, 10);
        cache.assign(3, 25);
        assert_eq!(cache.end_offset_for(0, 40), (0, 10));
        assert_eq!(cache.end_offset_for(1, 40), (1, 25));
        // Epoch 2 had no leader that wrote: the floor epoch (1) ends at 25.
        assert_eq!(cache.end_offset_for(2, 40), (1, 25));
        assert_eq!(cache.end_offset_for(3, 40), (3, 40));
    }

    #[test]
    fn a_leader_without_records_is_replaced_by_the_next() {
        let mut cache = LeaderEpochCache::new();
        cache.assign(1, 0);
        cache.assign(2, 0);
        assert_eq!(cache.entries, vec![(2, 0)]);
        assert_eq!(cache.end_offset_for(0, 7), (0, 0));
    }

    #[test]
    fn a_tail_truncation_forgets_the_epochs_that_began_after_it() {
        let mut cache = LeaderEpochCache::new();
        cache.assign(1, 10);
        cache.assign(2, 20);
        cache.truncate_from_end(15);
        assert_eq!(cache.entries, vec![(0, 0), (1, 10)]);
        // The next leader starts at the cut: epoch 1 now ends there.
        cache.assign(3, 15);
        assert_eq!(cache.end_offset_for(1, 18), (1, 15));
        assert_eq!(cache.end_offset_for(2, 18), (1, 15));
    }

    #[test]
    fn log_start_moves_trim_the_head() {
        let mut cache = LeaderEpochCache::new();
        cache.assign(1, 10);
        cache.assign(2, 20);
        cache.truncate_from_start(15);
        assert_eq!(cache.entries, vec![(1, 15), (2, 20)]);
        cache.truncate_from_start(20);
        assert_eq!(cache.entries, vec![(2, 20)]);
    }
}
