//! DeleteRecords (key 21): advance partitions' log start offsets (`-1`: to the high watermark).

use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use kafka_protocol::ErrorCode;

use super::common::led_partition;
use crate::context::RequestContext;
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DeleteRecordsRequest,
    _version: i16,
) -> DeleteRecordsResponse {
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
                        .and_then(|log| log.delete_records(p.offset));
                    let (low_watermark, code) = match result {
                        Ok(low) => (low, ErrorCode::None),
                        Err(code) => (-1, code),
                    };
                    DeleteRecordsPartitionResult {
                        partition_index: p.partition_index,
                        low_watermark,
                        error_code: code,
                        ..Default::default()
                    }
                })
                .collect();
            DeleteRecordsTopicResult {
                name: t.name.clone(),
                partitions,
                ..Default::default()
            }
        })
        .collect();
    DeleteRecordsResponse {
        throttle_time_ms: 0,
        topics,
        ..Default::default()
    }
}
