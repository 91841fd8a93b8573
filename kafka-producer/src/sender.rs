//! The sender task: drains ready batches per broker into ProduceRequests and settles each
//! batch from the response.
//!
//! One loop decides what to send; each ProduceRequest runs in its own task so that a slow
//! broker does not hold up the others. Per batch, the answer is one of:
//! * success: every record's future resolves with its offset;
//! * a retriable error (leader moved, timeout, connection lost): the batch goes back to the head
//!   of its partition's queue after `retry.backoff.ms` (growing to `retry.backoff.max.ms`), and
//!   the leader is refreshed: from the KIP-951 hint in the response if there is one, else from
//!   Metadata;
//! * OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID (idempotence): the broker has not
//!   written the batch and lost track of our sequence; bump the epoch (KIP-360), restart
//!   sequences, resend;
//! * anything else: the batch fails for good.
//!
//! A batch whose `delivery.timeout.ms` has passed fails instead of being retried.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use kafka_client::backoff::{jitter_unit, Backoff};
use kafka_client::ClientError;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::messages::{InitProducerIdRequest, ProduceRequest, ProduceResponse};
use kafka_protocol::{BrokerId, ErrorCode, TopicName};
use tokio::time::Instant;
use tracing::{debug, warn, Instrument};

use crate::accumulator::ProducerBatch;
use crate::config::Acks;
use crate::delivery::BatchOutcome;
use crate::error::ProducerError;
use crate::producer::{is_stale_leader, lock, Shared};

/// How long the loop sleeps when nothing is waiting (a send wakes it earlier).
const IDLE_WAIT: Duration = Duration::from_millis(500);

pub(crate) async fn run(shared: Arc<Shared>) {
    let mut last_refresh: Option<Instant> = None;
    loop {
        // A transactional producer gets its id from `init_transactions`, and has no batch
        // before it: there is nothing to do until then.
        if shared.txn.is_some() && lock(&shared.producer_id).is_none() {
            if shared.closing.load(Ordering::Acquire) && shared.accumulator().batch_count() == 0 {
                break;
            }
            let _ = tokio::time::timeout(IDLE_WAIT, shared.wake.notified()).await;
            continue;
        }
        if shared.config.enable_idempotence && lock(&shared.producer_id).is_none() {
            if shared.closing.load(Ordering::Acquire) && shared.accumulator().batch_count() == 0 {
                break;
            }
            if let Err(e) = init_producer_id(&shared, None).await {
                warn!(error = %e, "InitProducerId failed; retrying");
                tokio::time::sleep(shared.config.client.retry_backoff).await;
                continue;
            }
        }
        let now = Instant::now();
        let mut expired = Vec::new();
        let check = {
            let md = shared.client.metadata();
            shared
                .accumulator()
                .ready(now, |t, p| md.leader(t, p), &mut expired)
        };
        for b in expired {
            let ms = shared.config.delivery_timeout.as_millis() as u64;
            shared.finish(b, Err(ProducerError::DeliveryTimeout(ms)));
            shared.progress.notify_waiters();
        }
        let refresh_due = last_refresh
            .is_none_or(|at| now.duration_since(at) >= shared.config.client.retry_backoff);
        if (!check.unknown_leaders.is_empty() || shared.client.metadata_is_stale()) && refresh_due {
            last_refresh = Some(now);
            let topics: Vec<TopicName> = check
                .unknown_leaders
                .iter()
                .map(|t| t.as_str().into())
                .collect();
            if let Err(e) = shared
                .client
                .refresh_metadata(&topics, shared.config.allow_auto_create_topics)
                .await
            {
                debug!(error = %e, "metadata refresh failed");
            }
            continue;
        }
        let producer = *lock(&shared.producer_id);
        for broker in check.ready {
            let batches = {
                let md = shared.client.metadata();
                shared.accumulator().drain(
                    broker,
                    now,
                    shared.config.max_request_size,
                    |t, p| md.leader(t, p),
                    producer,
                )
            };
            if !batches.is_empty() {
                shared.in_flight.fetch_add(1, Ordering::AcqRel);
                let span = tracing::debug_span!("produce", %broker, batches = batches.len());
                tokio::spawn(send_batches(Arc::clone(&shared), broker, batches).instrument(span));
            }
        }
        if shared.closing.load(Ordering::Acquire)
            && shared.accumulator().batch_count() == 0
            && shared.in_flight.load(Ordering::Acquire) == 0
        {
            break;
        }
        let mut next = check.next_check.unwrap_or(now + IDLE_WAIT);
        if !check.unknown_leaders.is_empty() {
            next = next.min(now + shared.config.client.retry_backoff);
        }
        tokio::select! {
            () = shared.wake.notified() => {}
            () = tokio::time::sleep_until(next) => {}
        }
    }
    debug!("producer sender stopped");
}

/// InitProducerId for an idempotent producer; with `current`, bumps that producer's epoch
/// (KIP-360) instead of asking for a new id.
async fn init_producer_id(
    shared: &Shared,
    current: Option<(i64, i16)>,
) -> Result<(i64, i16), ClientError> {
    let conn = shared.client.any_connection().await?;
    let (id, epoch) = current.unwrap_or((-1, -1));
    let request = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(i32::MAX)
        .with_producer_id(id)
        .with_producer_epoch(epoch);
    let response = match conn.send(&request).await {
        Ok(r) => r,
        Err(e) => {
            shared.client.connection_failed(&conn);
            return Err(e);
        }
    };
    response
        .error_code
        .into_result()
        .map_err(ClientError::Broker)?;
    let pair = (response.producer_id.get(), response.producer_epoch);
    *lock(&shared.producer_id) = Some(pair);
    debug!(producer_id = pair.0, epoch = pair.1, "producer id assigned");
    Ok(pair)
}

/// Sends one ProduceRequest with `batches` to `broker` and settles every batch.
async fn send_batches(shared: Arc<Shared>, broker: BrokerId, batches: Vec<ProducerBatch>) {
    let throttle = lock(&shared.throttled_until).get(&broker).copied();
    if let Some(until) = throttle {
        tokio::time::sleep_until(until).await;
    }
    let started = Instant::now();
    let outcome = produce(&shared, broker, &batches).await;
    let elapsed = started.elapsed();
    shared.counters.requests.fetch_add(1, Ordering::Relaxed);
    shared
        .counters
        .request_latency_us_total
        .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    match outcome {
        Err(e) => {
            debug!(%broker, error = %e, "produce request failed");
            for b in batches {
                let code = match &e {
                    ClientError::Broker(code) => *code,
                    _ => ErrorCode::NetworkException,
                };
                settle_error(&shared, b, code, e.is_retriable(), None);
            }
        }
        Ok(None) => {
            for b in batches {
                let partition = b.partition;
                shared.accumulator().finished(&b);
                shared.finish(
                    b,
                    Ok(BatchOutcome {
                        partition,
                        base_offset: -1,
                        log_append_time: -1,
                    }),
                );
            }
        }
        Ok(Some(response)) => {
            if response.throttle_time_ms > 0 {
                let until =
                    Instant::now() + Duration::from_millis(response.throttle_time_ms as u64);
                lock(&shared.throttled_until).insert(broker, until);
            }
            // KIP-951: leader hints move partitions without a Metadata round trip.
            kafka_client::leader_hints::apply_produce_hints(
                &mut shared.client.metadata(),
                &response,
            );
            for b in batches {
                match find(&shared, &response, &b) {
                    Some(p) => settle(&shared, b, p).await,
                    // The broker did not answer for this partition: treat as lost in transit.
                    None => settle_error(&shared, b, ErrorCode::NetworkException, true, None),
                }
            }
        }
    }
    shared.in_flight.fetch_sub(1, Ordering::AcqRel);
    shared.progress.notify_waiters();
    shared.wake.notify_one();
}

/// Builds and sends the request; `Ok(None)` for acks=0.
async fn produce(
    shared: &Shared,
    broker: BrokerId,
    batches: &[ProducerBatch],
) -> Result<Option<ProduceResponse>, ClientError> {
    let conn = shared.client.broker(broker).await?;
    let mut topics: Vec<TopicProduceData> = Vec::new();
    {
        let md = shared.client.metadata();
        for b in batches {
            let data = PartitionProduceData::default()
                .with_index(b.partition)
                .with_records(b.encoded.clone());
            match topics.iter_mut().find(|t| t.name == *b.topic) {
                Some(t) => t.partition_data.push(data),
                None => topics.push(
                    TopicProduceData::default()
                        .with_name(&*b.topic)
                        .with_topic_id(md.topic(&b.topic).map(|t| t.id).unwrap_or_default())
                        .with_partition_data(vec![data]),
                ),
            }
        }
    }
    let timeout_ms =
        i32::try_from(shared.config.client.request_timeout.as_millis()).unwrap_or(i32::MAX);
    let request = ProduceRequest::default()
        .with_transactional_id(shared.config.transactional_id.as_deref().map(Into::into))
        .with_acks(shared.config.acks.wire())
        .with_timeout_ms(timeout_ms)
        .with_topic_data(topics);
    let result = if shared.config.acks == Acks::None {
        conn.send_no_response(&request).await.map(|()| None)
    } else {
        conn.send(&request).await.map(Some)
    };
    if let Err(
        ClientError::Connection { .. } | ClientError::Timeout { .. } | ClientError::Decode(_),
    ) = &result
    {
        shared.client.connection_failed(&conn);
    }
    result
}

/// The response's entry for `batch` (by topic name, or topic id from Produce v13).
fn find<'r>(
    shared: &Shared,
    response: &'r ProduceResponse,
    batch: &ProducerBatch,
) -> Option<&'r PartitionProduceResponse> {
    let id = shared.client.metadata().topic(&batch.topic).map(|t| t.id);
    response
        .responses
        .iter()
        .filter(|t| {
            t.name == *batch.topic || (id.is_some_and(|id| !id.is_zero() && t.topic_id == id))
        })
        .flat_map(|t| t.partition_responses.iter())
        .find(|p| p.index == batch.partition)
}

async fn settle(shared: &Shared, batch: ProducerBatch, p: &PartitionProduceResponse) {
    match p.error_code {
        // A duplicate is a batch the broker already has: delivered.
        ErrorCode::None | ErrorCode::DuplicateSequenceNumber => {
            let partition = batch.partition;
            shared.accumulator().finished(&batch);
            shared.finish(
                batch,
                Ok(BatchOutcome {
                    partition,
                    base_offset: p.base_offset,
                    log_append_time: p.log_append_time_ms,
                }),
            );
        }
        // A transactional producer may not bump its own epoch in the middle of a transaction
        // (transactions v1): a fenced one is done, and the batch fails (which marks the
        // producer fenced); a lost sequence fails the batch and so the transaction, and the
        // epoch is bumped once the application has aborted it.
        ErrorCode::InvalidProducerEpoch
        | ErrorCode::ProducerFenced
        | ErrorCode::OutOfOrderSequenceNumber
        | ErrorCode::UnknownProducerId
            if shared.txn.is_some() =>
        {
            settle_error(shared, batch, p.error_code, false, None);
        }
        ErrorCode::OutOfOrderSequenceNumber
        | ErrorCode::UnknownProducerId
        | ErrorCode::InvalidProducerEpoch
            if shared.config.enable_idempotence =>
        {
            bump_epoch(shared, &batch).await;
            let mut batch = batch;
            batch.sequence = None;
            settle_error(shared, batch, p.error_code, true, None);
        }
        // Java splits a batch the broker finds too large and sends the halves (each split
        // again the same way until it fits or is one record).
        ErrorCode::MessageTooLarge | ErrorCode::RecordListTooLarge if batch.records > 1 => {
            let split = shared.accumulator().split(batch);
            match split {
                None => {
                    shared.counters.retries.fetch_add(1, Ordering::Relaxed);
                }
                Some(batch) => settle_error(shared, batch, p.error_code, false, None),
            }
        }
        code => {
            let message = p.error_message.as_ref().map(|m| m.to_string());
            settle_error(
                shared,
                batch,
                code,
                code.is_retriable() || is_stale_leader(code),
                message,
            );
        }
    }
}

/// KIP-360: after the broker lost our sequence, take a new epoch and restart sequences. Only
/// one bump runs at a time; a batch that failed under an epoch already replaced skips it.
async fn bump_epoch(shared: &Shared, batch: &ProducerBatch) {
    let _guard = shared.epoch_bump.lock().await;
    let current = *lock(&shared.producer_id);
    let stamped = batch.encoded.as_ref().and_then(|b| {
        let mut bytes = b.clone();
        kafka_protocol::records::RecordBatch::decode(&mut bytes)
            .ok()
            .map(|rb| (rb.header().producer_id, rb.header().producer_epoch))
    });
    if stamped.is_some() && stamped != current {
        return; // someone bumped already
    }
    match init_producer_id(shared, current).await {
        Ok(pair) => {
            debug!(
                producer_id = pair.0,
                epoch = pair.1,
                "producer epoch bumped"
            );
            shared.accumulator().reset_sequences();
        }
        Err(e) => {
            // Fall back to a new producer id: ordering across the bump is kept by the queues.
            warn!(error = %e, "epoch bump failed; asking for a new producer id");
            *lock(&shared.producer_id) = None;
            shared.accumulator().reset_sequences();
        }
    }
}

/// Retries `batch` if the error allows and time remains, else fails it.
fn settle_error(
    shared: &Shared,
    batch: ProducerBatch,
    code: ErrorCode,
    retriable: bool,
    message: Option<String>,
) {
    let now = Instant::now();
    if is_stale_leader(code) || code == ErrorCode::NetworkException {
        shared
            .client
            .metadata()
            .invalidate_leader(&batch.topic, batch.partition);
    }
    if retriable && now < batch.deadline {
        let backoff = Backoff::new(
            shared.config.client.retry_backoff,
            shared.config.client.retry_backoff_max,
        )
        .wait(batch.attempts, jitter_unit());
        shared.counters.retries.fetch_add(1, Ordering::Relaxed);
        debug!(topic = %batch.topic, partition = batch.partition, ?code, attempts = batch.attempts, "retrying batch");
        shared.accumulator().retry(batch, now, backoff);
        return;
    }
    if let Some(m) = message {
        debug!(topic = %batch.topic, partition = batch.partition, ?code, message = %m, "batch failed");
    }
    let error = if now >= batch.deadline {
        ProducerError::DeliveryTimeout(shared.config.delivery_timeout.as_millis() as u64)
    } else {
        ProducerError::Broker(code)
    };
    shared.accumulator().finished(&batch);
    shared.finish(batch, Err(error));
}
