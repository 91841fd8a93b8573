//! ListOffsets (key 2): offsets by timestamp, and the special earliest/latest/max-timestamp
//! queries (`-2`, `-1`, `-3` KIP-734, `-4` KIP-1005).

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use kafka_protocol::ErrorCode;

use super::common::{check_leader_epoch, led_partition};
use crate::context::RequestContext;
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &ListOffsetsRequest,
    _version: i16,
) -> ListOffsetsResponse {
    let topics = request
        .topics
        .iter()
        .map(|t| {
            let topic = lock(&ctx.state.topics).get(&t.name).cloned();
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let result = topic
                        .as_ref()
                        .ok_or(ErrorCode::UnknownTopicOrPartition)
                        .and_then(|topic| led_partition(ctx, topic, p.partition_index))
                        .and_then(|log| {
                            let epoch = log.leader().1;
                            check_leader_epoch(p.current_leader_epoch, epoch)?;
                            Ok((log.offset_for_timestamp(p.timestamp), epoch))
                        });
                    match result {
                        Ok((found, epoch)) => {
                            let (timestamp, offset) = found.unwrap_or((-1, -1));
                            ListOffsetsPartitionResponse {
                                partition_index: p.partition_index,
                                error_code: ErrorCode::None,
                                // v0 answers a list of offsets (at most max_num_offsets); v1+
                                // one timestamp and offset instead.
                                old_style_offsets: if offset >= 0 && p.max_num_offsets > 0 {
                                    vec![offset]
                                } else {
                                    Vec::new()
                                },
                                timestamp,
                                offset,
                                leader_epoch: if offset >= 0 { epoch } else { -1 },
                                ..Default::default()
                            }
                        }
                        Err(code) => ListOffsetsPartitionResponse {
                            partition_index: p.partition_index,
                            error_code: code,
                            timestamp: -1,
                            offset: -1,
                            leader_epoch: -1,
                            ..Default::default()
                        },
                    }
                })
                .collect();
            ListOffsetsTopicResponse {
                name: t.name.clone(),
                partitions,
                ..Default::default()
            }
        })
        .collect();
    ListOffsetsResponse {
        throttle_time_ms: 0,
        topics,
        ..Default::default()
    }
}
