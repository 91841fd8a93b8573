//! DescribeProducers (key 61, KIP-664): the idempotent and transactional producers a partition's
//! leader remembers, with their epoch, last sequence and last timestamp.

use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse};
use kafka_protocol::{ErrorCode, ProducerId};

use super::common::answer_partitions;
use crate::context::RequestContext;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DescribeProducersRequest,
    _version: i16,
) -> DescribeProducersResponse {
    let topics = answer_partitions(
        ctx,
        kafka_protocol::acl::AclOperation::Read,
        &request.topics,
        |t| &t.name,
        |t| &t.partition_indexes,
        |topic, index| {
            let result = topic.led_partition(*index);
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
                            coordinator_epoch: p.coordinator_epoch,
                            current_txn_start_offset: p.current_txn_first_offset.unwrap_or(-1),
                            ..Default::default()
                        })
                        .collect();
                    active.sort_by_key(|p| p.producer_id);
                    PartitionResponse::default()
                        .with_partition_index(*index)
                        .with_error_code(ErrorCode::None)
                        .with_error_message(None)
                        .with_active_producers(active)
                }
                // Kafka explains an unknown topic, and leaves other errors bare.
                Err(code) => PartitionResponse::default()
                    .with_partition_index(*index)
                    .with_error_code(code)
                    .with_error_message((!topic.exists()).then(|| code.description().into())),
            }
        },
    )
    .into_iter()
    .map(|(t, partitions)| {
        TopicResponse::default()
            .with_name(t.name.clone())
            .with_partitions(partitions)
    })
    .collect();
    DescribeProducersResponse::default().with_topics(topics)
}
