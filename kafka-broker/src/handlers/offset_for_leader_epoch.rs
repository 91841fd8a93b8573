//! OffsetForLeaderEpoch (key 23, KIP-101/KIP-320): the end offset of a leader epoch, which a
//! consumer asks for after a leader change to detect that the log it read was truncated. The
//! answer comes from the partition's leader epoch cache ([`crate::leader_epochs`]).

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};
use kafka_protocol::ErrorCode;

use super::common::{check_leader_epoch, led_partition};
use crate::context::RequestContext;
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &OffsetForLeaderEpochRequest,
    _version: i16,
) -> OffsetForLeaderEpochResponse {
    let topics = request
        .topics
        .iter()
        .map(|t| {
            let topic = lock(&ctx.state.topics).get(&t.topic).cloned();
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let result = topic
                        .as_ref()
                        .ok_or(ErrorCode::UnknownTopicOrPartition)
                        .and_then(|topic| led_partition(ctx, topic, p.partition))
                        .and_then(|log| {
                            check_leader_epoch(p.current_leader_epoch, log.leader().1)?;
                            Ok(log.end_offset_for_epoch(p.leader_epoch))
                        });
                    let (code, (leader_epoch, end_offset)) = match result {
                        Ok(found) => (ErrorCode::None, found),
                        Err(code) => (code, crate::leader_epochs::UNDEFINED),
                    };
                    EpochEndOffset {
                        error_code: code,
                        partition: p.partition,
                        leader_epoch,
                        end_offset,
                        ..Default::default()
                    }
                })
                .collect();
            OffsetForLeaderTopicResult {
                topic: t.topic.clone(),
                partitions,
                ..Default::default()
            }
        })
        .collect();
    OffsetForLeaderEpochResponse {
        throttle_time_ms: 0,
        topics,
        ..Default::default()
    }
}
