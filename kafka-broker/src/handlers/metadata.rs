//! Metadata (key 3): brokers, controller, topics, partitions and their leaders.

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{MetadataRequest, MetadataResponse};
use kafka_protocol::ErrorCode;

use crate::authorized_operations::{self, NOT_REQUESTED};
use crate::context::RequestContext;
use crate::state::{ClusterState, NewTopic};
use crate::sync::lock;
use crate::topics::{validate_topic_name, Topic};
use kafka_protocol::BrokerId;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &MetadataRequest,
    version: i16,
) -> MetadataResponse {
    let state = &ctx.state;
    let live = state.live_brokers();
    let brokers = live
        .iter()
        .map(|b| MetadataResponseBroker {
            node_id: BrokerId(b.id),
            host: b.host.clone().into(),
            port: i32::from(b.port),
            rack: None,
            ..Default::default()
        })
        .collect();
    // v0 sends an empty list for "all topics"; v1+ sends null.
    let requested = match &request.topics {
        None => None,
        Some(t) if t.is_empty() && version == 0 => None,
        Some(t) => Some(t),
    };
    // Before v4 there is no flag and the broker's setting alone decides.
    let allow_auto_create = version < 4 || request.allow_auto_topic_creation;
    let topic_ops = authorized_operations::when(
        request.include_topic_authorized_operations,
        authorized_operations::TOPIC,
    );
    let topics: Vec<MetadataResponseTopic> = match requested {
        None => lock(&state.topics)
            .iter()
            .map(|t| topic_metadata(state, t))
            .collect(),
        Some(list) => list
            .iter()
            .map(|t| match &t.name {
                Some(name) => by_name(state, name, allow_auto_create),
                None => {
                    let topics = lock(&state.topics);
                    match topics.get_by_id(&t.topic_id) {
                        Some(topic) => topic_metadata(state, topic),
                        None => MetadataResponseTopic {
                            error_code: ErrorCode::UnknownTopicId,
                            name: None,
                            topic_id: t.topic_id,
                            topic_authorized_operations: NOT_REQUESTED,
                            ..Default::default()
                        },
                    }
                }
            })
            .collect(),
    };
    let topics = topics
        .into_iter()
        .map(|mut t| {
            if t.error_code == ErrorCode::None {
                t.topic_authorized_operations = topic_ops;
            }
            t
        })
        .collect();
    MetadataResponse {
        throttle_time_ms: 0,
        brokers,
        cluster_id: Some(state.config.cluster_id.clone().into()),
        controller_id: BrokerId(state.controller_id()),
        topics,
        cluster_authorized_operations: authorized_operations::when(
            request.include_cluster_authorized_operations,
            authorized_operations::CLUSTER,
        ),
        ..Default::default()
    }
}

/// A topic requested by name, auto-created if allowed (`auto.create.topics.enable`).
///
/// The request that creates a topic answers UNKNOWN_TOPIC_OR_PARTITION for it, as Kafka 4 does:
/// Kafka creates the topic through its controller and reports it once its metadata has
/// propagated, so clients retry Metadata; answering the same here keeps their code paths alike.
fn by_name(state: &ClusterState, name: &str, allow_auto_create: bool) -> MetadataResponseTopic {
    let error = |code: ErrorCode| MetadataResponseTopic {
        error_code: code,
        name: Some(name.into()),
        topic_authorized_operations: NOT_REQUESTED,
        ..Default::default()
    };
    if let Some(topic) = lock(&state.topics).get(name) {
        return topic_metadata(state, topic);
    }
    if validate_topic_name(name).is_err() {
        return error(ErrorCode::InvalidTopicException);
    }
    if !(allow_auto_create && state.settings().auto_create_topics) {
        return error(ErrorCode::UnknownTopicOrPartition);
    }
    let new = NewTopic {
        name: name.to_string(),
        partitions: -1,
        replication_factor: -1,
        assignments: Vec::new(),
        configs: Default::default(),
    };
    match state.create_topic(new, false) {
        Ok(_) => error(ErrorCode::UnknownTopicOrPartition),
        // Lost a race with another creator: report what exists now.
        Err((ErrorCode::TopicAlreadyExists, _)) => match lock(&state.topics).get(name) {
            Some(topic) => topic_metadata(state, topic),
            None => error(ErrorCode::UnknownTopicOrPartition),
        },
        Err((code, _)) => error(code),
    }
}

/// One topic's metadata. A partition whose leader is stopped has no leader
/// (LEADER_NOT_AVAILABLE, leader -1), as in Kafka when the only replica is offline.
fn topic_metadata(state: &ClusterState, topic: &Topic) -> MetadataResponseTopic {
    let partitions = topic
        .partitions
        .iter()
        .zip(0i32..)
        .map(|(log, index)| {
            let (leader, epoch) = log.leader();
            let up = state.is_running(leader);
            MetadataResponsePartition {
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
                offline_replicas: if up {
                    Vec::new()
                } else {
                    vec![BrokerId(leader)]
                },
                ..Default::default()
            }
        })
        .collect();
    MetadataResponseTopic {
        error_code: ErrorCode::None,
        name: Some(topic.name.clone().into()),
        topic_id: topic.id,
        is_internal: false,
        partitions,
        topic_authorized_operations: NOT_REQUESTED,
        ..Default::default()
    }
}
