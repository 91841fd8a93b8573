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
use kafka_protocol::messages::produce_request::PartitionProduceData;
use kafka_protocol::messages::produce_response::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::records::{crc32c, DecodeOptions, RecordBatch, RecordBatchHeader};
use kafka_protocol::ErrorCode;

use super::common::{led_partition, now_ms};
use crate::connection::Ctx;
use crate::state::{lock, Settings};
use crate::topics::Topic;

/// Byte offsets inside a v2 batch header (see `kafka_protocol::records` for the layout).
const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;
const MAX_TIMESTAMP_OFFSET: usize = 35;
/// Attributes bit 3: timestamps are log-append time.
const LOG_APPEND_TIME_BIT: i16 = 1 << 3;

/// Answers Produce; `None` for `acks=0`, which gets no response at all.
pub(crate) fn handle(ctx: &Ctx, request: &ProduceRequest, version: i16) -> Option<ProduceResponse> {
    let settings = ctx.state.settings();
    let acks_valid = matches!(request.acks, -1..=1);
    let mut leaders = BTreeSet::new();
    let responses = request
        .topic_data
        .iter()
        .map(|topic_data| {
            let topic = {
                let topics = lock(&ctx.state.topics);
                if version >= 13 {
                    topics.get_by_id(&topic_data.topic_id).cloned()
                } else {
                    topics.get(&topic_data.name).cloned()
                }
            };
            let unknown = if version >= 13 {
                ErrorCode::UnknownTopicId
            } else {
                ErrorCode::UnknownTopicOrPartition
            };
            let partition_responses = topic_data
                .partition_data
                .iter()
                .map(|p| {
                    let result = if !acks_valid {
                        Err(ErrorCode::InvalidRequiredAcks)
                    } else {
                        match &topic {
                            None => Err(unknown),
                            Some(topic) => produce_partition(ctx, topic, p, &settings),
                        }
                    };
                    partition_response(ctx, topic.as_ref(), p.index, result, version, &mut leaders)
                })
                .collect();
            TopicProduceResponse {
                name: topic_data.name.clone(),
                topic_id: topic_data.topic_id,
                partition_responses,
                ..Default::default()
            }
        })
        .collect();
    if request.acks == 0 {
        return None;
    }
    // NodeEndpoints and CurrentLeader exist from v10 (KIP-951).
    let node_endpoints = leaders
        .into_iter()
        .filter(|_| version >= 10)
        .filter_map(|id| ctx.state.broker(id))
        .map(|b| NodeEndpoint {
            node_id: b.id,
            host: b.host,
            port: i32::from(b.port),
            rack: None,
            ..Default::default()
        })
        .collect();
    Some(ProduceResponse {
        responses,
        throttle_time_ms: 0,
        node_endpoints,
        ..Default::default()
    })
}

/// Builds a partition's response; on NOT_LEADER_OR_FOLLOWER it names the current leader
/// (KIP-951, Produce v10+) so the client can redirect without a Metadata round trip.
fn partition_response(
    ctx: &Ctx,
    topic: Option<&Topic>,
    index: i32,
    result: Result<crate::log::AppendInfo, ErrorCode>,
    version: i16,
    leaders: &mut BTreeSet<i32>,
) -> PartitionProduceResponse {
    match result {
        Ok(info) => PartitionProduceResponse {
            index,
            error_code: ErrorCode::None.code(),
            base_offset: info.base_offset,
            log_append_time_ms: info.log_append_time_ms,
            log_start_offset: info.log_start_offset,
            ..Default::default()
        },
        Err(code) => {
            let mut response = PartitionProduceResponse {
                index,
                error_code: code.code(),
                base_offset: -1,
                log_append_time_ms: -1,
                log_start_offset: -1,
                ..Default::default()
            };
            if code == ErrorCode::NotLeaderOrFollower && version >= 10 {
                if let Some(log) = topic.and_then(|t| t.partition(index)) {
                    let (leader, epoch) = log.leader();
                    if ctx.state.is_running(leader) {
                        leaders.insert(leader);
                        response.current_leader = LeaderIdAndEpoch {
                            leader_id: leader,
                            leader_epoch: epoch,
                            ..Default::default()
                        };
                    }
                }
            }
            response
        }
    }
}

fn produce_partition(
    ctx: &Ctx,
    topic: &Topic,
    data: &PartitionProduceData,
    settings: &Settings,
) -> Result<crate::log::AppendInfo, ErrorCode> {
    let log = led_partition(ctx, topic, data.index)?;
    let records = data.records.clone().ok_or(ErrorCode::InvalidRecord)?;
    let max_message_bytes = topic
        .config("max.message.bytes", settings.message_max_bytes)
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    if records.len() > max_message_bytes {
        return Err(ErrorCode::MessageTooLarge);
    }
    let (header, mut batch) = validate_batch(records, max_message_bytes)?;
    let log_append_time = topic
        .config("message.timestamp.type", settings.message_max_bytes)
        .is_some_and(|t| t == "LogAppendTime")
        .then(now_ms);
    if let Some(time) = log_append_time {
        set_log_append_time(&mut batch, header.attributes, time)?;
    }
    let retention_bytes = topic
        .config("retention.bytes", settings.message_max_bytes)
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(-1);
    log.append(batch, &header, log_append_time, retention_bytes)
}

/// Decodes and checks the single batch of a partition's records; returns its header and bytes.
fn validate_batch(
    records: Bytes,
    max_decompressed: usize,
) -> Result<(RecordBatchHeader, BytesMut), ErrorCode> {
    let mut rest = records.clone();
    // Inflating a compressed batch is capped well above what a legal batch can hold.
    let options =
        DecodeOptions::default().with_max_decompressed_size(max_decompressed.saturating_mul(64));
    let batch = RecordBatch::decode_with(&mut rest, &options).map_err(|e| {
        tracing::debug!(error = %e, "corrupt record batch");
        ErrorCode::CorruptMessage
    })?;
    if !rest.is_empty() {
        // Produce v3+ allows exactly one batch per partition.
        return Err(ErrorCode::InvalidRecord);
    }
    let header = *batch.header();
    if header.is_control() || header.records_count <= 0 {
        return Err(ErrorCode::InvalidRecord);
    }
    if header.last_offset_delta != header.records_count - 1 {
        return Err(ErrorCode::InvalidRecord);
    }
    let mut expected = header.base_offset;
    for record in batch.records() {
        let record = record.map_err(|_| ErrorCode::CorruptMessage)?;
        if record.offset != expected {
            return Err(ErrorCode::InvalidRecord);
        }
        expected += 1;
    }
    if expected - header.base_offset != i64::from(header.records_count) {
        return Err(ErrorCode::InvalidRecord);
    }
    Ok((header, BytesMut::from(&records[..])))
}

/// Marks the batch as log-append time with maxTimestamp = `time`, and recomputes the CRC since
/// both fields are covered by it.
fn set_log_append_time(batch: &mut BytesMut, attributes: i16, time: i64) -> Result<(), ErrorCode> {
    let put = |batch: &mut BytesMut, at: usize, bytes: &[u8]| -> Result<(), ErrorCode> {
        batch
            .get_mut(at..at + bytes.len())
            .ok_or(ErrorCode::CorruptMessage)?
            .copy_from_slice(bytes);
        Ok(())
    };
    put(
        batch,
        ATTRIBUTES_OFFSET,
        &(attributes | LOG_APPEND_TIME_BIT).to_be_bytes(),
    )?;
    put(batch, MAX_TIMESTAMP_OFFSET, &time.to_be_bytes())?;
    let crc = crc32c(
        batch
            .get(ATTRIBUTES_OFFSET..)
            .ok_or(ErrorCode::CorruptMessage)?,
    );
    put(batch, CRC_OFFSET, &crc.to_be_bytes())
}
