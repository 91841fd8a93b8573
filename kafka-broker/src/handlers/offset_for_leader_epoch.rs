//! OffsetForLeaderEpoch (key 23, KIP-101/KIP-320): the end offset of a leader epoch, which a
//! consumer asks for after a leader change to detect that the log it read was truncated. The
//! answer comes from the partition's leader epoch cache ([`crate::leader_epochs`]).

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};
use kafka_protocol::ErrorCode;

use super::common::{answer_partitions, check_leader_epoch};
use crate::context::RequestContext;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &OffsetForLeaderEpochRequest,
    _version: i16,
) -> OffsetForLeaderEpochResponse {
    let topics = answer_partitions(
        ctx,
        kafka_protocol::acl::AclOperation::Describe,
        &request.topics,
        |t| &t.topic,
        |t| &t.partitions,
        |topic, p| {
            let result = topic.led_partition(p.partition).and_then(|log| {
                check_leader_epoch(p.current_leader_epoch, log.leader().1)?;
                Ok(log.end_offset_for_epoch(p.leader_epoch))
            });
            let (code, (leader_epoch, end_offset)) = match result {
                Ok(found) => (ErrorCode::None, found),
                Err(code) => (code, crate::leader_epochs::UNDEFINED),
            };
            EpochEndOffset::default()
                .with_error_code(code)
                .with_partition(p.partition)
                .with_leader_epoch(leader_epoch)
                .with_end_offset(end_offset)
        },
    )
    .into_iter()
    .map(|(t, partitions)| {
        OffsetForLeaderTopicResult::default()
            .with_topic(t.topic.clone())
            .with_partitions(partitions)
    })
    .collect();
    OffsetForLeaderEpochResponse::default().with_topics(topics)
}
