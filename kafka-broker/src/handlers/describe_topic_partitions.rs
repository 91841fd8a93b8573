//! DescribeTopicPartitions (key 75, KIP-966): topic and partition metadata paged by a cursor, so
//! that an admin client can walk topics with many partitions in bounded responses.
//!
//! Topics are answered in name order (all topics when the request lists none), from the
//! cursor's topic and partition on, until `response_partition_limit` partitions (capped at
//! Kafka's `max.request.partition.size.limit`, 2000) have been included; `next_cursor` then
//! names where the next page starts.

use kafka_protocol::acl::{AclOperation, ResourceType};
use kafka_protocol::messages::describe_topic_partitions_response::{
    Cursor, DescribeTopicPartitionsResponsePartition, DescribeTopicPartitionsResponseTopic,
};
use kafka_protocol::messages::{DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse};
use kafka_protocol::ErrorCode;

use super::common::PartitionReplicas;
use crate::authorized_operations::TOPIC;
use crate::context::RequestContext;
use crate::sync::lock;
use crate::topics::Topic;

/// Kafka's `max.request.partition.size.limit`.
const MAX_PARTITIONS_PER_RESPONSE: i32 = 2000;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DescribeTopicPartitionsRequest,
    _version: i16,
) -> DescribeTopicPartitionsResponse {
    let registry = lock(&ctx.state.topics);
    // Topics the principal may not describe are left out of a listing of all topics, and
    // answered TOPIC_AUTHORIZATION_FAILED when named.
    let mut names: Vec<String> = if request.topics.is_empty() {
        registry
            .iter()
            .filter(|t| ctx.allowed_topic(AclOperation::Describe, &t.name))
            .map(|t| t.name.clone())
            .collect()
    } else {
        request.topics.iter().map(|t| t.name.to_string()).collect()
    };
    names.sort();
    names.dedup();
    let (start_topic, start_partition) = match &request.cursor {
        Some(c) => (Some(c.topic_name.to_string()), c.partition_index.max(0)),
        None => (None, 0),
    };
    let mut budget = request
        .response_partition_limit
        .clamp(1, MAX_PARTITIONS_PER_RESPONSE);
    let mut topics = Vec::new();
    let mut next_cursor = None;
    for name in names
        .iter()
        .filter(|n| start_topic.as_ref().is_none_or(|s| *n >= s))
    {
        if budget == 0 {
            next_cursor = Some(
                Cursor::default()
                    .with_topic_name(name.clone())
                    .with_partition_index(0),
            );
            break;
        }
        let ops = ctx.authorized_operations(ResourceType::Topic, name, TOPIC);
        let error = |code| {
            DescribeTopicPartitionsResponseTopic::default()
                .with_error_code(code)
                .with_name(Some(name.clone().into()))
                .with_topic_authorized_operations(ops)
        };
        if !ctx.allowed_topic(AclOperation::Describe, name) {
            topics.push(error(ErrorCode::TopicAuthorizationFailed));
            continue;
        }
        let Some(topic) = registry.get(name) else {
            topics.push(error(ErrorCode::UnknownTopicOrPartition));
            continue;
        };
        let first = if start_topic.as_ref() == Some(name) {
            start_partition
        } else {
            0
        };
        let count = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
        let last = count.min(first.saturating_add(budget));
        budget -= last - first.min(last);
        topics.push(describe(ctx, topic, first, last));
        if last < count {
            next_cursor = Some(
                Cursor::default()
                    .with_topic_name(name.clone())
                    .with_partition_index(last),
            );
            break;
        }
    }
    DescribeTopicPartitionsResponse::default()
        .with_topics(topics)
        .with_next_cursor(next_cursor)
}

/// Partitions `first..last` of `topic`, with replicas as the Metadata handler reports them.
fn describe(
    ctx: &RequestContext,
    topic: &Topic,
    first: i32,
    last: i32,
) -> DescribeTopicPartitionsResponseTopic {
    let partitions = (first..last)
        .filter_map(|index| topic.partition(index).map(|log| (index, log)))
        .map(|(index, log)| {
            let r = PartitionReplicas::of(&ctx.state, log);
            DescribeTopicPartitionsResponsePartition {
                error_code: r.error_code,
                partition_index: index,
                leader_id: r.leader_id,
                leader_epoch: r.leader_epoch,
                replica_nodes: r.replica_nodes,
                isr_nodes: r.isr_nodes,
                // KIP-966 eligible leader replicas: with one replica there are none to list.
                eligible_leader_replicas: Some(Vec::new()),
                last_known_elr: Some(Vec::new()),
                offline_replicas: r.offline_replicas,
                ..Default::default()
            }
        })
        .collect();
    DescribeTopicPartitionsResponseTopic::default()
        .with_error_code(ErrorCode::None)
        .with_name(Some(topic.name.clone().into()))
        .with_topic_id(topic.id)
        .with_is_internal(false)
        .with_partitions(partitions)
        .with_topic_authorized_operations(ctx.authorized_operations(
            ResourceType::Topic,
            &topic.name,
            TOPIC,
        ))
}
