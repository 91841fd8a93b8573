//! The record accumulator: per-partition queues of batches being filled or waiting to be sent.
//!
//! Records are appended to the last batch of their partition's queue until it reaches
//! `batch.size`. A queue's head batch is *ready* when it is full (or followed by another batch),
//! when it has waited `linger.ms`, when a flush is in progress, or when the producer is closing.
//! The sender drains ready heads per broker; each partition has at most one batch in flight, so
//! a retried batch goes back to the head of its queue and per-partition order holds under
//! retries (the simplest rule that keeps order with or without idempotence).
//!
//! Idempotence: a batch gets its base sequence when it is first drained, and keeps it across
//! retries, so the broker can recognise a resend of a batch it already wrote (KIP-98). After an
//! epoch bump (KIP-360) sequences restart at 0 and batches not yet written are restamped.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::records::{set_producer, Compression, RecordBatchBuilder};
use kafka_protocol::BrokerId;
use tokio::time::Instant;

use crate::delivery::{BatchCompletion, BatchOutcome, DeliveryFuture};
use crate::error::ProducerError;
use crate::partitioner::StickyPartitions;
use crate::record::ProducerRecord;

/// One batch of one partition.
#[derive(Debug)]
pub(crate) struct ProducerBatch {
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
    /// The records as appended, until the batch is first drained.
    builder: Option<RecordBatchBuilder>,
    /// The encoded batch, from its first drain on (resent as is on retry).
    pub(crate) encoded: Option<Bytes>,
    pub(crate) records: i32,
    /// Estimated bytes, held from `buffer.memory` until the batch completes.
    pub(crate) size: usize,
    pub(crate) created: Instant,
    pub(crate) deadline: Instant,
    pub(crate) completion: Arc<BatchCompletion>,
    pub(crate) attempts: u32,
    retry_at: Option<Instant>,
    /// The base sequence, once assigned (idempotence).
    pub(crate) sequence: Option<i32>,
    /// Bytes the records took before compression, once built: the batch's fill.
    pub(crate) filled: usize,
}

impl ProducerBatch {
    /// Completes every record of the batch.
    pub(crate) fn complete(&self, result: Result<BatchOutcome, ProducerError>) {
        self.completion.complete(result);
    }
}

#[derive(Debug)]
struct PartitionQueue {
    /// Shared by the queue's batches: a new batch costs no copy of the name.
    topic: Arc<str>,
    batches: VecDeque<ProducerBatch>,
    in_flight: bool,
    next_sequence: i32,
}

/// The settings the accumulator needs.
#[derive(Debug, Clone)]
pub(crate) struct AccumulatorSettings {
    pub(crate) batch_size: usize,
    pub(crate) linger: Duration,
    pub(crate) delivery_timeout: Duration,
    pub(crate) compression: Compression,
    pub(crate) compression_level: Option<i32>,
    /// Batches carry the transactional attribute (a `transactional.id` is set).
    pub(crate) transactional: bool,
}

/// What the sender should do now.
#[derive(Debug, Default)]
pub(crate) struct ReadyCheck {
    /// Brokers with at least one ready batch.
    pub(crate) ready: Vec<BrokerId>,
    /// Topics with a waiting batch but no known leader: refresh their metadata.
    pub(crate) unknown_leaders: Vec<String>,
    /// The earliest time a waiting batch becomes ready by itself.
    pub(crate) next_check: Option<Instant>,
}

/// The producer's per-partition queues.
#[derive(Debug)]
pub(crate) struct RecordAccumulator {
    settings: AccumulatorSettings,
    queues: HashMap<String, Vec<PartitionQueue>>,
    sticky: StickyPartitions,
    /// While positive, every batch is ready (flush or close in progress).
    flushing: usize,
    batches: usize,
    /// Buffers of finished batches, reused for new ones (as Java's `BufferPool`).
    free_buffers: Vec<Vec<u8>>,
    /// Completions of finished batches, reused once no future refers to them any more.
    spent_completions: Vec<Arc<BatchCompletion>>,
    /// Set when an append changed what the sender would decide (a new batch, whose linger
    /// deadline it does not know yet, or a full one): the producer wakes it only then, not
    /// once per record.
    sender_should_look: bool,
}

/// How many finished batch buffers are kept for reuse.
const MAX_FREE_BUFFERS: usize = 256;

impl RecordAccumulator {
    pub(crate) fn new(settings: AccumulatorSettings) -> Self {
        RecordAccumulator {
            settings,
            queues: HashMap::new(),
            sticky: StickyPartitions::default(),
            flushing: 0,
            batches: 0,
            free_buffers: Vec::new(),
            spent_completions: Vec::new(),
            sender_should_look: false,
        }
    }

    /// Batches queued or in flight.
    pub(crate) fn batch_count(&self) -> usize {
        self.batches
    }

    /// Starts (`true`) or ends a flush.
    pub(crate) fn set_flushing(&mut self, on: bool) {
        if on {
            self.flushing += 1;
        } else {
            self.flushing = self.flushing.saturating_sub(1);
        }
    }

    /// The sticky partition for a keyless record (KIP-794).
    pub(crate) fn sticky_partition(
        &mut self,
        topic: &str,
        partitions: i32,
        size: usize,
        available: impl FnOnce() -> Vec<i32>,
    ) -> i32 {
        let queues = self.queues.get(topic);
        let queued = |p: i32| {
            queues
                .and_then(|q| q.get(usize::try_from(p).ok()?))
                .map_or(0, |q| q.batches.len())
        };
        self.sticky.partition(
            topic,
            partitions,
            size,
            self.settings.batch_size,
            available,
            queued,
        )
    }

    /// Appends `record` to `partition`'s open batch (or a new one), returning its future.
    pub(crate) fn append(
        &mut self,
        record: &ProducerRecord,
        partition: i32,
        timestamp: i64,
        now: Instant,
    ) -> Result<DeliveryFuture, ProducerError> {
        let index = usize::try_from(partition).map_err(|_| ProducerError::UnknownPartition {
            topic: record.topic.to_string(),
            partition,
        })?;
        let size = record.estimated_size();
        let settings = &self.settings;
        let queues = match self.queues.get_mut(record.topic.as_str()) {
            Some(q) => q,
            None => self.queues.entry(record.topic.to_string()).or_default(),
        };
        if queues.len() <= index {
            let topic: Arc<str> = queues.first().map_or_else(
                || Arc::from(record.topic.as_str()),
                |q| Arc::clone(&q.topic),
            );
            queues.resize_with(index + 1, || PartitionQueue {
                topic: Arc::clone(&topic),
                batches: VecDeque::new(),
                in_flight: false,
                next_sequence: 0,
            });
        }
        let queue = &mut queues[index];
        // Fullness is judged by the bytes actually encoded so far (the record's estimate is an
        // upper bound), so batches fill to `batch.size` as Java's do.
        let fits = queue.batches.back().is_some_and(|b| {
            b.builder.as_ref().is_some_and(|builder| {
                b.records == 0 || builder.uncompressed_size() + size <= settings.batch_size
            })
        });
        if !fits {
            let mut builder = match self.free_buffers.pop() {
                Some(buf) => RecordBatchBuilder::with_buffer(settings.compression, buf),
                None => RecordBatchBuilder::with_capacity(
                    settings.compression,
                    settings.batch_size.max(size).min(1 << 20),
                ),
            };
            if let Some(level) = settings.compression_level {
                builder = builder.with_compression_level(level);
            }
            builder = builder.with_transactional(settings.transactional);
            queue.batches.push_back(ProducerBatch {
                topic: Arc::clone(&queue.topic),
                partition,
                builder: Some(builder),
                encoded: None,
                records: 0,
                size: 0,
                created: now,
                deadline: now + settings.delivery_timeout,
                completion: reuse_completion(&mut self.spent_completions),
                attempts: 0,
                retry_at: None,
                sequence: None,
                filled: 0,
            });
            self.batches += 1;
        }
        let batch = queue
            .batches
            .back_mut()
            .ok_or_else(|| ProducerError::Encode("no open batch".into()))?;
        let builder = batch
            .builder
            .as_mut()
            .ok_or_else(|| ProducerError::Encode("batch already closed".into()))?;
        builder
            .append(
                timestamp,
                record.key.as_deref(),
                record.value.as_deref(),
                &record.headers,
            )
            .map_err(|e| ProducerError::Encode(e.to_string()))?;
        let index = batch.records as usize;
        batch.records += 1;
        batch.size += size;
        let full = batch
            .builder
            .as_ref()
            .is_some_and(|b| b.uncompressed_size() >= settings.batch_size);
        self.sender_should_look |= !fits || full;
        Ok(DeliveryFuture::new(
            Arc::clone(&batch.completion),
            index,
            timestamp,
        ))
    }

    /// Whether appends since the last call need the sender's attention (see
    /// `sender_should_look`); clears the flag.
    pub(crate) fn take_sender_wakeup(&mut self) -> bool {
        std::mem::take(&mut self.sender_should_look)
    }

    /// Which brokers have ready batches; expires batches past `delivery.timeout.ms` (returned
    /// so the caller can release their memory).
    pub(crate) fn ready(
        &mut self,
        now: Instant,
        leader: impl Fn(&str, i32) -> Option<BrokerId>,
        expired: &mut Vec<ProducerBatch>,
    ) -> ReadyCheck {
        let mut check = ReadyCheck::default();
        let linger = self.settings.linger;
        let batch_size = self.settings.batch_size;
        let flushing = self.flushing > 0;
        for (topic, queues) in &mut self.queues {
            for (p, q) in queues.iter_mut().enumerate() {
                // Expire from the head while nothing is in flight: order is kept, as a later
                // batch cannot be delivered before an earlier one that timed out.
                while !q.in_flight && q.batches.front().is_some_and(|b| now >= b.deadline) {
                    if let Some(b) = q.batches.pop_front() {
                        expired.push(b);
                        self.batches -= 1;
                    }
                }
                if q.in_flight {
                    continue;
                }
                let Some(head) = q.batches.front() else {
                    continue;
                };
                let partition = p as i32;
                let full = q.batches.len() > 1 || head.size >= batch_size || head.builder.is_none();
                let linger_at = head.created + linger;
                let due = full || flushing || now >= linger_at;
                let backed_off = head.retry_at.is_some_and(|at| now < at);
                if !due || backed_off {
                    let at = if backed_off {
                        head.retry_at.unwrap_or(linger_at)
                    } else {
                        linger_at
                    };
                    check.next_check = Some(check.next_check.map_or(at, |n| n.min(at)));
                    continue;
                }
                match leader(topic, partition) {
                    Some(b) => {
                        if !check.ready.contains(&b) {
                            check.ready.push(b);
                        }
                    }
                    None => {
                        if !check.unknown_leaders.contains(topic) {
                            check.unknown_leaders.push(topic.clone());
                        }
                    }
                }
            }
        }
        check
    }

    /// Takes the ready head batch of every partition `broker` leads, up to `max_bytes` in
    /// total (the first always), encoding each on its first drain. `producer` is the
    /// idempotent producer's (id, epoch).
    pub(crate) fn drain(
        &mut self,
        broker: BrokerId,
        now: Instant,
        max_bytes: usize,
        leader: impl Fn(&str, i32) -> Option<BrokerId>,
        producer: Option<(i64, i16)>,
    ) -> Vec<ProducerBatch> {
        let linger = self.settings.linger;
        let batch_size = self.settings.batch_size;
        let flushing = self.flushing > 0;
        let mut out = Vec::new();
        let mut total = 0usize;
        for (topic, queues) in &mut self.queues {
            for (p, q) in queues.iter_mut().enumerate() {
                let partition = p as i32;
                if q.in_flight || leader(topic, partition) != Some(broker) {
                    continue;
                }
                let Some(head) = q.batches.front() else {
                    continue;
                };
                let full = q.batches.len() > 1 || head.size >= batch_size || head.builder.is_none();
                let due = full || flushing || now >= head.created + linger;
                if !due || head.retry_at.is_some_and(|at| now < at) {
                    continue;
                }
                if !out.is_empty() && total + head.size > max_bytes {
                    continue;
                }
                let Some(mut batch) = q.batches.pop_front() else {
                    continue;
                };
                if let Err(e) = encode(&mut batch, &mut q.next_sequence, producer) {
                    batch.complete(Err(e));
                    self.batches -= 1;
                    continue;
                }
                total += batch.size;
                q.in_flight = true;
                out.push(batch);
            }
        }
        out
    }

    /// A drained batch finished (delivered or failed for good): its partition may send again.
    pub(crate) fn finished(&mut self, batch: &ProducerBatch) {
        if let Some(q) = self.queue(&batch.topic, batch.partition) {
            q.in_flight = false;
        }
        self.batches -= 1;
    }

    /// A drained batch is to be retried after `backoff`: back at the head of its queue.
    pub(crate) fn retry(&mut self, mut batch: ProducerBatch, now: Instant, backoff: Duration) {
        batch.attempts += 1;
        batch.retry_at = Some(now + backoff);
        let (topic, partition) = (batch.topic.clone(), batch.partition);
        if let Some(q) = self.queue(&topic, partition) {
            q.in_flight = false;
            q.batches.push_front(batch);
        }
    }

    /// Splits a batch the broker refused as too large into two halves, which take its place at
    /// the head of its queue; its futures follow their records into the halves. Gives the
    /// batch back (`Some`) if it cannot be split (one record, or bytes that do not decode).
    pub(crate) fn split(&mut self, batch: ProducerBatch) -> Option<ProducerBatch> {
        let Some(records) = batch.encoded.clone().and_then(|mut bytes| {
            let decoded = kafka_protocol::records::RecordBatch::decode(&mut bytes).ok()?;
            decoded.records().collect::<Result<Vec<_>, _>>().ok()
        }) else {
            return Some(batch);
        };
        if records.len() < 2 {
            return Some(batch);
        }
        let mid = records.len() / 2;
        let mut halves = Vec::with_capacity(2);
        for (start, part) in [(0, &records[..mid]), (mid, &records[mid..])] {
            let mut builder = RecordBatchBuilder::with_capacity(
                self.settings.compression,
                batch.encoded.as_ref().map_or(0, Bytes::len) / 2,
            )
            .with_transactional(self.settings.transactional);
            if let Some(level) = self.settings.compression_level {
                builder = builder.with_compression_level(level);
            }
            for r in part {
                let appended = builder.append(
                    r.timestamp,
                    r.key.as_deref(),
                    r.value.as_deref(),
                    &r.headers,
                );
                if appended.is_err() {
                    return Some(batch);
                }
            }
            halves.push(ProducerBatch {
                topic: Arc::clone(&batch.topic),
                partition: batch.partition,
                builder: Some(builder),
                encoded: None,
                records: part.len() as i32,
                size: batch.size * part.len() / records.len(),
                created: batch.created,
                deadline: batch.deadline,
                completion: Arc::new(BatchCompletion::default()),
                attempts: batch.attempts,
                retry_at: None,
                // The halves keep the sequence range the whole batch had (it was not written).
                sequence: batch
                    .sequence
                    .map(|s| s.wrapping_add(start as i32) & i32::MAX),
                filled: 0,
            });
        }
        // Sizes were split by record count; the rounding remainder goes to the last half.
        let assigned: usize = halves.iter().map(|h| h.size).sum();
        if let Some(last) = halves.last_mut() {
            last.size += batch.size - assigned;
        }
        let Some(queue) = self.queue(&batch.topic, batch.partition) else {
            return Some(batch);
        };
        batch.completion.split_into(vec![
            (0, Arc::clone(&halves[0].completion)),
            (mid, Arc::clone(&halves[1].completion)),
        ]);
        queue.in_flight = false;
        for half in halves.into_iter().rev() {
            queue.batches.push_front(half);
        }
        self.batches += 1;
        None
    }

    /// Keeps a finished batch's completion, to reuse when its futures are gone.
    pub(crate) fn recycle_completion(&mut self, completion: Arc<BatchCompletion>) {
        if self.spent_completions.len() < MAX_FREE_BUFFERS {
            self.spent_completions.push(completion);
        }
    }

    /// Keeps a finished batch's buffer for a new batch.
    pub(crate) fn recycle(&mut self, buf: Vec<u8>) {
        // A returned buffer's capacity is about its batch's encoded size, which is below
        // `batch.size` (sizes are estimated from above); it grows if a batch needs more.
        if self.free_buffers.len() < MAX_FREE_BUFFERS
            && buf.capacity() >= self.settings.batch_size / 2
        {
            self.free_buffers.push(buf);
        }
    }

    /// After a producer epoch bump (KIP-360): sequences restart at 0 on every partition, and
    /// queued batches that already have one are restamped when next drained.
    pub(crate) fn reset_sequences(&mut self) {
        for queues in self.queues.values_mut() {
            for q in queues {
                q.next_sequence = 0;
                for b in &mut q.batches {
                    b.sequence = None;
                }
            }
        }
    }

    /// Removes every queued batch (on close): the caller fails them.
    pub(crate) fn take_all(&mut self) -> Vec<ProducerBatch> {
        let mut out = Vec::new();
        for queues in self.queues.values_mut() {
            for q in queues {
                out.extend(q.batches.drain(..));
            }
        }
        self.batches -= out.len();
        out
    }

    fn queue(&mut self, topic: &str, partition: i32) -> Option<&mut PartitionQueue> {
        self.queues
            .get_mut(topic)?
            .get_mut(usize::try_from(partition).ok()?)
    }
}

/// A completion for a new batch: a spent one that no future holds any more, reset, or a new one.
fn reuse_completion(spent: &mut Vec<Arc<BatchCompletion>>) -> Arc<BatchCompletion> {
    // Look at a few from the end only: futures are usually dropped in batch order, so the
    // oldest completions free up first, and a bounded scan keeps appends cheap.
    let start = spent.len().saturating_sub(4);
    for i in (start..spent.len()).rev() {
        if let Some(c) = Arc::get_mut(&mut spent[i]) {
            *c = BatchCompletion::default();
            return spent.swap_remove(i);
        }
    }
    if let Some(first) = spent.first_mut() {
        if let Some(c) = Arc::get_mut(first) {
            *c = BatchCompletion::default();
            return spent.swap_remove(0);
        }
    }
    Arc::new(BatchCompletion::default())
}

/// Encodes `batch` if it is still open, and gives it a sequence if it has none.
fn encode(
    batch: &mut ProducerBatch,
    next_sequence: &mut i32,
    producer: Option<(i64, i16)>,
) -> Result<(), ProducerError> {
    let stamp = match (producer, batch.sequence) {
        // A half of a split batch: its sequence was given when it was split.
        (Some((id, epoch)), Some(seq)) if batch.builder.is_some() => Some((id, epoch, seq)),
        (Some((id, epoch)), None) => {
            let seq = *next_sequence;
            // Sequences wrap at i32::MAX, as the broker expects.
            *next_sequence = if i32::MAX - seq < batch.records {
                batch.records - (i32::MAX - seq) - 1
            } else {
                seq + batch.records
            };
            batch.sequence = Some(seq);
            Some((id, epoch, seq))
        }
        _ => None,
    };
    let failed = |e: &dyn std::fmt::Display| ProducerError::Encode(e.to_string());
    if let Some(builder) = &batch.builder {
        batch.filled = builder.uncompressed_size();
    }
    match (batch.builder.take(), stamp) {
        // First drain: the producer fields go in before the header and CRC are written.
        (Some(builder), Some((id, epoch, seq))) => {
            let built = builder.with_producer(id, epoch, seq).build();
            batch.encoded = Some(built.map_err(|e| failed(&e))?);
        }
        (Some(builder), None) => {
            batch.encoded = Some(builder.build().map_err(|e| failed(&e))?);
        }
        // Built under an epoch since replaced (KIP-360): restamp the bytes.
        (None, Some((id, epoch, seq))) => {
            let mut bytes = batch.encoded.take().unwrap_or_default().to_vec();
            set_producer(&mut bytes, id, epoch, seq).map_err(|e| failed(&e))?;
            batch.encoded = Some(Bytes::from(bytes));
        }
        (None, None) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::records::RecordBatch;

    fn acc(linger_ms: u64, batch_size: usize) -> RecordAccumulator {
        RecordAccumulator::new(AccumulatorSettings {
            batch_size,
            linger: Duration::from_millis(linger_ms),
            delivery_timeout: Duration::from_secs(120),
            compression: Compression::None,
            compression_level: None,
            transactional: false,
        })
    }

    fn rec(v: &str) -> ProducerRecord {
        ProducerRecord::new("t").with_value(v.to_string())
    }

    #[tokio::test(start_paused = true)]
    async fn batches_wait_for_linger_unless_full() {
        let mut a = acc(5, 1_000);
        let now = Instant::now();
        let _f = a.append(&rec("x"), 0, 1, now).unwrap();
        let leader = |_: &str, _: i32| Some(BrokerId(1));
        let mut expired = Vec::new();
        let check = a.ready(now, leader, &mut expired);
        assert!(check.ready.is_empty());
        assert_eq!(check.next_check, Some(now + Duration::from_millis(5)));
        let later = now + Duration::from_millis(5);
        assert_eq!(
            a.ready(later, leader, &mut expired).ready,
            vec![BrokerId(1)]
        );
        // A full batch is ready at once.
        let mut b = acc(5_000, 100);
        for _ in 0..4 {
            drop(b.append(&rec("0123456789"), 0, 1, now).unwrap());
        }
        assert_eq!(b.ready(now, leader, &mut expired).ready, vec![BrokerId(1)]);
    }

    #[tokio::test(start_paused = true)]
    async fn one_batch_in_flight_per_partition_and_retries_go_first() {
        let mut a = acc(0, 60);
        let now = Instant::now();
        for i in 0..6 {
            drop(a.append(&rec(&format!("v{i}")), 0, 1, now).unwrap());
        }
        let leader = |_: &str, _: i32| Some(BrokerId(1));
        let first = a.drain(BrokerId(1), now, 1 << 20, leader, Some((7, 0)));
        assert_eq!(first.len(), 1);
        assert!(a
            .drain(BrokerId(1), now, 1 << 20, leader, Some((7, 0)))
            .is_empty());
        let b = first.into_iter().next().unwrap();
        let (seq, records) = (b.sequence, b.records);
        assert_eq!(seq, Some(0));
        a.retry(b, now, Duration::from_millis(100));
        assert!(
            a.drain(BrokerId(1), now, 1 << 20, leader, Some((7, 0)))
                .is_empty(),
            "backing off"
        );
        let later = now + Duration::from_millis(100);
        let again = a.drain(BrokerId(1), later, 1 << 20, leader, Some((7, 0)));
        assert_eq!(again[0].sequence, Some(0), "a retry keeps its sequence");
        a.finished(&again[0]);
        let next = a.drain(BrokerId(1), later, 1 << 20, leader, Some((7, 0)));
        assert_eq!(
            next[0].sequence,
            Some(records),
            "the next batch continues the sequence"
        );
        let decoded = RecordBatch::decode(&mut next[0].encoded.clone().unwrap()).unwrap();
        assert_eq!(decoded.header().producer_id, 7);
        assert_eq!(decoded.header().base_sequence, records);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_batches_are_handed_back() {
        let mut a = acc(1_000_000, 1 << 20);
        let now = Instant::now();
        drop(a.append(&rec("x"), 0, 1, now).unwrap());
        let mut expired = Vec::new();
        a.ready(now + Duration::from_secs(121), |_, _| None, &mut expired);
        assert_eq!(expired.len(), 1);
        assert_eq!(a.batch_count(), 0);
    }
}
