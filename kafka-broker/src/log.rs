//! One partition's log, held in memory as the record batches the producers sent.
//!
//! The broker stores each appended batch's wire bytes (with baseOffset and partitionLeaderEpoch
//! assigned, and for LogAppendTime topics the timestamp rewritten), and serves Fetch by handing
//! out slices of them, as Kafka serves fetches from its segment files with `sendfile`.
//!
//! The brokers share one log per partition, so the high watermark equals the log end offset.
//! The last stable offset (KIP-98) is the first offset of the oldest transaction still open
//! on the partition, or the high watermark when none is; read_committed fetches stop there and
//! get the aborted transactions of what they read, from the partition's aborted-transaction
//! index (Kafka's `.txnindex`), so that consumers can drop aborted records.
//!
//! Waiting readers (long-poll Fetch) park on [`PartitionLog::notify`]; every append, truncation,
//! leader change or deletion wakes them so they re-check their conditions.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{RecordBatch, TimestampType};
use kafka_protocol::ErrorCode;
use tokio::sync::Notify;

use crate::leader_epochs::LeaderEpochCache;
use crate::producer_state::PartitionProducerState;

/// A batch as stored in the log.
#[derive(Debug, Clone)]
pub(crate) struct StoredBatch {
    /// Offset of the batch's first record.
    pub base_offset: i64,
    /// Offset of the batch's last record.
    pub last_offset: i64,
    /// The batch's maxTimestamp (the append time on LogAppendTime topics).
    pub max_timestamp: i64,
    /// The batch exactly as it is served to consumers.
    pub bytes: Bytes,
}

/// The mutable state of a partition, behind the [`PartitionLog`] lock.
#[derive(Debug)]
pub(crate) struct LogState {
    /// Batches in offset order.
    pub batches: VecDeque<StoredBatch>,
    /// The first offset a consumer may read (advanced by DeleteRecords and retention).
    pub log_start_offset: i64,
    /// The offset the next record gets; also the high watermark (one replica).
    pub log_end_offset: i64,
    /// Bytes held in `batches`.
    pub size_bytes: usize,
    /// The broker leading the partition.
    pub leader: i32,
    /// The partition's replicas, preferred leader first. The brokers of a bundled cluster share
    /// one log, so every running replica is in sync: the list decides who may lead, what
    /// Metadata reports as replicas, ISR and offline replicas, and what reassignments move.
    pub replicas: Vec<i32>,
    /// The leader epoch (KIP-101), bumped on every leader move.
    pub leader_epoch: i32,
    /// Idempotent producers' sequence state.
    pub producers: PartitionProducerState,
    /// Where each leader epoch began (OffsetForLeaderEpoch, KIP-320).
    pub epochs: LeaderEpochCache,
    /// Set when the topic is deleted, so waiting fetches stop waiting.
    pub deleted: bool,
    /// Transactions aborted on this partition, in the order of their markers.
    pub aborted: VecDeque<AbortedTxn>,
}

/// One aborted transaction on a partition: Kafka's transaction index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AbortedTxn {
    pub producer_id: i64,
    /// Offset of the transaction's first batch on the partition.
    pub first_offset: i64,
    /// Offset of its abort marker.
    pub last_offset: i64,
}

impl LogState {
    /// The last stable offset: below it every transaction is decided.
    pub(crate) fn last_stable_offset(&self) -> i64 {
        self.producers
            .first_unstable_offset()
            .map_or(self.log_end_offset, |first| first.min(self.log_end_offset))
    }

    /// The offsets reported with a read.
    fn log_offsets(&self) -> LogOffsets {
        LogOffsets {
            log_start_offset: self.log_start_offset,
            high_watermark: self.log_end_offset,
            last_stable_offset: self.last_stable_offset(),
        }
    }

    /// Drops index entries whose marker fell below the log start or at/after the log end.
    fn trim_aborted(&mut self) {
        let (start, end) = (self.log_start_offset, self.log_end_offset);
        self.aborted
            .retain(|a| a.last_offset >= start && a.last_offset < end);
    }
}

/// One partition: its state and the notifier long-poll fetches wait on.
#[derive(Debug)]
pub struct PartitionLog {
    state: Mutex<LogState>,
    /// Woken (with `notify_waiters`) whenever the partition changes in a way a fetch may observe.
    pub(crate) notify: Notify,
}

/// Offsets reported with a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LogOffsets {
    pub log_start_offset: i64,
    pub high_watermark: i64,
    pub last_stable_offset: i64,
}

/// The result of [`PartitionLog::read`].
#[derive(Debug, Clone)]
pub(crate) struct ReadResult {
    /// Concatenated batches (possibly empty).
    pub records: Bytes,
    /// Offsets at the time of the read.
    pub offsets: LogOffsets,
    /// For a read_committed read, the aborted transactions that overlap the records read:
    /// (producer id, first offset), as Fetch reports them.
    pub aborted: Vec<(i64, i64)>,
}

impl PartitionLog {
    /// A new, empty partition on `replicas`, led by the first of them at epoch 0.
    pub(crate) fn new(replicas: Vec<i32>) -> Self {
        let leader = replicas.first().copied().unwrap_or(-1);
        PartitionLog {
            state: Mutex::new(LogState {
                replicas,
                batches: VecDeque::new(),
                log_start_offset: 0,
                log_end_offset: 0,
                size_bytes: 0,
                leader,
                leader_epoch: 0,
                producers: PartitionProducerState::new(),
                epochs: LeaderEpochCache::new(),
                deleted: false,
                aborted: VecDeque::new(),
            }),
            notify: Notify::new(),
        }
    }

    /// Locks the state (see [`crate::sync::lock`] on poisoning).
    pub(crate) fn lock(&self) -> MutexGuard<'_, LogState> {
        crate::sync::lock(&self.state)
    }

    /// The current leader and leader epoch.
    pub(crate) fn leader(&self) -> (i32, i32) {
        let state = self.lock();
        (state.leader, state.leader_epoch)
    }

    /// The replicas, preferred leader first.
    pub(crate) fn replicas(&self) -> Vec<i32> {
        self.lock().replicas.clone()
    }

    /// Replaces the replica list (a reassignment step). Leadership is the caller's business.
    pub(crate) fn set_replicas(&self, replicas: Vec<i32>) {
        self.lock().replicas = replicas;
    }

    /// Makes `broker_id` the leader at the next epoch (a leader election), starting that epoch
    /// at the log end offset; returns the new epoch. Waiting fetches are woken to re-check.
    ///
    /// A leader must be a replica: a broker that is not one takes the old leader's place in the
    /// replica list (so a test moving a single-replica partition keeps one replica).
    pub(crate) fn elect_leader(&self, broker_id: i32) -> i32 {
        let epoch = {
            let mut state = self.lock();
            adopt_replica(&mut state, broker_id);
            state.leader = broker_id;
            state.leader_epoch = state.leader_epoch.saturating_add(1);
            let (epoch, end) = (state.leader_epoch, state.log_end_offset);
            state.epochs.assign(epoch, end);
            epoch
        };
        self.wake();
        epoch
    }

    /// An unclean leader election: `broker_id` takes over at the next epoch with a replica that
    /// ended at `end_offset`, so every batch holding an offset at or after it is gone (a batch
    /// straddling the cut goes whole, as a follower truncates to a batch boundary). Returns the
    /// new epoch and log end offset. Consumers that had read past the cut find out through
    /// OffsetForLeaderEpoch (KIP-320).
    pub(crate) fn elect_unclean(
        &self,
        broker_id: i32,
        end_offset: i64,
    ) -> Result<(i32, i64), ErrorCode> {
        let result = {
            let mut state = self.lock();
            if end_offset < state.log_start_offset || end_offset > state.log_end_offset {
                return Err(ErrorCode::OffsetOutOfRange);
            }
            let mut new_end = end_offset;
            while let Some(back) = state.batches.back() {
                if back.last_offset < end_offset {
                    break;
                }
                new_end = new_end.min(back.base_offset);
                state.size_bytes = state.size_bytes.saturating_sub(back.bytes.len());
                state.batches.pop_back();
            }
            let new_end = new_end.max(state.log_start_offset);
            state.log_end_offset = new_end;
            state.producers.truncate_tail(new_end);
            state.trim_aborted();
            state.epochs.truncate_from_end(new_end);
            adopt_replica(&mut state, broker_id);
            state.leader = broker_id;
            state.leader_epoch = state.leader_epoch.saturating_add(1);
            let epoch = state.leader_epoch;
            state.epochs.assign(epoch, new_end);
            (epoch, new_end)
        };
        self.wake();
        Ok(result)
    }

    /// The epoch and end offset OffsetForLeaderEpoch reports for `requested`.
    pub(crate) fn end_offset_for_epoch(&self, requested: i32) -> (i32, i64) {
        let state = self.lock();
        state.epochs.end_offset_for(requested, state.log_end_offset)
    }

    /// Wakes every waiting fetch.
    pub(crate) fn wake(&self) {
        self.notify.notify_waiters();
    }

    /// Log start offset and high watermark.
    pub(crate) fn offsets(&self) -> LogOffsets {
        self.lock().log_offsets()
    }

    /// Reads batches starting with the one that holds `fetch_offset`, up to `max_bytes`.
    ///
    /// When `first_batch_unbounded` is set, the first batch is returned even if it alone exceeds
    /// `max_bytes` (KIP-74): otherwise a consumer whose fetch size is below one batch would be
    /// stuck forever.
    ///
    /// A `read_committed` read stops at the last stable offset (a batch of an open transaction
    /// starts there, so batches below it are whole) and lists the aborted transactions whose
    /// range overlaps what it read, as Kafka's `collectAbortedTransactions` does.
    pub(crate) fn read(
        &self,
        fetch_offset: i64,
        max_bytes: usize,
        first_batch_unbounded: bool,
        read_committed: bool,
    ) -> Result<ReadResult, ErrorCode> {
        let state = self.lock();
        let offsets = state.log_offsets();
        if fetch_offset < state.log_start_offset || fetch_offset > state.log_end_offset {
            return Err(ErrorCode::OffsetOutOfRange);
        }
        let upper = if read_committed {
            offsets.last_stable_offset
        } else {
            i64::MAX
        };
        let first = state
            .batches
            .partition_point(|b| b.last_offset < fetch_offset);
        let mut chosen: Vec<&Bytes> = Vec::new();
        let mut total = 0usize;
        let mut next_offset = fetch_offset;
        for batch in state.batches.iter().skip(first) {
            if batch.base_offset >= upper {
                break;
            }
            let len = batch.bytes.len();
            let fits = total.saturating_add(len) <= max_bytes;
            if !(fits || chosen.is_empty() && first_batch_unbounded) {
                break;
            }
            total = total.saturating_add(len);
            chosen.push(&batch.bytes);
            next_offset = batch.last_offset.saturating_add(1);
        }
        let aborted = if read_committed && !chosen.is_empty() {
            state
                .aborted
                .iter()
                .filter(|a| a.last_offset >= fetch_offset && a.first_offset < next_offset)
                .map(|a| (a.producer_id, a.first_offset))
                .collect()
        } else {
            Vec::new()
        };
        let records = match chosen.as_slice() {
            [] => Bytes::new(),
            [one] => Bytes::clone(one),
            many => {
                let mut buf = BytesMut::with_capacity(total);
                for b in many {
                    buf.extend_from_slice(b);
                }
                buf.freeze()
            }
        };
        Ok(ReadResult {
            records,
            offsets,
            aborted,
        })
    }

    /// Advances the log start offset to `offset` (DeleteRecords); `-1` means the high watermark.
    /// Returns the new low watermark.
    pub(crate) fn delete_records(&self, offset: i64) -> Result<i64, ErrorCode> {
        let mut state = self.lock();
        let target = if offset == -1 {
            state.log_end_offset
        } else {
            offset
        };
        if target < 0 || target > state.log_end_offset {
            return Err(ErrorCode::OffsetOutOfRange);
        }
        if target > state.log_start_offset {
            state.log_start_offset = target;
            state.producers.truncate_head(target);
            state.epochs.truncate_from_start(target);
            trim_head(&mut state);
            state.trim_aborted();
        }
        let low = state.log_start_offset;
        drop(state);
        self.wake();
        Ok(low)
    }

    /// The offset (and its timestamp) that ListOffsets answers for `timestamp`: `-2` earliest,
    /// `-1` latest, `-3` the record with the largest timestamp (KIP-734), `-4` earliest local
    /// (KIP-1005; the same as earliest without tiered storage), otherwise the first record whose
    /// timestamp is at least `timestamp`. `None` means no such record (answered as offset -1).
    /// A `read_committed` lookup sees the log only below the last stable offset, as Kafka's.
    pub(crate) fn offset_for_timestamp(
        &self,
        timestamp: i64,
        read_committed: bool,
    ) -> Option<(i64, i64)> {
        let state = self.lock();
        let stable = state.last_stable_offset();
        let found = match timestamp {
            -2 | -4 => return Some((-1, state.log_start_offset)),
            -1 if read_committed => return Some((-1, stable)),
            -1 => return Some((-1, state.log_end_offset)),
            -3 => {
                let mut best: Option<&StoredBatch> = None;
                for b in &state.batches {
                    if best.is_none_or(|x| b.max_timestamp > x.max_timestamp) {
                        best = Some(b);
                    }
                }
                let batch = best?;
                let target = batch.max_timestamp;
                first_record_at_or_after(batch, target, state.log_start_offset)
                    .or(Some((target, batch.last_offset)))
            }
            ts if ts >= 0 => state
                .batches
                .iter()
                .filter(|b| b.max_timestamp >= ts)
                .find_map(|b| first_record_at_or_after(b, ts, state.log_start_offset)),
            _ => None,
        };
        found.filter(|(_, offset)| !read_committed || *offset < stable)
    }
}

/// The first record of `batch` at or past `log_start` whose timestamp is at least `ts`.
fn first_record_at_or_after(batch: &StoredBatch, ts: i64, log_start: i64) -> Option<(i64, i64)> {
    let mut bytes = batch.bytes.clone();
    let decoded = RecordBatch::decode(&mut bytes).ok()?;
    if decoded.header().timestamp_type() == TimestampType::LogAppendTime {
        let offset = batch.base_offset.max(log_start);
        return (batch.max_timestamp >= ts).then_some((batch.max_timestamp, offset));
    }
    decoded
        .records()
        .filter_map(Result::ok)
        .find(|r| r.offset >= log_start && r.timestamp >= ts)
        .map(|r| (r.timestamp, r.offset))
}

/// Drops batches that lie wholly below the log start offset.
/// Puts `broker_id` in the replica list in the current leader's place if it is not a replica.
fn adopt_replica(state: &mut LogState, broker_id: i32) {
    if state.replicas.contains(&broker_id) {
        return;
    }
    match state.replicas.iter().position(|r| *r == state.leader) {
        Some(i) => state.replicas[i] = broker_id,
        None => state.replicas.push(broker_id),
    }
}

pub(crate) fn trim_head(state: &mut LogState) {
    while let Some(front) = state.batches.front() {
        if front.last_offset >= state.log_start_offset {
            break;
        }
        state.size_bytes = state.size_bytes.saturating_sub(front.bytes.len());
        state.batches.pop_front();
    }
}

/// Applies `retention.bytes` after an append: whole batches are dropped from the head while the
/// partition is larger than the limit, and the log start offset moves past them, as Kafka deletes
/// whole segments. A negative limit means no limit.
pub(crate) fn apply_retention_bytes(state: &mut LogState, retention_bytes: i64) {
    let Ok(limit) = usize::try_from(retention_bytes) else {
        return;
    };
    while state.size_bytes > limit && state.batches.len() > 1 {
        let Some(front) = state.batches.pop_front() else {
            break;
        };
        state.size_bytes = state.size_bytes.saturating_sub(front.bytes.len());
        state.log_start_offset = front.last_offset.saturating_add(1);
    }
    let start = state.log_start_offset;
    state.producers.truncate_head(start);
    state.epochs.truncate_from_start(start);
    state.trim_aborted();
}

/// Where an appended (or deduplicated) batch landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppendInfo {
    pub base_offset: i64,
    /// The append time on LogAppendTime topics, else -1.
    pub log_append_time_ms: i64,
    pub log_start_offset: i64,
}

impl PartitionLog {
    /// Appends one validated batch: checks the idempotent producer's sequence (a retry of one of
    /// its last five batches is acknowledged with the original offsets and not appended again),
    /// assigns the base offset and stamps the leader epoch, both outside the CRC'd range.
    ///
    /// `log_append_time` is set on LogAppendTime topics, whose batch the caller has already
    /// rewritten.
    pub(crate) fn append(
        &self,
        mut batch: BytesMut,
        header: &kafka_protocol::records::RecordBatchHeader,
        log_append_time: Option<i64>,
        retention_bytes: i64,
    ) -> Result<AppendInfo, ErrorCode> {
        use crate::producer_state::{AppendDecision, ProducerBatch};
        use kafka_protocol::records::{set_base_offset, set_partition_leader_epoch};

        let producer = ProducerBatch::from_header(header);
        let mut state = self.lock();
        if state.deleted {
            return Err(ErrorCode::UnknownTopicOrPartition);
        }
        if producer.is_idempotent() {
            if let AppendDecision::Duplicate(dup) = state.producers.check(&producer)? {
                return Ok(AppendInfo {
                    base_offset: dup.base_offset,
                    // Kafka answers a retry with the timestamp it remembered for the batch (its
                    // max timestamp, or the append time), even on CreateTime topics.
                    log_append_time_ms: dup.append_time_ms,
                    log_start_offset: state.log_start_offset,
                });
            }
        }
        let base_offset = state.log_end_offset;
        let span = i64::from(header.last_offset_delta) + 1;
        set_base_offset(&mut batch, base_offset).map_err(|_| ErrorCode::CorruptMessage)?;
        set_partition_leader_epoch(&mut batch, state.leader_epoch)
            .map_err(|_| ErrorCode::CorruptMessage)?;
        let bytes = batch.freeze();
        state.size_bytes = state.size_bytes.saturating_add(bytes.len());
        state.batches.push_back(StoredBatch {
            base_offset,
            last_offset: base_offset + span - 1,
            max_timestamp: log_append_time.unwrap_or(header.max_timestamp),
            bytes,
        });
        state.log_end_offset = base_offset + span;
        if producer.is_idempotent() {
            state.producers.record(
                &producer,
                base_offset,
                log_append_time.unwrap_or(header.max_timestamp),
            );
        }
        apply_retention_bytes(&mut state, retention_bytes);
        let info = AppendInfo {
            base_offset,
            log_append_time_ms: log_append_time.unwrap_or(-1),
            log_start_offset: state.log_start_offset,
        };
        drop(state);
        self.wake();
        Ok(info)
    }
}

impl PartitionLog {
    /// Appends a transaction marker for `producer_id` (a control batch with one COMMIT or
    /// ABORT record, written by the coordinator or WriteTxnMarkers) and returns its offset.
    ///
    /// The producer's open transaction on this partition ends here: the last stable offset may
    /// move up to the next open one, and an abort enters the aborted-transaction index with the
    /// transaction's first offset, so read_committed consumers can skip its records. A marker
    /// for a producer with nothing open here is still written (Kafka writes one to every
    /// partition the transaction added, whether or not the producer wrote to it).
    pub(crate) fn append_marker(
        &self,
        producer_id: i64,
        producer_epoch: i16,
        marker: kafka_protocol::records::EndTransactionMarker,
        now_ms: i64,
    ) -> Result<i64, ErrorCode> {
        use kafka_protocol::records::{set_base_offset, set_partition_leader_epoch};

        let bytes = marker
            .encode_batch(producer_id, producer_epoch, now_ms)
            .map_err(|_| ErrorCode::UnknownServerError)?;
        let mut batch = BytesMut::from(&bytes[..]);
        let mut state = self.lock();
        if state.deleted {
            return Err(ErrorCode::UnknownTopicOrPartition);
        }
        state
            .producers
            .check_marker(producer_id, producer_epoch, marker.coordinator_epoch)?;
        let offset = state.log_end_offset;
        set_base_offset(&mut batch, offset).map_err(|_| ErrorCode::CorruptMessage)?;
        set_partition_leader_epoch(&mut batch, state.leader_epoch)
            .map_err(|_| ErrorCode::CorruptMessage)?;
        let bytes = batch.freeze();
        state.size_bytes = state.size_bytes.saturating_add(bytes.len());
        state.batches.push_back(StoredBatch {
            base_offset: offset,
            last_offset: offset,
            max_timestamp: now_ms,
            bytes,
        });
        state.log_end_offset = offset + 1;
        let first = state.producers.record_marker(
            producer_id,
            producer_epoch,
            marker.coordinator_epoch,
            now_ms,
        );
        if let (Some(first_offset), false) = (first, marker.committed) {
            state.aborted.push_back(AbortedTxn {
                producer_id,
                first_offset,
                last_offset: offset,
            });
        }
        drop(state);
        self.wake();
        Ok(offset)
    }
}
