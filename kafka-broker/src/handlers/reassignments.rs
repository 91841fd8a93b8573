//! AlterPartitionReassignments (key 45) and ListPartitionReassignments (key 46), KIP-455.
//! The work is in [`crate::reassignment`]; these map requests onto it.

use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::list_partition_reassignments_response::{
    OngoingPartitionReassignment, OngoingTopicReassignment,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse,
    ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
};
use kafka_protocol::{BrokerId, ErrorCode, TopicName};

use crate::context::RequestContext;

pub(crate) fn handle_alter(
    ctx: &RequestContext,
    request: &AlterPartitionReassignmentsRequest,
    version: i16,
) -> AlterPartitionReassignmentsResponse {
    // Version 0 has no flag and always allows the replication factor to change.
    let allow_rf_change = version == 0 || request.allow_replication_factor_change;
    let responses = request
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let target = p.replicas.as_ref().map(|r| r.iter().map(|b| b.0).collect());
                    let outcome =
                        ctx.state
                            .reassign(&t.name, p.partition_index, target, allow_rf_change);
                    // Kafka explains every refusal but a cancellation with nothing to cancel.
                    let (code, message) = match outcome {
                        Ok(()) => (ErrorCode::None, None),
                        Err((ErrorCode::NoReassignmentInProgress, _)) => {
                            (ErrorCode::NoReassignmentInProgress, None)
                        }
                        Err((code, message)) => (
                            code,
                            Some(message.unwrap_or_else(|| code.description().into())),
                        ),
                    };
                    ReassignablePartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                        .with_error_message(message.map(Into::into))
                })
                .collect();
            ReassignableTopicResponse::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    AlterPartitionReassignmentsResponse::default()
        .with_allow_replication_factor_change(allow_rf_change)
        .with_error_code(ErrorCode::None)
        .with_error_message(None)
        .with_responses(responses)
}

pub(crate) fn handle_list(
    ctx: &RequestContext,
    request: &ListPartitionReassignmentsRequest,
    _version: i16,
) -> ListPartitionReassignmentsResponse {
    let ongoing = ctx.state.ongoing_reassignments();
    let wanted = |topic: &str, partition: i32| match &request.topics {
        None => true,
        Some(topics) => topics
            .iter()
            .any(|t| *t.name == *topic && t.partition_indexes.contains(&partition)),
    };
    let mut topics: Vec<OngoingTopicReassignment> = Vec::new();
    for ((topic, partition), r) in ongoing {
        if !wanted(&topic, partition) {
            continue;
        }
        let ids = |v: Vec<i32>| v.into_iter().map(BrokerId).collect::<Vec<_>>();
        let entry = OngoingPartitionReassignment::default()
            .with_partition_index(partition)
            .with_replicas(ids(r.replicas()))
            .with_adding_replicas(ids(r.adding()))
            .with_removing_replicas(ids(r.removing()));
        match topics.last_mut() {
            Some(t) if *t.name == *topic => t.partitions.push(entry),
            _ => topics.push(
                OngoingTopicReassignment::default()
                    .with_name(TopicName::from(topic.as_str()))
                    .with_partitions(vec![entry]),
            ),
        }
    }
    ListPartitionReassignmentsResponse::default()
        .with_error_code(ErrorCode::None)
        .with_error_message(None)
        .with_topics(topics)
}
