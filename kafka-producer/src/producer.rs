//! [`Producer`]: the handle applications send records through.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kafka_client::Client;
use kafka_protocol::{BrokerId, ErrorCode};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::accumulator::{AccumulatorSettings, ProducerBatch, RecordAccumulator};
use crate::config::ProducerConfig;
use crate::delivery::DeliveryFuture;
use crate::error::{ProducerError, Result};
use crate::partitioner::{
    partition_for_key, Partitioner, PartitionerChoice, RoundRobinPartitioner,
};
use crate::record::ProducerRecord;
use crate::sender;
use crate::transaction::TransactionManager;

/// Counters readable while the producer runs.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) records_sent: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) batches_sent: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) request_latency_us_total: AtomicU64,
    /// Uncompressed bytes of acknowledged batches, for the fill ratio.
    pub(crate) batch_fill_total: AtomicU64,
}

/// A snapshot of the producer's metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ProducerMetrics {
    /// Records acknowledged (or written, with acks=0).
    pub records_sent: u64,
    /// Bytes of record batches acknowledged.
    pub bytes_sent: u64,
    /// Batches acknowledged.
    pub batches_sent: u64,
    /// ProduceRequests answered.
    pub requests: u64,
    /// Batches sent again after a retriable error.
    pub retries: u64,
    /// Batches failed for good.
    pub errors: u64,
    /// Mean ProduceRequest latency in microseconds.
    pub mean_request_latency_us: u64,
    /// Mean size of an acknowledged batch, in bytes as sent (after compression).
    pub mean_batch_bytes: u64,
    /// Mean fill of an acknowledged batch before compression, in percent of `batch.size`.
    pub mean_batch_fill_percent: u64,
    /// Bytes of `buffer.memory` in use.
    pub buffer_used: u64,
}

/// State shared by the producer handle and its sender task.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: ProducerConfig,
    pub(crate) client: Client,
    pub(crate) accumulator: Mutex<RecordAccumulator>,
    /// Wakes the sender: a batch may be ready, or a request finished.
    pub(crate) wake: Notify,
    /// Signals that batches finished (for `flush`).
    pub(crate) progress: Notify,
    pub(crate) buffer: Semaphore,
    pub(crate) buffer_capacity: usize,
    /// The idempotent producer's (id, epoch), once InitProducerId answered.
    pub(crate) producer_id: Mutex<Option<(i64, i16)>>,
    pub(crate) closing: AtomicBool,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) counters: Counters,
    /// KIP-219: when each broker stops throttling us.
    pub(crate) throttled_until: Mutex<HashMap<BrokerId, Instant>>,
    /// Serialises KIP-360 epoch bumps.
    pub(crate) epoch_bump: tokio::sync::Mutex<()>,
    pub(crate) round_robin: RoundRobinPartitioner,
    /// The transaction state, for a producer with a `transactional.id`.
    pub(crate) txn: Option<Mutex<TransactionManager>>,
    /// Serialises AddPartitionsToTxn, so that concurrent sends to a partition new to the
    /// transaction add it once.
    pub(crate) txn_add: tokio::sync::Mutex<()>,
}

impl Shared {
    pub(crate) fn accumulator(&self) -> MutexGuard<'_, RecordAccumulator> {
        lock(&self.accumulator)
    }

    /// Completes a batch for good and returns its memory.
    pub(crate) fn finish(
        &self,
        batch: ProducerBatch,
        result: Result<crate::delivery::BatchOutcome>,
    ) {
        match &result {
            Ok(_) => {
                self.counters
                    .records_sent
                    .fetch_add(batch.records as u64, Ordering::Relaxed);
                self.counters.batches_sent.fetch_add(1, Ordering::Relaxed);
                let bytes = batch.encoded.as_ref().map_or(0, |b| b.len());
                self.counters
                    .bytes_sent
                    .fetch_add(bytes as u64, Ordering::Relaxed);
                self.counters
                    .batch_fill_total
                    .fetch_add(batch.filled as u64, Ordering::Relaxed);
            }
            Err(e) => {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
                // A record of the open transaction was not written: the transaction can only
                // be aborted now (or the producer is done, if it was fenced).
                if let Some(txn) = &self.txn {
                    let mut txn = lock(txn);
                    txn.fail(e.clone());
                    txn.require_epoch_bump();
                }
            }
        }
        batch.complete(result);
        self.release(batch.size);
        // The request holding the batch's bytes is gone by now, so they are ours alone and
        // their buffer can serve a new batch; the completion too, once its futures are gone.
        let mut acc = self.accumulator();
        if let Some(buf) = batch.encoded.and_then(|b| b.try_into_mut().ok()) {
            acc.recycle(Vec::from(buf));
        }
        acc.recycle_completion(batch.completion);
    }

    pub(crate) fn release(&self, bytes: usize) {
        self.buffer.add_permits(bytes.min(self.buffer_capacity));
    }
}

/// An asynchronous Kafka producer.
///
/// `send` enqueues a record and returns a [`DeliveryFuture`]; a background task batches records
/// per partition and sends each broker's ready batches in one ProduceRequest.
///
/// ```no_run
/// # async fn demo() -> Result<(), kafka_producer::ProducerError> {
/// use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
///
/// let producer = Producer::new(ProducerConfig::new("127.0.0.1:9092")).await?;
/// let delivery = producer
///     .send(ProducerRecord::new("orders").with_key("k").with_value("v"))
///     .await?;
/// let written = delivery.await?;
/// println!("partition {} offset {}", written.partition, written.offset);
/// producer.close(std::time::Duration::from_secs(5)).await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Producer {
    pub(crate) shared: Arc<Shared>,
    sender: Mutex<Option<JoinHandle<()>>>,
}

impl Producer {
    /// Connects to the cluster and starts the sender task.
    pub async fn new(config: ProducerConfig) -> Result<Producer> {
        config.validate()?;
        let client = Client::connect(config.client.clone()).await?;
        Ok(Producer::with_client(config, client))
    }

    /// A producer over an existing client (sharing its connections and metadata).
    pub fn with_client(config: ProducerConfig, client: Client) -> Producer {
        let settings = AccumulatorSettings {
            batch_size: config.batch_size.max(1),
            linger: config.linger,
            delivery_timeout: config.delivery_timeout,
            compression: config.compression,
            compression_level: config.compression_level,
            transactional: config.transactional_id.is_some(),
        };
        let capacity = config.buffer_memory.min(Semaphore::MAX_PERMITS);
        let shared = Arc::new(Shared {
            accumulator: Mutex::new(RecordAccumulator::new(settings)),
            wake: Notify::new(),
            progress: Notify::new(),
            buffer: Semaphore::new(capacity),
            buffer_capacity: capacity,
            producer_id: Mutex::new(None),
            closing: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            counters: Counters::default(),
            throttled_until: Mutex::default(),
            epoch_bump: tokio::sync::Mutex::new(()),
            round_robin: RoundRobinPartitioner::default(),
            txn: config
                .transactional_id
                .clone()
                .map(|id| Mutex::new(TransactionManager::new(id))),
            txn_add: tokio::sync::Mutex::new(()),
            client,
            config,
        });
        let span = tracing::debug_span!("producer_sender");
        let sender = tokio::spawn(tracing::Instrument::instrument(
            sender::run(Arc::clone(&shared)),
            span,
        ));
        Producer {
            shared,
            sender: Mutex::new(Some(sender)),
        }
    }

    /// Enqueues `record`. Waits (asynchronously, at most `max.block.ms`) only for buffer space
    /// or for the topic's metadata; the returned future resolves when the broker acknowledges
    /// the record. Dropping the future does not cancel the send.
    pub async fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture> {
        let shared = &self.shared;
        if shared.closing.load(Ordering::Acquire) {
            return Err(ProducerError::Closed);
        }
        let size = record.estimated_size();
        let config = &shared.config;
        if size > config.max_request_size {
            return Err(ProducerError::RecordTooLarge {
                size,
                limit: config.max_request_size,
                setting: "max.request.size",
            });
        }
        if size > shared.buffer_capacity {
            return Err(ProducerError::RecordTooLarge {
                size,
                limit: shared.buffer_capacity,
                setting: "buffer.memory",
            });
        }
        if let Some(txn) = &shared.txn {
            lock(txn).check_send()?;
        }
        let deadline = Instant::now() + config.max_block;
        self.reserve(size, deadline).await?;
        match self.enqueue(&record, size, deadline).await {
            Ok(f) => Ok(f),
            Err(e) => {
                shared.release(size);
                Err(e)
            }
        }
    }

    /// Sends every record of `records`, in order, returning their futures: the same as one
    /// `send` each, with one wake of the sender for all of them.
    pub async fn send_all(
        &self,
        records: impl IntoIterator<Item = ProducerRecord>,
    ) -> Result<Vec<DeliveryFuture>> {
        let records = records.into_iter();
        let mut out = Vec::with_capacity(records.size_hint().0);
        for r in records {
            out.push(self.send(r).await?);
        }
        Ok(out)
    }

    /// Sends every queued record now (ignoring `linger.ms`) and waits until all records sent
    /// before this call are acknowledged or failed.
    pub async fn flush(&self) {
        let shared = &self.shared;
        shared.accumulator().set_flushing(true);
        shared.wake.notify_one();
        loop {
            let notified = shared.progress.notified();
            if shared.accumulator().batch_count() == 0 {
                break;
            }
            // `progress` is signalled whenever a batch finishes; the timeout only guards
            // against a signal sent between the check and the wait.
            let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
        }
        shared.accumulator().set_flushing(false);
    }

    /// Stops accepting records, sends what can be sent within `timeout`, and fails the rest
    /// with [`ProducerError::Closed`].
    pub async fn close(&self, timeout: Duration) {
        self.shared.closing.store(true, Ordering::Release);
        let _ = tokio::time::timeout(timeout, self.flush()).await;
        let left = self.shared.accumulator().take_all();
        for b in left {
            self.shared.finish(b, Err(ProducerError::Closed));
        }
        self.shared.wake.notify_one();
        let handle = lock(&self.sender).take();
        if let Some(h) = handle {
            if tokio::time::timeout(timeout, h).await.is_err() {
                tracing::warn!("producer sender did not stop within the close timeout");
            }
        }
    }

    /// A snapshot of the producer's counters.
    pub fn metrics(&self) -> ProducerMetrics {
        let c = &self.shared.counters;
        let requests = c.requests.load(Ordering::Relaxed);
        let batches = c.batches_sent.load(Ordering::Relaxed);
        let batch_size = self.shared.config.batch_size.max(1) as u64;
        ProducerMetrics {
            mean_batch_bytes: c
                .bytes_sent
                .load(Ordering::Relaxed)
                .checked_div(batches)
                .unwrap_or(0),
            mean_batch_fill_percent: (c.batch_fill_total.load(Ordering::Relaxed) * 100
                / batch_size)
                .checked_div(batches)
                .unwrap_or(0),
            records_sent: c.records_sent.load(Ordering::Relaxed),
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
            batches_sent: c.batches_sent.load(Ordering::Relaxed),
            requests,
            retries: c.retries.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            mean_request_latency_us: c
                .request_latency_us_total
                .load(Ordering::Relaxed)
                .checked_div(requests)
                .unwrap_or(0),
            buffer_used: (self.shared.buffer_capacity - self.shared.buffer.available_permits())
                as u64,
        }
    }

    /// The client core the producer runs on.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// Takes `size` bytes of `buffer.memory`, waiting until `deadline`.
    async fn reserve(&self, size: usize, deadline: Instant) -> Result<()> {
        let buffer = &self.shared.buffer;
        let n = u32::try_from(size).unwrap_or(u32::MAX);
        let permit = match buffer.try_acquire_many(n) {
            Ok(p) => p,
            Err(_) => tokio::time::timeout_at(deadline, buffer.acquire_many(n))
                .await
                .map_err(|_| {
                    ProducerError::BufferExhausted(self.shared.config.max_block.as_millis() as u64)
                })?
                .map_err(|_| ProducerError::Closed)?,
        };
        // The bytes are returned by `Shared::release` when the record's batch completes.
        permit.forget();
        Ok(())
    }

    async fn enqueue(
        &self,
        record: &ProducerRecord,
        size: usize,
        deadline: Instant,
    ) -> Result<DeliveryFuture> {
        let shared = &self.shared;
        let count = self.partitions_of(&record.topic, deadline).await?;
        let partition = match record.partition {
            Some(p) if (0..count).contains(&p) => p,
            Some(p) => {
                return Err(ProducerError::UnknownPartition {
                    topic: record.topic.to_string(),
                    partition: p,
                })
            }
            None => match (&shared.config.partitioner, record.key.as_deref()) {
                (PartitionerChoice::Default, Some(key)) => partition_for_key(key, count),
                (PartitionerChoice::Default, None) => {
                    // Lock order, everywhere: metadata, then the accumulator (the sender holds
                    // both the same way while it drains).
                    let md = shared.client.metadata();
                    let available = || {
                        (0..count)
                            .filter(|p| md.leader(&record.topic, *p).is_some())
                            .collect()
                    };
                    shared
                        .accumulator()
                        .sticky_partition(&record.topic, count, size, available)
                }
                (PartitionerChoice::RoundRobin, _) => {
                    shared.round_robin.partition(&record.topic, None, count)
                }
                (PartitionerChoice::Custom(p), key) => {
                    let chosen = p.partition(&record.topic, key, count);
                    if !(0..count).contains(&chosen) {
                        return Err(ProducerError::UnknownPartition {
                            topic: record.topic.to_string(),
                            partition: chosen,
                        });
                    }
                    chosen
                }
            },
        };
        if shared.txn.is_some() {
            self.add_to_transaction(&record.topic, partition, deadline)
                .await?;
        }
        let timestamp = record.timestamp.unwrap_or_else(now_ms);
        let (future, wake) = {
            let mut accumulator = shared.accumulator();
            let future = accumulator.append(record, partition, timestamp, Instant::now())?;
            (future, accumulator.take_sender_wakeup())
        };
        if wake {
            shared.wake.notify_one();
        }
        Ok(future)
    }

    /// The topic's partition count, fetching metadata (and letting the broker auto-create the
    /// topic, if allowed) until `deadline`.
    async fn partitions_of(&self, topic: &str, deadline: Instant) -> Result<i32> {
        let client = &self.shared.client;
        let mut attempt = 0u32;
        loop {
            if let Some(t) = client.metadata().topic(topic) {
                if !t.partitions.is_empty() {
                    return Ok(i32::try_from(t.partitions.len()).unwrap_or(i32::MAX));
                }
            }
            if Instant::now() >= deadline {
                return Err(ProducerError::MetadataTimeout(topic.to_string()));
            }
            client.track_topics([topic.into()]);
            let refreshed = client
                .refresh_metadata(&[topic.into()], self.shared.config.allow_auto_create_topics)
                .await;
            let error = client.metadata().topic_error(topic);
            if let Some(
                code @ (ErrorCode::TopicAuthorizationFailed | ErrorCode::InvalidTopicException),
            ) = error
            {
                return Err(ProducerError::Topic {
                    topic: topic.to_string(),
                    code,
                });
            }
            let known = client.metadata().topic(topic).is_some();
            if !known {
                // Creation takes a moment, or the topic does not exist: wait and ask again.
                let wait = kafka_client::backoff::Backoff::new(
                    Duration::from_millis(10),
                    self.shared.config.client.retry_backoff_max,
                )
                .wait(attempt, kafka_client::backoff::jitter_unit());
                attempt = attempt.saturating_add(1);
                tracing::debug!(topic, ?error, err = ?refreshed.as_ref().err(), "no metadata yet");
                tokio::time::sleep_until((Instant::now() + wait).min(deadline)).await;
            }
        }
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        // Without close(), queued records still go out: the sender runs until the accumulator
        // is empty once `closing` is set.
        self.shared.closing.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }
}

/// Milliseconds since the Unix epoch: the records' create time.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Whether a broker error means the partition's leader moved (refresh metadata).
pub(crate) fn is_stale_leader(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NotLeaderOrFollower
            | ErrorCode::LeaderNotAvailable
            | ErrorCode::UnknownTopicOrPartition
            | ErrorCode::FencedLeaderEpoch
            | ErrorCode::UnknownLeaderEpoch
            | ErrorCode::KafkaStorageError
    )
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
