//! DescribeTopicPartitions (key 75, KIP-966): topic and partition metadata paged by a cursor, so
//! that an admin client can walk topics with many partitions in bounded responses.
//!
//! Topics are answered in name order (all topics when the request lists none), from the
//! cursor's topic and partition on, until `response_partition_limit` partitions (capped at
//! Kafka's `max.request.partition.size.limit`, 2000) have been included; `next_cursor` then
//! names where the next page starts.

use kafka_protocol::messages::describe_topic_partitions_response::{
    Cursor, DescribeTopicPartitionsResponsePartition, DescribeTopicPartitionsResponseTopic,
};
use kafka_protocol::messages::{DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse};
use kafka_protocol::ErrorCode;

use crate::authorized_operations::TOPIC;
use crate::context::RequestContext;
use crate::sync::lock;
use crate::topics::Topic;
use kafka_protocol::BrokerId;

/// Kafka's `max.request.partition.size.limit`.
const MAX_PARTITIONS_PER_RESPONSE: i32 = 2000;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DescribeTopicPartitionsRequest,
    _version: i16,
) -> DescribeTopicPartitionsResponse {
    let registry = lock(&ctx.state.topics);
    let mut names: Vec<String> = if request.topics.is_empty() {
        registry.iter().map(|t| t.name.clone()).collect()
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
            next_cursor = Some(Cursor {
                topic_name: name.clone().into(),
                partition_index: 0,
                ..Default::default()
            });
            break;
        }
        let Some(topic) = registry.get(name) else {
            topics.push(DescribeTopicPartitionsResponseTopic {
                error_code: ErrorCode::UnknownTopicOrPartition,
                name: Some(name.clone().into()),
                topic_authorized_operations: TOPIC,
                ..Default::default()
            });
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
            next_cursor = Some(Cursor {
                topic_name: name.clone().into(),
                partition_index: last,
                ..Default::default()
            });
            break;
        }
    }
    DescribeTopicPartitionsResponse {
        throttle_time_ms: 0,
        topics,
        next_cursor,
        ..Default::default()
    }
}

/// Partitions `first..last` of `topic`, with replicas as the Metadata handler reports them.
fn describe(
    ctx: &RequestContext,
    topic: &Topic,
    first: i32,
    last: i32,
) -> DescribeTopicPartitionsResponseTopic {
    let partitions = (first..last)
        .filter_map(|index| topic.partition(index).map(|log| (index, log.leader())))
        .map(|(index, (leader, epoch))| {
            let up = ctx.state.is_running(leader);
            DescribeTopicPartitionsResponsePartition {
                error_code: if up {
                    ErrorCode::None
                } else {
                    ErrorCode::LeaderNotAvailable
                },
                partition_index: index,
                leader_id: if up { BrokerId(leader) } else { BrokerId::NONE },
                leader_epoch: epoch,
                replica_nodes: vec![BrokerId(leader)],
                isr_nodes: if up {
                    vec![BrokerId(leader)]
                } else {
                    Vec::new()
                },
                // KIP-966 eligible leader replicas: with one replica there are none to list.
                eligible_leader_replicas: Some(Vec::new()),
                last_known_elr: Some(Vec::new()),
                offline_replicas: if up {
                    Vec::new()
                } else {
                    vec![BrokerId(leader)]
                },
                ..Default::default()
            }
        })
        .collect();
    DescribeTopicPartitionsResponseTopic {
        error_code: ErrorCode::None,
        name: Some(topic.name.clone().into()),
        topic_id: topic.id,
        is_internal: false,
        partitions,
        topic_authorized_operations: TOPIC,
        ..Default::default()
    }
}
