//! The transactional producer's requests to its transaction coordinator (and, for offsets,
//! to the group's coordinator), each retried within `max.block.ms` as Java retries them:
//! NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE look the coordinator up again;
//! COORDINATOR_LOAD_IN_PROGRESS and CONCURRENT_TRANSACTIONS (the previous transaction is
//! still being decided) wait and ask again; anything else is the answer.

use std::time::Duration;

use kafka_client::{ClientError, ConsumerGroupMetadata};
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, InitProducerIdRequest,
    TxnOffsetCommitRequest,
};
use kafka_protocol::{BrokerId, ErrorCode, ProducerId, Request};
use tokio::time::Instant;
use tracing::debug;

use crate::error::{ProducerError, Result};
use crate::producer::{lock, Shared};

/// FindCoordinator's key type for a transactional id.
const TRANSACTION_KEY: i8 = 1;
/// FindCoordinator's key type for a group.
const GROUP_KEY: i8 = 0;

/// The highest versions a transactions-v1 producer sends: AddPartitionsToTxn v4+ is the
/// brokers' batched form (KIP-890), and EndTxn v5 asks for transactions v2, where the
/// coordinator bumps the epoch at every commit.
const ADD_PARTITIONS_MAX: i16 = 3;
const END_TXN_MAX: i16 = 4;

/// Sends the request `build` makes to the coordinator of `key` (at most at version
/// `max_version`), retrying as described above until `deadline`. `code` reads the response's
/// error.
async fn coordinator_call<R: Request>(
    shared: &Shared,
    key: &str,
    key_type: i8,
    max_version: Option<i16>,
    deadline: Instant,
    build: impl Fn() -> R,
    code: impl Fn(&R::Response) -> ErrorCode,
) -> Result<R::Response> {
    let mut attempt = 0u32;
    loop {
        let outcome = async {
            let id: BrokerId = shared.client.find_coordinator(key, key_type).await?;
            let conn = shared.client.coordinator(id).await?;
            let version = conn.version_for(R::API_KEY)?;
            let version = max_version.map_or(version, |max| version.min(max));
            match conn.send_at(&build(), version).await {
                Ok(r) => Ok(r),
                Err(e) => {
                    shared.client.connection_failed(&conn);
                    Err(e)
                }
            }
        }
        .await;
        let retry = match outcome {
            Ok(response) => match code(&response) {
                ErrorCode::None => return Ok(response),
                c @ (ErrorCode::NotCoordinator
                | ErrorCode::CoordinatorNotAvailable
                | ErrorCode::CoordinatorLoadInProgress
                | ErrorCode::ConcurrentTransactions) => ClientError::Broker(c),
                c => return Err(ProducerError::Broker(c)),
            },
            Err(ClientError::Broker(c)) if !c.is_retriable() => {
                return Err(ProducerError::Broker(c))
            }
            Err(e) if e.is_retriable() || matches!(e, ClientError::Broker(_)) => e,
            Err(e) => return Err(e.into()),
        };
        attempt += 1;
        // Java retries CONCURRENT_TRANSACTIONS quickly (20 ms): the coordinator is writing
        // markers that take milliseconds.
        let wait = Duration::from_millis(20).saturating_mul(attempt.min(10));
        if Instant::now() + wait >= deadline {
            return Err(ProducerError::TransactionTimeout(
                shared.config.max_block.as_millis() as u64,
                retry.to_string(),
            ));
        }
        debug!(error = %retry, attempt, "transaction request retried");
        tokio::time::sleep(wait).await;
    }
}

fn transactional_id(shared: &Shared) -> String {
    shared.config.transactional_id.clone().unwrap_or_default()
}

fn timeout_ms(shared: &Shared) -> i32 {
    i32::try_from(shared.config.transaction_timeout.as_millis()).unwrap_or(i32::MAX)
}

/// The producer id and epoch in use; only called once `init_transactions` set them.
fn producer(shared: &Shared) -> (i64, i16) {
    lock(&shared.producer_id).unwrap_or((-1, -1))
}

/// InitProducerId for the transactional id: the coordinator fences older instances and
/// aborts a transaction one of them left open (answering CONCURRENT_TRANSACTIONS meanwhile).
/// With `current` (the id and epoch this producer holds), it asks for the next epoch of the
/// same producer id instead (KIP-360), which restarts every partition's sequence numbers.
pub(crate) async fn init_producer_id(
    shared: &Shared,
    current: Option<(i64, i16)>,
    deadline: Instant,
) -> Result<(i64, i16)> {
    let id = transactional_id(shared);
    let timeout = timeout_ms(shared);
    let (producer_id, producer_epoch) = current.unwrap_or((-1, -1));
    let response = coordinator_call(
        shared,
        &id,
        TRANSACTION_KEY,
        None,
        deadline,
        || {
            InitProducerIdRequest::default()
                .with_transactional_id(Some(kafka_protocol::TransactionalId::from(id.as_str())))
                .with_transaction_timeout_ms(timeout)
                .with_producer_id(ProducerId(producer_id))
                .with_producer_epoch(producer_epoch)
        },
        |r| r.error_code,
    )
    .await?;
    Ok((response.producer_id.get(), response.producer_epoch))
}

/// AddPartitionsToTxn for one partition (transactions v1: the producer adds each partition
/// before its first batch of the transaction).
pub(crate) async fn add_partition(
    shared: &Shared,
    topic: &str,
    partition: i32,
    deadline: Instant,
) -> Result<()> {
    let id = transactional_id(shared);
    let (producer_id, epoch) = producer(shared);
    let response = coordinator_call(
        shared,
        &id,
        TRANSACTION_KEY,
        Some(ADD_PARTITIONS_MAX),
        deadline,
        || {
            AddPartitionsToTxnRequest::default()
                .with_v3_and_below_transactional_id(id.as_str())
                .with_v3_and_below_producer_id(ProducerId(producer_id))
                .with_v3_and_below_producer_epoch(epoch)
                .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
                    .with_name(topic)
                    .with_partitions(vec![partition])])
        },
        // The partition is added only if the answer says so: a response that leaves it out
        // (a broker bug) must not let its batches go out unannounced, which the leader would
        // refuse (KIP-890) or, on an old broker, leave outside the transaction.
        |r| {
            r.results_by_topic_v3_and_below
                .iter()
                .filter(|t| t.name.as_str() == topic)
                .flat_map(|t| t.results_by_partition.iter())
                .find(|p| p.partition_index == partition)
                .map_or(ErrorCode::UnknownServerError, |p| p.partition_error_code)
        },
    )
    .await?;
    drop(response);
    Ok(())
}

/// `send_offsets_to_transaction`: AddOffsetsToTxn at the transaction coordinator, then
/// TxnOffsetCommit at the group coordinator with the member's generation (KIP-447).
pub(crate) async fn send_offsets(
    shared: &Shared,
    offsets: &[(String, i32, i64)],
    group: &ConsumerGroupMetadata,
    deadline: Instant,
) -> Result<()> {
    let id = transactional_id(shared);
    let (producer_id, epoch) = producer(shared);
    coordinator_call(
        shared,
        &id,
        TRANSACTION_KEY,
        None,
        deadline,
        || {
            AddOffsetsToTxnRequest::default()
                .with_transactional_id(id.as_str())
                .with_producer_id(ProducerId(producer_id))
                .with_producer_epoch(epoch)
                .with_group_id(group.group_id.as_str())
        },
        |r| r.error_code,
    )
    .await?;
    let mut topics: Vec<TxnOffsetCommitRequestTopic> = Vec::new();
    for (topic, partition, offset) in offsets {
        let p = TxnOffsetCommitRequestPartition::default()
            .with_partition_index(*partition)
            .with_committed_offset(*offset)
            .with_committed_metadata(Some("".into()));
        match topics.iter_mut().find(|t| t.name.as_str() == topic) {
            Some(t) => t.partitions.push(p),
            None => topics.push(
                TxnOffsetCommitRequestTopic::default()
                    .with_name(topic.as_str())
                    .with_partitions(vec![p]),
            ),
        }
    }
    coordinator_call(
        shared,
        &group.group_id,
        GROUP_KEY,
        None,
        deadline,
        || {
            TxnOffsetCommitRequest::default()
                .with_transactional_id(id.as_str())
                .with_group_id(group.group_id.as_str())
                .with_producer_id(ProducerId(producer_id))
                .with_producer_epoch(epoch)
                .with_generation_id(group.generation_id)
                .with_member_id(group.member_id.as_str())
                .with_group_instance_id(group.group_instance_id.as_deref().map(Into::into))
                .with_topics(topics.clone())
        },
        |r| {
            r.topics
                .iter()
                .flat_map(|t| t.partitions.iter())
                .map(|p| p.error_code)
                .find(|c| *c != ErrorCode::None)
                .unwrap_or(ErrorCode::None)
        },
    )
    .await?;
    Ok(())
}

/// EndTxn: commit or abort.
pub(crate) async fn end(shared: &Shared, commit: bool, deadline: Instant) -> Result<()> {
    let id = transactional_id(shared);
    let (producer_id, epoch) = producer(shared);
    coordinator_call(
        shared,
        &id,
        TRANSACTION_KEY,
        Some(END_TXN_MAX),
        deadline,
        || {
            EndTxnRequest::default()
                .with_transactional_id(id.as_str())
                .with_producer_id(ProducerId(producer_id))
                .with_producer_epoch(epoch)
                .with_committed(commit)
        },
        |r| r.error_code,
    )
    .await?;
    Ok(())
}
