//! DeleteRecords (key 21): advance partitions' log start offsets (`-1`: to the high watermark).

use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use kafka_protocol::ErrorCode;

use super::common::answer_partitions;
use crate::context::RequestContext;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DeleteRecordsRequest,
    _version: i16,
) -> DeleteRecordsResponse {
    let topics = answer_partitions(
        ctx,
        kafka_protocol::acl::AclOperation::Delete,
        &request.topics,
        |t| &t.name,
        |t| &t.partitions,
        |topic, p| {
            let result = topic
                .led_partition(p.partition_index)
                .and_then(|log| log.delete_records(p.offset));
            let (low_watermark, code) = match result {
                Ok(low) => (low, ErrorCode::None),
                Err(code) => (-1, code),
            };
            DeleteRecordsPartitionResult::default()
                .with_partition_index(p.partition_index)
                .with_low_watermark(low_watermark)
                .with_error_code(code)
        },
    )
    .into_iter()
    .map(|(t, partitions)| {
        DeleteRecordsTopicResult::default()
            .with_name(t.name.clone())
            .with_partitions(partitions)
    })
    .collect();
    DeleteRecordsResponse::default().with_topics(topics)
}
