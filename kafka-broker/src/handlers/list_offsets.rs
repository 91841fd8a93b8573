//! ListOffsets (key 2): offsets by timestamp, and the special earliest/latest/max-timestamp
//! queries (`-2`, `-1`, `-3` KIP-734, `-4` KIP-1005).

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use kafka_protocol::ErrorCode;

use super::common::{answer_partitions, check_leader_epoch};
use crate::context::RequestContext;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &ListOffsetsRequest,
    _version: i16,
) -> ListOffsetsResponse {
    // read_committed (v2+) sees the log only up to the last stable offset.
    let read_committed = request.isolation_level == 1;
    let topics = answer_partitions(
        ctx,
        kafka_protocol::acl::AclOperation::Describe,
        &request.topics,
        |t| &t.name,
        |t| &t.partitions,
        |topic, p| {
            let result = topic.led_partition(p.partition_index).and_then(|log| {
                let epoch = log.leader().1;
                check_leader_epoch(p.current_leader_epoch, epoch)?;
                Ok((log.offset_for_timestamp(p.timestamp, read_committed), epoch))
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
                Err(code) => ListOffsetsPartitionResponse::default()
                    .with_partition_index(p.partition_index)
                    .with_error_code(code)
                    .with_timestamp(-1)
                    .with_offset(-1)
                    .with_leader_epoch(-1),
            }
        },
    )
    .into_iter()
    .map(|(t, partitions)| {
        ListOffsetsTopicResponse::default()
            .with_name(t.name.clone())
            .with_partitions(partitions)
    })
    .collect();
    ListOffsetsResponse::default().with_topics(topics)
}
