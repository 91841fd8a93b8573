//! DescribeProducers (key 61, KIP-664): the idempotent and transactional producers a partition's
//! leader remembers, with their epoch, last sequence and last timestamp.

use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse};
use kafka_protocol::ErrorCode;

use super::common::led_partition;
use crate::context::RequestContext;
use crate::sync::lock;
use kafka_protocol::ProducerId;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DescribeProducersRequest,
    _version: i16,
) -> DescribeProducersResponse {
    let topics = request
        .topics
        .iter()
        .map(|t| {
            let topic = lock(&ctx.state.topics).get(&t.name).cloned();
            let partitions = t
                .partition_indexes
                .iter()
                .map(|index| {
                    let result = topic
                        .as_ref()
                        .ok_or(ErrorCode::UnknownTopicOrPartition)
                        .and_then(|topic| led_partition(ctx, topic, *index));
                    match result {
                        Ok(log) => {
                            let mut active: Vec<ProducerState> = log
                                .lock()
                                .producers
                                .producers()
                                .map(|p| ProducerState {
                                    producer_id: ProducerId(p.producer_id),
                                    producer_epoch: i32::from(p.producer_epoch),
                                    last_sequence: p.last_sequence,
                                    last_timestamp: p.last_append_time_ms,
                                    // No transaction coordinator writes markers yet.
                                    coordinator_epoch: -1,
                                    current_txn_start_offset: -1,
                                    ..Default::default()
                                })
                                .collect();
                            active.sort_by_key(|p| p.producer_id);
                            PartitionResponse {
                                partition_index: *index,
                                error_code: ErrorCode::None,
                                error_message: None,
                                active_producers: active,
                                ..Default::default()
                            }
                        }
                        // Kafka explains an unknown topic, and leaves other errors bare.
                        Err(code) => PartitionResponse {
                            partition_index: *index,
                            error_code: code,
                            error_message: (topic
                                .is_none()
                                .then(|| code.description().to_string()))
                            .map(Into::into),
                            ..Default::default()
                        },
                    }
                })
                .collect();
            TopicResponse {
                name: t.name.clone(),
                partitions,
                ..Default::default()
            }
        })
        .collect();
    DescribeProducersResponse {
        throttle_time_ms: 0,
        topics,
        ..Default::default()
    }
}
