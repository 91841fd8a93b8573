//! [`SubscriptionState`]: the assigned partitions, each with its position, what the last fetch
//! said about it (high watermark, last stable offset) and its buffered, unread data.
//!
//! Pure bookkeeping: no I/O, so the rules below are unit-tested without a broker.
//! * The position is the next offset `poll` will hand out; it moves as records are handed
//!   out, not as they are fetched. A partition without one waits for `auto.offset.reset`.
//! * A partition is fetchable when it has a position and a known leader, is not paused, and
//!   holds no buffered data (one response per partition at a time bounds memory).
//! * `seek` drops buffered data; a fetch answer for an offset that is no longer the position
//!   is ignored, which is how a seek racing a fetch in flight stays correct.

use std::collections::{BTreeMap, BTreeSet};

use kafka_client::MetadataCache;
use kafka_protocol::BrokerId;
use kafka_protocol::DecodeError;

use crate::completed_fetch::CompletedFetch;
use crate::fetch_session::FetchTarget;
use crate::record::{ConsumerRecord, TopicPartition};

/// One assigned partition.
#[derive(Debug, Default)]
pub(crate) struct PartitionState {
    pub(crate) position: Option<i64>,
    /// The leader epoch of the last record handed out (KIP-320), committed with offsets: the
    /// *offset epoch* a position is validated with after a leader change.
    pub(crate) last_epoch: Option<i32>,
    /// The leader epoch the position was last fetched or validated under; a newer one in the
    /// metadata means the position must be validated before the next fetch
    /// ([`crate::validation`]).
    pub(crate) validated_epoch: Option<i32>,
    pub(crate) high_watermark: Option<i64>,
    pub(crate) last_stable_offset: Option<i64>,
    pub(crate) paused: bool,
    pub(crate) buffered: Option<CompletedFetch>,
}

/// Whether a position must be validated before fetching under `leader_epoch` (KIP-320): it
/// has an offset epoch, and was last fetched or validated under an older leader epoch.
fn needs_validation(s: &PartitionState, leader_epoch: i32) -> bool {
    s.last_epoch.is_some()
        && leader_epoch >= 0
        && s.validated_epoch.is_none_or(|v| v < leader_epoch)
}

/// The assignment and its positions.
#[derive(Debug, Default)]
pub(crate) struct SubscriptionState {
    pub(crate) partitions: BTreeMap<TopicPartition, PartitionState>,
    /// Where the last `drain` stopped, so that partitions take turns.
    cursor: Option<TopicPartition>,
}

impl SubscriptionState {
    /// Replaces the assignment; partitions kept keep their state.
    pub(crate) fn assign(&mut self, wanted: impl IntoIterator<Item = TopicPartition>) {
        let wanted: BTreeSet<TopicPartition> = wanted.into_iter().collect();
        self.partitions.retain(|tp, _| wanted.contains(tp));
        for tp in wanted {
            self.partitions.entry(tp).or_default();
        }
    }

    /// Adds partitions (with their committed positions and offset epochs, where known). A
    /// committed position with an epoch is validated before its first fetch, which catches a
    /// truncation that happened since the commit.
    pub(crate) fn add(&mut self, tp: TopicPartition, committed: Option<(i64, Option<i32>)>) {
        let state = self.partitions.entry(tp).or_default();
        if state.position.is_none() {
            if let Some((offset, epoch)) = committed {
                state.position = Some(offset);
                state.last_epoch = epoch;
                state.validated_epoch = None;
            }
        }
    }

    /// Sets a position from `auto.offset.reset` or a lookup: it comes from the leader's log as
    /// it is now, with no offset epoch to validate.
    pub(crate) fn reset(&mut self, tp: &TopicPartition, offset: i64) {
        if let Some(s) = self.partitions.get_mut(tp) {
            s.position = Some(offset);
            s.last_epoch = None;
            s.validated_epoch = None;
            s.buffered = None;
        }
    }

    /// Removes partitions.
    pub(crate) fn remove(&mut self, gone: &[TopicPartition]) {
        for tp in gone {
            self.partitions.remove(tp);
        }
    }

    /// The assigned partitions.
    pub(crate) fn assigned(&self) -> Vec<TopicPartition> {
        self.partitions.keys().cloned().collect()
    }

    /// Moves a partition's position, dropping its buffered data. The offset epoch goes too (as
    /// with Java's `seek(offset)`): it described the records before the old position.
    pub(crate) fn seek(&mut self, tp: &TopicPartition, offset: i64) -> bool {
        match self.partitions.get_mut(tp) {
            Some(s) => {
                s.position = Some(offset);
                s.last_epoch = None;
                s.validated_epoch = None;
                s.buffered = None;
                true
            }
            None => false,
        }
    }

    /// The positions to validate before fetching: those with an offset epoch whose partition's
    /// leader epoch moved past the one they were last fetched under.
    pub(crate) fn positions_to_validate(
        &self,
        md: &MetadataCache,
    ) -> Vec<crate::validation::PendingValidation> {
        let mut out = Vec::new();
        for ((topic, partition), s) in &self.partitions {
            let (Some(position), Some(offset_epoch), false, None) =
                (s.position, s.last_epoch, s.paused, s.buffered.as_ref())
            else {
                continue;
            };
            let Some(p) = md.topic(topic).and_then(|info| {
                usize::try_from(*partition)
                    .ok()
                    .and_then(|i| info.partitions.get(i))
            }) else {
                continue;
            };
            if p.leader == BrokerId::NONE || !needs_validation(s, p.leader_epoch) {
                continue;
            }
            out.push(crate::validation::PendingValidation {
                tp: (topic.clone(), *partition),
                leader: p.leader,
                position,
                offset_epoch,
                current_leader_epoch: p.leader_epoch,
            });
        }
        out
    }

    /// Partitions waiting for a position.
    pub(crate) fn missing_positions(&self) -> Vec<TopicPartition> {
        self.partitions
            .iter()
            .filter(|(_, s)| s.position.is_none())
            .map(|(tp, _)| tp.clone())
            .collect()
    }

    /// Response bytes held by buffered fetches: each response counted whole while any of its
    /// partitions is still buffered (its partitions' records share its buffer).
    pub(crate) fn buffered_bytes(&self) -> usize {
        let mut frames: Vec<&std::sync::Arc<crate::completed_fetch::FetchedFrame>> = Vec::new();
        for b in self.partitions.values().filter_map(|s| s.buffered.as_ref()) {
            if !frames.iter().any(|f| std::sync::Arc::ptr_eq(f, &b.frame)) {
                frames.push(&b.frame);
            }
        }
        frames.iter().map(|f| f.size).sum()
    }

    /// How many brokers lead the assigned partitions (fetchable or not): the number of fetch
    /// pipelines the memory budget is shared between.
    pub(crate) fn leader_count(&self, md: &MetadataCache) -> usize {
        self.partitions
            .keys()
            .filter_map(|(topic, partition)| md.leader(topic, *partition))
            .filter(|b| *b != BrokerId::NONE)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// The fetchable partitions, by leader.
    pub(crate) fn fetch_targets(
        &self,
        md: &MetadataCache,
        partition_max_bytes: i32,
    ) -> BTreeMap<BrokerId, Vec<FetchTarget>> {
        let mut out: BTreeMap<BrokerId, Vec<FetchTarget>> = BTreeMap::new();
        for ((topic, partition), s) in &self.partitions {
            let (Some(position), false, None) = (s.position, s.paused, s.buffered.as_ref()) else {
                continue;
            };
            let Some(info) = md.topic(topic) else {
                continue;
            };
            let Some(p) = usize::try_from(*partition)
                .ok()
                .and_then(|i| info.partitions.get(i))
            else {
                continue;
            };
            if p.leader == BrokerId::NONE || needs_validation(s, p.leader_epoch) {
                continue;
            }
            out.entry(p.leader).or_default().push(FetchTarget {
                topic: topic.clone(),
                topic_id: info.id,
                partition: *partition,
                fetch_offset: position,
                max_bytes: partition_max_bytes,
                current_leader_epoch: p.leader_epoch,
            });
        }
        out
    }

    /// Hands out up to `max` buffered records, partitions taking turns. On a decode error the
    /// records before it are in `out` and the error names its partition.
    pub(crate) fn drain(
        &mut self,
        max: usize,
        out: &mut Vec<ConsumerRecord>,
    ) -> Result<(), (TopicPartition, DecodeError)> {
        let order: Vec<TopicPartition> = {
            let keys = self
                .partitions
                .iter()
                .filter(|(_, s)| s.buffered.is_some() && !s.paused)
                .map(|(tp, _)| tp.clone());
            let (after, before): (Vec<_>, Vec<_>) =
                keys.partition(|tp| self.cursor.as_ref().is_some_and(|c| tp > c));
            after.into_iter().chain(before).collect()
        };
        for tp in order {
            if out.len() >= max {
                break;
            }
            let Some(state) = self.partitions.get_mut(&tp) else {
                continue;
            };
            let Some(fetch) = state.buffered.as_mut() else {
                continue;
            };
            let result = fetch.take(max - out.len(), out);
            state.position = Some(fetch.next_offset);
            if fetch.last_epoch.is_some() {
                state.last_epoch = fetch.last_epoch;
            }
            if fetch.is_drained() {
                state.buffered = None;
            }
            self.cursor = Some(tp.clone());
            result.map_err(|e| (tp, e))?;
        }
        Ok(())
    }

    /// How far behind the end a partition is: to the high watermark, or under read_committed
    /// to the last stable offset.
    pub(crate) fn lag(&self, tp: &TopicPartition, read_committed: bool) -> Option<i64> {
        let s = self.partitions.get(tp)?;
        let end = if read_committed {
            s.last_stable_offset
        } else {
            s.high_watermark
        }?;
        Some(end.saturating_sub(s.position?).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use kafka_protocol::records::{Compression, DecodeOptions, RecordBatchBuilder};
    use kafka_protocol::TopicName;

    fn fetch(partition: i32, base: i64, n: usize) -> CompletedFetch {
        let mut b = RecordBatchBuilder::new(Compression::None).with_base_offset(base);
        for _ in 0..n {
            b.append(0, None, Some(b"v"), &[]).unwrap();
        }
        let data: Bytes = b.build().unwrap();
        let frame = std::sync::Arc::new(crate::completed_fetch::FetchedFrame { size: data.len() });
        CompletedFetch::new(
            "t".into(),
            partition,
            base,
            data,
            frame,
            DecodeOptions::default(),
            None,
        )
    }

    /// Metadata for topic `t`: partitions 0-2, led by broker 1 at `epoch`.
    fn metadata(epoch: i32) -> MetadataCache {
        use kafka_protocol::messages::metadata_response::{
            MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
        };
        let mut md = MetadataCache::default();
        md.apply(
            &kafka_protocol::messages::MetadataResponse::default()
                .with_brokers(vec![MetadataResponseBroker::default()
                    .with_node_id(1)
                    .with_host("127.0.0.1")
                    .with_port(9092)])
                .with_topics(vec![MetadataResponseTopic::default()
                    .with_name(Some("t".into()))
                    .with_partitions(
                        (0..3)
                            .map(|p| {
                                MetadataResponsePartition::default()
                                    .with_partition_index(p)
                                    .with_leader_id(1)
                                    .with_leader_epoch(epoch)
                            })
                            .collect(),
                    )]),
        );
        md
    }

    fn tp(p: i32) -> TopicPartition {
        (TopicName::from("t"), p)
    }

    #[test]
    fn partitions_take_turns_and_positions_follow_what_is_handed_out() {
        let mut s = SubscriptionState::default();
        s.assign([tp(0), tp(1)]);
        s.seek(&tp(0), 0);
        s.seek(&tp(1), 100);
        s.partitions.get_mut(&tp(0)).unwrap().buffered = Some(fetch(0, 0, 5));
        s.partitions.get_mut(&tp(1)).unwrap().buffered = Some(fetch(1, 100, 5));
        let mut out = Vec::new();
        s.drain(3, &mut out).unwrap();
        assert_eq!(
            out.iter().map(|r| r.partition).collect::<Vec<_>>(),
            [0, 0, 0]
        );
        assert_eq!(s.partitions[&tp(0)].position, Some(3));
        out.clear();
        s.drain(3, &mut out).unwrap();
        // Partition 1's turn now, though partition 0 still has records.
        assert_eq!(
            out.iter().map(|r| r.partition).collect::<Vec<_>>(),
            [1, 1, 1]
        );
        out.clear();
        s.drain(100, &mut out).unwrap();
        assert_eq!(out.len(), 4);
        assert_eq!(s.partitions[&tp(1)].position, Some(105));
        assert_eq!(s.buffered_bytes(), 0);
    }

    #[test]
    fn buffered_and_paused_partitions_are_not_fetched() {
        let md = metadata(4);
        let mut s = SubscriptionState::default();
        s.assign([tp(0), tp(1), tp(2)]);
        for p in 0..3 {
            s.seek(&tp(p), 10);
        }
        s.partitions.get_mut(&tp(1)).unwrap().buffered = Some(fetch(1, 10, 1));
        s.partitions.get_mut(&tp(2)).unwrap().paused = true;
        let targets = s.fetch_targets(&md, 1024);
        let only: Vec<i32> = targets[&BrokerId(1)].iter().map(|t| t.partition).collect();
        assert_eq!(only, [0]);
        assert_eq!(targets[&BrokerId(1)][0].current_leader_epoch, 4);
        // A seek drops the buffered data, making the partition fetchable again.
        s.seek(&tp(1), 0);
        assert_eq!(s.fetch_targets(&md, 1024)[&BrokerId(1)].len(), 2);
        assert_eq!(s.lag(&tp(0), false), None);
        s.partitions.get_mut(&tp(0)).unwrap().high_watermark = Some(25);
        assert_eq!(s.lag(&tp(0), false), Some(15));
    }

    #[test]
    fn a_position_read_under_an_older_leader_epoch_is_validated_before_fetching() {
        let mut s = SubscriptionState::default();
        s.assign([tp(0), tp(1), tp(2)]);
        // 0: read records of epoch 3 under leader epoch 3. 1: committed at epoch 3, never
        // fetched. 2: sought, so no offset epoch to check.
        s.add(tp(1), Some((40, Some(3))));
        for p in [0, 2] {
            s.seek(&tp(p), 10);
        }
        let p0 = s.partitions.get_mut(&tp(0)).unwrap();
        p0.last_epoch = Some(3);
        p0.validated_epoch = Some(3);

        let same = metadata(3);
        let pending: Vec<i32> = s
            .positions_to_validate(&same)
            .iter()
            .map(|v| v.tp.1)
            .collect();
        assert_eq!(
            pending,
            [1],
            "a commit is checked even without a leader change"
        );
        let fetching: Vec<i32> = s.fetch_targets(&same, 1024)[&BrokerId(1)]
            .iter()
            .map(|t| t.partition)
            .collect();
        assert_eq!(fetching, [0, 2]);

        // The leader epoch moves: partition 0 must be checked too, with what it read.
        let newer = metadata(5);
        let pending = s.positions_to_validate(&newer);
        assert_eq!(pending.len(), 2);
        assert_eq!(
            (
                pending[0].position,
                pending[0].offset_epoch,
                pending[0].current_leader_epoch
            ),
            (10, 3, 5)
        );
        assert_eq!(s.fetch_targets(&newer, 1024)[&BrokerId(1)].len(), 1);

        // Validated (or re-sought): fetching resumes.
        s.partitions.get_mut(&tp(0)).unwrap().validated_epoch = Some(5);
        s.seek(&tp(1), 40);
        assert!(s.positions_to_validate(&newer).is_empty());
        assert_eq!(s.fetch_targets(&newer, 1024)[&BrokerId(1)].len(), 3);
    }
}
