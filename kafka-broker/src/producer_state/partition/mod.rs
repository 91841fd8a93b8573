//! Per-partition sequence state of idempotent producers (KIP-98), as Kafka's leader keeps it.
//!
//! For every producer id that wrote to the partition we remember its current epoch and the first
//! sequence, last sequence and offsets of its last [`BATCHES_TO_RETAIN`] batches. A new batch is
//! then exactly one of: a retry of a remembered batch (acknowledged with the original offsets), the
//! next batch in sequence (appended), or an error the producer must handle.

use std::collections::{HashMap, VecDeque};

use kafka_protocol::records::RecordBatchHeader;
use kafka_protocol::ErrorCode;

use super::BATCHES_TO_RETAIN;

/// Default cap on the producer ids one partition tracks; see
/// [`PartitionProducerState::with_max_producers`].
pub const DEFAULT_MAX_PRODUCERS_PER_PARTITION: usize = 10_000;

/// The producer fields of one record batch, as the Produce path sees them before appending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerBatch {
    /// The batch's producer id; negative (normally `-1`) for a producer that is not idempotent.
    pub producer_id: i64,
    /// The batch's producer epoch.
    pub producer_epoch: i16,
    /// Sequence number of the batch's first record.
    pub base_sequence: i32,
    /// Number of records (offsets) the batch spans, i.e. `lastOffsetDelta + 1`.
    pub record_count: i32,
    /// Whether the batch is part of a transaction (attributes bit 4).
    pub transactional: bool,
}

impl ProducerBatch {
    /// Reads the producer fields of a decoded batch header.
    ///
    /// The span is taken from `lastOffsetDelta`, as Kafka does: it is what decides the offsets the
    /// batch occupies and the sequence number of its last record.
    pub fn from_header(header: &RecordBatchHeader) -> Self {
        Self {
            producer_id: header.producer_id,
            producer_epoch: header.producer_epoch,
            base_sequence: header.base_sequence,
            record_count: header.last_offset_delta.saturating_add(1),
            transactional: header.is_transactional(),
        }
    }

    /// Whether the batch comes from an idempotent (or transactional) producer and so is checked.
    ///
    /// Like Kafka, any producer id below zero means "no producer id".
    pub fn is_idempotent(&self) -> bool {
        self.producer_id >= 0
    }

    /// Sequence number of the batch's last record.
    ///
    /// Sequences are non-negative `i32`s that wrap from `i32::MAX` to `0` (KIP-98), so a batch
    /// starting near `i32::MAX` ends at a small number. Meaningful only for a valid batch
    /// (`base_sequence >= 0`, `record_count >= 1`); other values give an unspecified result.
    pub fn last_sequence(&self) -> i32 {
        let delta = i64::from(self.record_count.max(1)) - 1;
        increment_sequence(self.base_sequence, delta)
    }
}

/// `sequence + delta` in the wrapping sequence space `0..=i32::MAX`.
fn increment_sequence(sequence: i32, delta: i64) -> i32 {
    let space = i64::from(i32::MAX) + 1;
    let next = (i64::from(sequence.max(0)) + delta.max(0)) % space;
    // `next` is in 0..=i32::MAX by construction.
    i32::try_from(next).unwrap_or(0)
}

/// Whether `next` directly follows `last` in the wrapping sequence space.
fn in_sequence(last: i32, next: i32) -> bool {
    increment_sequence(last, 1) == next
}

/// What the caller must do with a batch that passed [`PartitionProducerState::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendDecision {
    /// Append the batch to the log, then call [`PartitionProducerState::record`] with its offset.
    Append,
    /// The batch is a retry of one already in the log: do not append it; answer the Produce
    /// request with these original offsets and no error.
    Duplicate(DuplicateBatch),
}

/// Where a batch that turned out to be a retry was first appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateBatch {
    /// Offset of the original batch's first record: the `base_offset` of the Produce response.
    pub base_offset: i64,
    /// Offset of the original batch's last record.
    pub last_offset: i64,
    /// The timestamp recorded with the original batch (its max timestamp, or its append time on
    /// LogAppendTime topics), which Kafka returns as the retry's `log_append_time_ms`.
    pub append_time_ms: i64,
}

/// One remembered batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BatchMetadata {
    first_sequence: i32,
    last_sequence: i32,
    base_offset: i64,
    last_offset: i64,
    append_time_ms: i64,
}

/// What the partition knows about one producer id.
#[derive(Debug, Clone)]
struct ProducerEntry {
    producer_epoch: i16,
    /// The last batches of `producer_epoch`, oldest first; never empty while the entry exists.
    batches: VecDeque<BatchMetadata>,
    last_append_time_ms: i64,
    /// Epoch of the transaction coordinator that wrote this producer's last marker, or -1.
    coordinator_epoch: i32,
    /// Offset of the first batch of the producer's open transaction on this partition: the
    /// last stable offset cannot pass it until a marker closes the transaction.
    current_txn_first_offset: Option<i64>,
}

impl ProducerEntry {
    fn last_batch(&self) -> Option<&BatchMetadata> {
        self.batches.back()
    }

    /// The remembered batch with exactly this sequence range, if any.
    ///
    /// Kafka matches retries on both ends of the range: a retry re-sends the same batch, so a
    /// batch that merely overlaps a remembered one is not a duplicate but out of order.
    fn find_duplicate(&self, batch: &ProducerBatch) -> Option<&BatchMetadata> {
        if batch.producer_epoch != self.producer_epoch {
            return None;
        }
        let last_sequence = batch.last_sequence();
        self.batches
            .iter()
            .find(|b| b.first_sequence == batch.base_sequence && b.last_sequence == last_sequence)
    }
}

/// A read-only view of what a partition remembers about one producer id (e.g. for
/// `DescribeProducers` or tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerEntrySnapshot {
    /// The producer id.
    pub producer_id: i64,
    /// The epoch of the producer's latest batch.
    pub producer_epoch: i16,
    /// Sequence number of the last record of its latest batch.
    pub last_sequence: i32,
    /// Offset of the last record of its latest batch.
    pub last_offset: i64,
    /// `append_time_ms` of its latest batch.
    pub last_append_time_ms: i64,
    /// How many of its batches are remembered (at most [`BATCHES_TO_RETAIN`]).
    pub retained_batches: usize,
    /// Epoch of the coordinator that wrote its last transaction marker, or -1.
    pub coordinator_epoch: i32,
    /// First offset of its open transaction on this partition, if one is open.
    pub current_txn_first_offset: Option<i64>,
}

/// Sequence state of every idempotent producer that wrote to one partition.
///
/// Owned by the partition's log and used under the same lock as appends, so that nothing is
/// appended between [`check`](Self::check) and [`record`](Self::record). Memory is bounded: at
/// most [`BATCHES_TO_RETAIN`] batches per producer, and at most `max_producers` producers (the
/// least recently appending one is forgotten first; its next batch then starts afresh, at any
/// sequence).
#[derive(Debug, Clone)]
pub struct PartitionProducerState {
    producers: HashMap<i64, ProducerEntry>,
    max_producers: usize,
}

impl Default for PartitionProducerState {
    fn default() -> Self {
        Self::new()
    }
}

impl PartitionProducerState {
    /// Empty state tracking up to [`DEFAULT_MAX_PRODUCERS_PER_PARTITION`] producer ids.
    pub fn new() -> Self {
        Self::with_max_producers(DEFAULT_MAX_PRODUCERS_PER_PARTITION)
    }

    /// Empty state tracking at most `max_producers` producer ids (at least one).
    ///
    /// Kafka bounds this set only by time (`producer.id.expiration.ms`, see
    /// [`remove_expired`](Self::remove_expired)); the cap keeps a test broker's memory bounded
    /// even when a client creates producers in a loop.
    pub fn with_max_producers(max_producers: usize) -> Self {
        Self {
            producers: HashMap::new(),
            max_producers: max_producers.max(1),
        }
    }

    /// Validates a batch about to be appended, without changing any state.
    ///
    /// Batches without a producer id are always [`AppendDecision::Append`]. For the others, in
    /// Kafka's order:
    /// * a producer id, epoch, sequence or record count outside its valid range →
    ///   `INVALID_RECORD`;
    /// * a retry of one of the producer's last [`BATCHES_TO_RETAIN`] batches of the current epoch
    ///   (same first and last sequence) → [`AppendDecision::Duplicate`];
    /// * an epoch older than the partition's → `INVALID_PRODUCER_EPOCH` (a zombie instance; Kafka
    ///   answers Produce with this code even where transactions use `PRODUCER_FENCED`);
    /// * a newer epoch must start at sequence 0, else `OUT_OF_ORDER_SEQUENCE_NUMBER`;
    /// * the current epoch must continue right after the last sequence (wrapping from `i32::MAX`
    ///   to 0), else `OUT_OF_ORDER_SEQUENCE_NUMBER`;
    /// * a producer id this partition does not know (never seen, or forgotten after
    ///   `DeleteRecords`, truncation or expiry) may start at any sequence: the broker has no
    ///   sequence to compare with, and Kafka (since KIP-360) accepts the batch rather than answer
    ///   `UNKNOWN_PRODUCER_ID`.
    pub fn check(&self, batch: &ProducerBatch) -> Result<AppendDecision, ErrorCode> {
        if !batch.is_idempotent() {
            return Ok(AppendDecision::Append);
        }
        if batch.producer_epoch < 0 || batch.base_sequence < 0 || batch.record_count < 1 {
            return Err(ErrorCode::InvalidRecord);
        }
        let Some(entry) = self.producers.get(&batch.producer_id) else {
            return Ok(AppendDecision::Append);
        };
        if let Some(original) = entry.find_duplicate(batch) {
            return Ok(AppendDecision::Duplicate(DuplicateBatch {
                base_offset: original.base_offset,
                last_offset: original.last_offset,
                append_time_ms: original.append_time_ms,
            }));
        }
        if batch.producer_epoch < entry.producer_epoch {
            return Err(ErrorCode::InvalidProducerEpoch);
        }
        if batch.producer_epoch > entry.producer_epoch {
            // A bumped epoch (InitProducerId or the client's own KIP-360 bump) restarts sequences.
            return if batch.base_sequence == 0 {
                Ok(AppendDecision::Append)
            } else {
                Err(ErrorCode::OutOfOrderSequenceNumber)
            };
        }
        match entry.last_batch() {
            Some(last) if !in_sequence(last.last_sequence, batch.base_sequence) => {
                Err(ErrorCode::OutOfOrderSequenceNumber)
            }
            _ => Ok(AppendDecision::Append),
        }
    }

    /// Records a batch that [`check`](Self::check) accepted with [`AppendDecision::Append`] and
    /// that the log then appended at `base_offset`, at broker time `append_time_ms` (milliseconds
    /// since the epoch, used for expiry and for duplicates' `log_append_time_ms`).
    ///
    /// Batches without a producer id are ignored. A batch of a newer epoch replaces the
    /// remembered batches of the older one; beyond [`BATCHES_TO_RETAIN`], the oldest is dropped.
    pub fn record(&mut self, batch: &ProducerBatch, base_offset: i64, append_time_ms: i64) {
        if !batch.is_idempotent() {
            return;
        }
        if !self.producers.contains_key(&batch.producer_id)
            && self.producers.len() >= self.max_producers
        {
            self.evict_least_recently_used();
        }
        let entry = self
            .producers
            .entry(batch.producer_id)
            .or_insert_with(|| ProducerEntry {
                producer_epoch: batch.producer_epoch,
                batches: VecDeque::with_capacity(BATCHES_TO_RETAIN),
                last_append_time_ms: append_time_ms,
                coordinator_epoch: -1,
                current_txn_first_offset: None,
            });
        if entry.producer_epoch != batch.producer_epoch {
            entry.producer_epoch = batch.producer_epoch;
            entry.batches.clear();
        }
        let span = i64::from(batch.record_count.max(1)) - 1;
        entry.batches.push_back(BatchMetadata {
            first_sequence: batch.base_sequence,
            last_sequence: batch.last_sequence(),
            base_offset,
            last_offset: base_offset.saturating_add(span),
            append_time_ms,
        });
        while entry.batches.len() > BATCHES_TO_RETAIN {
            entry.batches.pop_front();
        }
        entry.last_append_time_ms = append_time_ms;
        if batch.transactional && entry.current_txn_first_offset.is_none() {
            entry.current_txn_first_offset = Some(base_offset);
        }
    }

    /// Checks a transaction marker (a control batch from the coordinator or WriteTxnMarkers)
    /// before it is appended: its producer epoch may not be older than the partition's, as for
    /// any batch (a marker of a fenced epoch is a zombie's), nor its coordinator epoch older than
    /// that of the producer's last marker (a zombie coordinator's, as Kafka's
    /// `TRANSACTION_COORDINATOR_FENCED`).
    pub fn check_marker(
        &self,
        producer_id: i64,
        producer_epoch: i16,
        coordinator_epoch: i32,
    ) -> Result<(), ErrorCode> {
        match self.producers.get(&producer_id) {
            Some(entry) if producer_epoch < entry.producer_epoch => {
                Err(ErrorCode::InvalidProducerEpoch)
            }
            Some(entry) if coordinator_epoch < entry.coordinator_epoch => {
                Err(ErrorCode::TransactionCoordinatorFenced)
            }
            _ => Ok(()),
        }
    }

    /// Records a marker that [`check_marker`](Self::check_marker) accepted and the log appended
    /// at `offset`: the producer's open transaction here (if any) is closed, and its first offset
    /// returned, for the aborted-transactions index. A marker of a newer epoch (the coordinator
    /// fenced the producer, KIP-360/KIP-890) moves the producer to that epoch, so the fenced
    /// instance's next batch fails with `INVALID_PRODUCER_EPOCH` and the next instance starts at
    /// sequence 0.
    pub fn record_marker(
        &mut self,
        producer_id: i64,
        producer_epoch: i16,
        coordinator_epoch: i32,
        append_time_ms: i64,
    ) -> Option<i64> {
        if !self.producers.contains_key(&producer_id) && self.producers.len() >= self.max_producers
        {
            self.evict_least_recently_used();
        }
        let entry = self
            .producers
            .entry(producer_id)
            .or_insert_with(|| ProducerEntry {
                producer_epoch,
                batches: VecDeque::new(),
                last_append_time_ms: append_time_ms,
                coordinator_epoch,
                current_txn_first_offset: None,
            });
        if producer_epoch > entry.producer_epoch {
            entry.producer_epoch = producer_epoch;
            entry.batches.clear();
        }
        entry.coordinator_epoch = coordinator_epoch;
        entry.last_append_time_ms = append_time_ms;
        entry.current_txn_first_offset.take()
    }

    /// The first offset of the oldest transaction still open on this partition: the last stable
    /// offset, when it is below the high watermark.
    pub fn first_unstable_offset(&self) -> Option<i64> {
        self.producers
            .values()
            .filter_map(|e| e.current_txn_first_offset)
            .min()
    }

    fn evict_least_recently_used(&mut self) {
        let oldest = self
            .producers
            .iter()
            .min_by_key(|(id, entry)| (entry.last_append_time_ms, **id))
            .map(|(id, _)| *id);
        if let Some(id) = oldest {
            self.producers.remove(&id);
        }
    }

    /// Forgets the producers whose latest batch lies wholly before the new log start offset, after
    /// `DeleteRecords` or retention moved it forward.
    ///
    /// As in Kafka, a producer with any batch at or after the log start keeps all its remembered
    /// batches, so a late retry of a deleted batch is still acknowledged rather than re-appended.
    pub fn truncate_head(&mut self, log_start_offset: i64) {
        self.producers.retain(|_, entry| {
            entry.current_txn_first_offset.is_some()
                || entry
                    .last_batch()
                    .is_some_and(|last| last.last_offset >= log_start_offset)
        });
    }

    /// Forgets the batches at or after `log_end_offset` after the log's tail was truncated (e.g.
    /// by a leader change), and the producers left with no batch.
    ///
    /// Kafka rebuilds this state by re-reading the log, which may still hold a forgotten
    /// producer's older batches; we keep only the last few, so such a producer becomes unknown
    /// and must restart at sequence 0 (its client resets on `UNKNOWN_PRODUCER_ID`).
    pub fn truncate_tail(&mut self, log_end_offset: i64) {
        self.producers.retain(|_, entry| {
            entry.batches.retain(|b| b.last_offset < log_end_offset);
            if entry
                .current_txn_first_offset
                .is_some_and(|first| first >= log_end_offset)
            {
                entry.current_txn_first_offset = None;
            }
            !entry.batches.is_empty() || entry.current_txn_first_offset.is_some()
        });
    }

    /// Forgets the producers that appended nothing for `expiration_ms` (Kafka's
    /// `producer.id.expiration.ms`, one day by default) as of `now_ms`.
    #[cfg(test)]
    pub fn remove_expired(&mut self, now_ms: i64, expiration_ms: i64) {
        self.producers
            .retain(|_, entry| now_ms.saturating_sub(entry.last_append_time_ms) < expiration_ms);
    }

    /// What the partition remembers about `producer_id`, if anything.
    pub fn producer(&self, producer_id: i64) -> Option<ProducerEntrySnapshot> {
        let entry = self.producers.get(&producer_id)?;
        // A producer known only from a marker has no sequence yet (-1, as Kafka reports it).
        let (last_sequence, last_offset) = entry
            .last_batch()
            .map_or((-1, -1), |last| (last.last_sequence, last.last_offset));
        Some(ProducerEntrySnapshot {
            producer_id,
            producer_epoch: entry.producer_epoch,
            last_sequence,
            last_offset,
            last_append_time_ms: entry.last_append_time_ms,
            retained_batches: entry.batches.len(),
            coordinator_epoch: entry.coordinator_epoch,
            current_txn_first_offset: entry.current_txn_first_offset,
        })
    }

    /// Every producer the partition remembers, in no particular order.
    pub fn producers(&self) -> impl Iterator<Item = ProducerEntrySnapshot> + '_ {
        self.producers.keys().filter_map(|id| self.producer(*id))
    }

    /// Number of producer ids remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.producers.len()
    }

    /// Whether no producer id is remembered.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }
}

#[cfg(test)]
mod tests;
