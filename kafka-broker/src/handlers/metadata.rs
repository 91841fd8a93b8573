//! Metadata (key 3): brokers, controller, topics, partitions and their leaders.

use kafka_protocol::acl::{AclOperation, ResourceType};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{MetadataRequest, MetadataResponse};
use kafka_protocol::{BrokerId, ErrorCode, Uuid};

use super::common::PartitionReplicas;
use crate::authorized_operations::{self, NOT_REQUESTED};
use crate::context::RequestContext;
use crate::state::{ClusterState, NewTopic};
use crate::sync::lock;
use crate::topics::{validate_topic_name, Topic};

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &MetadataRequest,
    version: i16,
) -> MetadataResponse {
    let state = &ctx.state;
    let live = state.live_brokers();
    let brokers = live
        .iter()
        .map(|b| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(b.id))
                .with_host(b.host.clone())
                .with_port(i32::from(b.port))
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
    // Topics the principal may not describe are left out of a listing of all topics, and
    // answered TOPIC_AUTHORIZATION_FAILED (with no id, so as not to disclose whether they
    // exist) when named; Kafka lists those last.
    let describable = |name: &str| ctx.allowed_topic(AclOperation::Describe, name);
    let mut unauthorized = Vec::new();
    let topics: Vec<MetadataResponseTopic> = match requested {
        None => lock(&state.topics)
            .iter()
            .filter(|t| describable(&t.name))
            .map(|t| topic_metadata(state, t))
            .collect(),
        Some(list) => list
            .iter()
            .filter_map(|t| match &t.name {
                Some(name) if !describable(name) => {
                    unauthorized.push(denied(Some(name), Uuid::default()));
                    None
                }
                Some(name) => Some(by_name(ctx, name, allow_auto_create)),
                None => {
                    let topics = lock(&state.topics);
                    match topics.get_by_id(&t.topic_id) {
                        // Topic ids are not secret: the id is echoed with the error.
                        Some(topic) if !describable(&topic.name) => {
                            unauthorized.push(denied(None, t.topic_id));
                            None
                        }
                        Some(topic) => Some(topic_metadata(state, topic)),
                        None => Some(
                            MetadataResponseTopic::default()
                                .with_error_code(ErrorCode::UnknownTopicId)
                                .with_name(None)
                                .with_topic_id(t.topic_id)
                                .with_topic_authorized_operations(NOT_REQUESTED),
                        ),
                    }
                }
            })
            .collect(),
    };
    let topics = topics
        .into_iter()
        .map(|mut t| {
            // KIP-430 operations go with every topic the principal may describe, those that
            // do not exist included; not with refusals or unknown ids.
            if !matches!(
                t.error_code,
                ErrorCode::TopicAuthorizationFailed | ErrorCode::UnknownTopicId
            ) {
                let name = t.name.as_deref().unwrap_or_default();
                t.topic_authorized_operations = authorized_operations::when(
                    request.include_topic_authorized_operations,
                    || {
                        ctx.authorized_operations(
                            ResourceType::Topic,
                            name,
                            authorized_operations::TOPIC,
                        )
                    },
                );
            }
            t
        })
        .chain(unauthorized)
        .collect();

    MetadataResponse {
        throttle_time_ms: 0,
        brokers,
        cluster_id: Some(state.config.cluster_id.clone().into()),
        controller_id: BrokerId(state.controller_id()),
        topics,
        cluster_authorized_operations: authorized_operations::when(
            request.include_cluster_authorized_operations,
            || ctx.cluster_authorized_operations(),
        ),
        ..Default::default()
    }
}

/// A topic requested by name, auto-created if allowed (`auto.create.topics.enable`).
///
/// The request that creates a topic answers UNKNOWN_TOPIC_OR_PARTITION for it, as Kafka 4 does:
/// Kafka creates the topic through its controller and reports it once its metadata has
/// propagated, so clients retry Metadata; answering the same here keeps their code paths alike.
fn by_name(ctx: &RequestContext, name: &str, allow_auto_create: bool) -> MetadataResponseTopic {
    let state = &ctx.state;
    let error = |code: ErrorCode| {
        MetadataResponseTopic::default()
            .with_error_code(code)
            .with_name(Some(name.into()))
            .with_topic_authorized_operations(NOT_REQUESTED)
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
    // Creating it takes CREATE on the cluster or on the topic.
    if !(ctx.allowed_cluster(AclOperation::Create) || ctx.allowed_topic(AclOperation::Create, name))
    {
        return denied(Some(name), Uuid::default());
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

/// A topic the principal may not describe (or create).
fn denied(name: Option<&str>, topic_id: Uuid) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_error_code(ErrorCode::TopicAuthorizationFailed)
        .with_name(name.map(Into::into))
        .with_topic_id(topic_id)
        .with_is_internal(false)
        .with_topic_authorized_operations(NOT_REQUESTED)
}

/// One topic's metadata. A partition whose leader is stopped has no leader
/// (LEADER_NOT_AVAILABLE, leader -1), as in Kafka when the only replica is offline.
fn topic_metadata(state: &ClusterState, topic: &Topic) -> MetadataResponseTopic {
    let partitions = topic
        .partitions
        .iter()
        .zip(0i32..)
        .map(|(log, index)| {
            let r = PartitionReplicas::of(state, log);
            MetadataResponsePartition::default()
                .with_error_code(r.error_code)
                .with_partition_index(index)
                .with_leader_id(r.leader_id)
                .with_leader_epoch(r.leader_epoch)
                .with_replica_nodes(r.replica_nodes)
                .with_isr_nodes(r.isr_nodes)
                .with_offline_replicas(r.offline_replicas)
        })
        .collect();
    MetadataResponseTopic::default()
        .with_error_code(ErrorCode::None)
        .with_name(Some(topic.name.clone().into()))
        .with_topic_id(topic.id)
        .with_is_internal(false)
        .with_partitions(partitions)
        .with_topic_authorized_operations(NOT_REQUESTED)
}
