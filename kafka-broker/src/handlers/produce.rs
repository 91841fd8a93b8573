//! Produce (key 0): validate each partition's record batch and append it to the leader's log.
//!
//! Validation follows Kafka's `LogValidator` for message format v2: since Produce v3 each
//! partition carries exactly one batch (INVALID_RECORD otherwise); a failed CRC32C or an
//! undecodable batch is CORRUPT_MESSAGE; a batch larger than the topic's `max.message.bytes` is
//! MESSAGE_TOO_LARGE; records whose offset deltas are not 0, 1, 2, ... or whose count disagrees
//! with the header are INVALID_RECORD.
//!
//! The stored bytes are the producer's bytes: only baseOffset and partitionLeaderEpoch, which lie
//! outside the CRC'd range, are assigned. On topics with `message.timestamp.type=LogAppendTime`
//! the attributes' timestamp-type bit and maxTimestamp are rewritten and the CRC recomputed, as
//! Kafka does.

use std::collections::BTreeSet;

use bytes::{Bytes, BytesMut};
use kafka_protocol::acl::{AclOperation, ResourceType};
use kafka_protocol::messages::produce_request::PartitionProduceData;
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse,
    TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::records::{
    batch_frames, check_record_framing, set_log_append_time, Compression, FramingError,
    RecordBatchHeader, MAGIC, RECORD_BATCH_OVERHEAD,
};
use kafka_protocol::{BrokerId, ErrorCode};

use super::common::{led_partition, transactional_write_error};
use super::Reply;
use crate::context::RequestContext;
use crate::state::Settings;
use crate::sync::lock;
use crate::topics::Topic;

/// Answers Produce; nothing for `acks=0`, which gets no response at all.
pub(crate) fn handle(ctx: &RequestContext, request: &ProduceRequest, version: i16) -> Reply {
    // A transactional produce needs WRITE on its transactional id, or nothing is written.
    if let Some(id) = request.transactional_id.as_deref() {
        if !ctx.allowed(AclOperation::Write, ResourceType::TransactionalId, id) {
            if request.acks == 0 {
                return Reply::Silent;
            }
            return request
                .error_response(ErrorCode::TransactionalIdAuthorizationFailed)
                .into();
        }
    }
    let settings = ctx.state.settings();
    let acks_valid = matches!(request.acks, -1..=1);
    let mut leaders = BTreeSet::new();
    // KIP-516: Produce v13 names topics by id.
    let by_id = version >= 13;
    let responses = request
        .topic_data
        .iter()
        .map(|topic_data| {
            let topic = {
                let topics = lock(&ctx.state.topics);
                if by_id {
                    topics.get_shared_by_id(&topic_data.topic_id)
                } else {
                    topics.get_shared(&topic_data.name)
                }
            };
            // WRITE on the topic is checked before its existence, so that a principal without
            // it learns nothing about which topics exist (a topic id is no secret).
            let may_write = |name: &str| ctx.allowed_topic(AclOperation::Write, name);
            let unknown = if by_id {
                ErrorCode::UnknownTopicId
            } else if !may_write(&topic_data.name) {
                ErrorCode::TopicAuthorizationFailed
            } else {
                ErrorCode::UnknownTopicOrPartition
            };
            let partition_responses = topic_data
                .partition_data
                .iter()
                .map(|p| {
                    let result = if !acks_valid {
                        Err(ErrorCode::InvalidRequiredAcks.into())
                    } else {
                        match &topic {
                            None => Err(unknown.into()),
                            Some(topic) if !may_write(&topic.name) => {
                                Err(ErrorCode::TopicAuthorizationFailed.into())
                            }
                            Some(topic) => {
                                produce_partition(ctx, request, topic, p, &settings, version)
                            }
                        }
                    };
                    partition_response(ctx, topic.as_deref(), p.index, result, &mut leaders)
                })
                .collect();
            TopicProduceResponse::default()
                .with_name(topic_data.name.clone())
                .with_topic_id(topic_data.topic_id)
                .with_partition_responses(partition_responses)
        })
        .collect();
    if request.acks == 0 {
        return Reply::Silent;
    }
    // NodeEndpoints and CurrentLeader (KIP-951) reach clients from v10.
    let node_endpoints = leaders
        .into_iter()
        .filter_map(|id| ctx.state.broker(id))
        .map(|b| {
            NodeEndpoint::default()
                .with_node_id(BrokerId(b.id))
                .with_host(b.host)
                .with_port(i32::from(b.port))
        })
        .collect();
    ProduceResponse::default()
        .with_responses(responses)
        .with_node_endpoints(node_endpoints)
        .into()
}

/// Builds a partition's response; on NOT_LEADER_OR_FOLLOWER it names the current leader
/// (KIP-951, Produce v10+) so the client can redirect without a Metadata round trip.
fn partition_response(
    ctx: &RequestContext,
    topic: Option<&Topic>,
    index: i32,
    result: Result<crate::log::AppendInfo, Refusal>,
    leaders: &mut BTreeSet<i32>,
) -> PartitionProduceResponse {
    match result {
        Ok(info) => PartitionProduceResponse::default()
            .with_index(index)
            .with_error_code(ErrorCode::None)
            .with_base_offset(info.base_offset)
            .with_log_append_time_ms(info.log_append_time_ms)
            .with_log_start_offset(info.log_start_offset),
        Err(Refusal {
            code,
            log_start_offset,
            record_errors,
        }) => {
            let mut response = PartitionProduceResponse::default()
                .with_index(index)
                .with_error_code(code)
                .with_base_offset(-1)
                .with_log_append_time_ms(-1)
                .with_log_start_offset(log_start_offset);
            // KIP-467: which records failed, and a summary as Kafka words it.
            if !record_errors.is_empty() {
                let first: Vec<String> = record_errors
                    .iter()
                    .take(3)
                    .map(|(i, m)| format!("RecordError(batchIndex={i}, message='{m}')"))
                    .collect();
                response.error_message = Some(
                    format!(
                        "One or more records have been rejected due to {} record errors in total, and only showing the first three errors at most: [{}]",
                        record_errors.len(),
                        first.join(", ")
                    )
                    .into(),
                );
                response.record_errors = record_errors
                    .into_iter()
                    .map(|(batch_index, message)| {
                        BatchIndexAndErrorMessage::default()
                            .with_batch_index(batch_index)
                            .with_batch_index_error_message(Some(message.into()))
                    })
                    .collect();
            }
            if code == ErrorCode::NotLeaderOrFollower {
                if let Some(log) = topic.and_then(|t| t.partition(index)) {
                    let (leader, epoch) = log.leader();
                    if ctx.state.is_running(leader) {
                        leaders.insert(leader);
                        response.current_leader = LeaderIdAndEpoch::default()
                            .with_leader_id(BrokerId(leader))
                            .with_leader_epoch(epoch);
                    }
                }
            }
            response
        }
    }
}

/// Why a partition's records were refused, and whether Kafka reports the partition's log start
/// offset with the error. It does once the batch reached the log (validation of its contents,
/// sequence and epoch checks), and not for refusals before that (an unknown partition, a
/// malformed or oversized request, a failed CRC), which answer `-1`.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub code: ErrorCode,
    pub log_start_offset: i64,
    /// The records that failed validation and why (Produce v8+ `RecordErrors`, KIP-467).
    pub record_errors: Vec<(i32, String)>,
}

impl From<ErrorCode> for Refusal {
    fn from(code: ErrorCode) -> Self {
        Refusal {
            code,
            log_start_offset: -1,
            record_errors: Vec::new(),
        }
    }
}

fn produce_partition(
    ctx: &RequestContext,
    request: &ProduceRequest,
    topic: &Topic,
    data: &PartitionProduceData,
    settings: &Settings,
    version: i16,
) -> Result<crate::log::AppendInfo, Refusal> {
    let log = led_partition(ctx, topic, data.index)?;
    let records = data.records.as_ref().ok_or(ErrorCode::InvalidRecord)?;
    // Kafka checks the request's shape first (ProduceRequest.validateRecords): exactly one
    // complete batch, of magic 2. A truncated batch counts as none.
    check_single_v2_batch(records)?;
    let max_message_bytes = topic
        .settings
        .max_message_bytes
        .unwrap_or_else(|| usize::try_from(settings.message_max_bytes).unwrap_or(usize::MAX));
    if records.len() > max_message_bytes {
        return Err(ErrorCode::MessageTooLarge.into());
    }
    // The header, the CRC, then a walk over the record framing: no record is materialised.
    let header = RecordBatchHeader::parse(records).map_err(corrupt)?;
    header.check_crc(records).map_err(corrupt)?;
    let at_log = |code: ErrorCode| Refusal {
        code,
        log_start_offset: log.offsets().log_start_offset,
        record_errors: Vec::new(),
    };
    validate_contents(&header).map_err(at_log)?;
    if header.is_transactional() {
        verify_transaction(ctx, request, &header, &topic.name, data.index, version)?;
    }
    let keys = topic
        .settings
        .compacted
        .then(|| format!("{}-{}", topic.name, data.index));
    validate_records(records, &header, max_message_bytes, keys.as_deref(), at_log)?;
    // The stored batch is the producer's bytes, copied once out of the request so that the
    // leader can set baseOffset and partitionLeaderEpoch (outside the CRC) in place.
    let mut batch = BytesMut::from(&records[..]);
    let log_append_time = topic
        .settings
        .log_append_time
        .then(|| ctx.state.clock.now_ms());
    if let Some(time) = log_append_time {
        set_log_append_time(&mut batch, time).map_err(|_| ErrorCode::CorruptMessage)?;
    }
    log.append(
        batch,
        &header,
        log_append_time,
        topic.settings.retention_bytes,
    )
    .map_err(at_log)
}

/// KIP-890 part 1: a transactional batch is appended only if its partition is in the open
/// transaction of the request's transactional id, with the producer id and epoch the
/// coordinator holds. Otherwise a producer that lost track of its transaction (or a zombie)
/// could leave records no marker will ever close, holding the last stable offset back
/// forever. A transactional batch without a transactional id is INVALID_RECORD.
///
/// The check and the append are two steps, as in Kafka (which closes the gap with a
/// verification guard in the producer state): an EndTxn between them would let the batch in
/// after its marker, where the next transaction's marker closes it. Clients send no batch
/// after EndTxn, so this needs a misbehaving one.
fn verify_transaction(
    ctx: &RequestContext,
    request: &ProduceRequest,
    header: &RecordBatchHeader,
    topic: &str,
    partition: i32,
    version: i16,
) -> Result<(), Refusal> {
    let Some(transactional_id) = request.transactional_id.as_deref() else {
        return Err(ErrorCode::InvalidRecord.into());
    };
    if header.producer_id < 0 {
        return Err(ErrorCode::InvalidRecord.into());
    }
    // Transactions v2 (Produce v12+, KIP-890 part 2): the client sends no AddPartitionsToTxn;
    // the leader adds the partition itself, as Kafka's leader does through its coordinator.
    let implicit = version >= 12 && crate::sync::lock(&ctx.state.features).transactions_v2();
    let mut coordinator = crate::sync::lock(&ctx.state.transactions);
    let outcome = if implicit {
        coordinator.add_partitions(
            transactional_id,
            header.producer_id,
            header.producer_epoch,
            &[(topic.to_owned(), partition)],
            ctx.state.clock.now_ms(),
        )
    } else {
        coordinator.verify(
            transactional_id,
            header.producer_id,
            header.producer_epoch,
            crate::txn::TxnMember::Partition(topic, partition),
        )
    };
    outcome
        // Produce v11 is the first to know TRANSACTION_ABORTABLE (KIP-890).
        .map_err(|code| transactional_write_error(code, version >= 11).into())
}

/// A batch whose header, CRC or compression does not check out: CORRUPT_MESSAGE.
fn corrupt(e: kafka_protocol::DecodeError) -> Refusal {
    tracing::debug!(error = %e, "corrupt record batch");
    ErrorCode::CorruptMessage.into()
}

/// One complete batch of magic 2, or INVALID_RECORD; the batches are found by their length
/// fields alone, as Kafka does before looking inside.
fn check_single_v2_batch(records: &Bytes) -> Result<(), ErrorCode> {
    let mut frames = batch_frames(records);
    match (frames.next(), frames.next()) {
        (Some(frame), None) if frame.magic == MAGIC => Ok(()),
        _ => Err(ErrorCode::InvalidRecord),
    }
}

/// Kafka's `LogValidator` checks of a producer's batch: a base offset of zero (the leader
/// assigns offsets; Kafka 4 refuses a batch that claims others), no control batch (only
/// coordinators write those), and record counts and offset deltas that agree.
fn validate_contents(header: &RecordBatchHeader) -> Result<(), ErrorCode> {
    if header.base_offset != 0 || header.is_control() || header.records_count <= 0 {
        return Err(ErrorCode::InvalidRecord);
    }
    if header.last_offset_delta != header.records_count - 1 {
        return Err(ErrorCode::InvalidRecord);
    }
    Ok(())
}

/// Walks the records (inflated first if compressed, within a cap well above what a legal
/// batch can hold): each must parse, with offset deltas 0, 1, 2, ... A record that does not
/// parse is CORRUPT_MESSAGE, a wrong delta INVALID_RECORD, both reported with the log start
/// offset (`at_log`) as Kafka does once a batch reached validation; a batch that cannot be
/// inflated, or whose count could not fit its data, is CORRUPT_MESSAGE before that.
///
/// `compacted` names the partition (`topic-N`) of a compacted topic, whose records need keys
/// (INVALID_RECORD naming the record, as Kafka's `LogValidator` words it).
fn validate_records(
    records: &[u8],
    header: &RecordBatchHeader,
    max_message_bytes: usize,
    compacted: Option<&str>,
    at_log: impl Fn(ErrorCode) -> Refusal,
) -> Result<(), Refusal> {
    let payload = records
        .get(RECORD_BATCH_OVERHEAD..header.total_size())
        .ok_or(ErrorCode::CorruptMessage)?;
    let count = usize::try_from(header.records_count).map_err(|_| ErrorCode::CorruptMessage)?;
    let inflated;
    let data = match header.compression().map_err(corrupt)? {
        Compression::None => payload,
        codec => {
            inflated = codec
                .decompress(payload, max_message_bytes.saturating_mul(64))
                .map_err(corrupt)?;
            &inflated[..]
        }
    };
    if count > data.len() / MIN_RECORD_SIZE {
        return Err(ErrorCode::CorruptMessage.into());
    }
    check_record_framing(data, count, compacted.is_some()).map_err(|e| match e {
        FramingError::OffsetDelta { .. } => at_log(ErrorCode::InvalidRecord),
        FramingError::MissingKeys { positions } => Refusal {
            record_errors: positions
                .into_iter()
                .map(|position| {
                    (
                        i32::try_from(position).unwrap_or(i32::MAX),
                        format!(
                            "Compacted topic cannot accept message without key in topic partition {}",
                            compacted.unwrap_or_default()
                        ),
                    )
                })
                .collect(),
            ..at_log(ErrorCode::InvalidRecord)
        },
        _ => {
            tracing::debug!(error = %e, "corrupt records");
            at_log(ErrorCode::CorruptMessage)
        }
    })
}

/// The fewest bytes a record takes (a length, attributes, three zero varints, no headers).
const MIN_RECORD_SIZE: usize = 7;
