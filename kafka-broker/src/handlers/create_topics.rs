//! CreateTopics (key 19): create topics with partition counts, replica assignments and configs,
//! or only validate them (`validate_only`).

use std::collections::HashMap;

use kafka_protocol::acl::AclOperation;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::ErrorCode;

use super::configs::{describe_topic_configs, ConfigEntry};
use crate::context::RequestContext;
use crate::state::NewTopic;
use crate::topics::validate_configs;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &CreateTopicsRequest,
    _version: i16,
) -> CreateTopicsResponse {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for t in &request.topics {
        *seen.entry(t.name.as_str()).or_default() += 1;
    }
    // A name given twice is refused, and answered once (results are keyed by name, as Kafka's
    // response is), whichever entry came first.
    let mut answered = std::collections::HashSet::new();
    let topics = request
        .topics
        .iter()
        .filter(|t| answered.insert(t.name.as_str()))
        .map(|t| {
            if seen.get(t.name.as_str()).copied().unwrap_or(0) > 1 {
                return failure(
                    &t.name,
                    ErrorCode::InvalidRequest,
                    format!("topic {} appears more than once in the request", t.name),
                );
            }
            // CREATE on the cluster covers every topic; otherwise each needs its own.
            if !(ctx.allowed_cluster(AclOperation::Create)
                || ctx.allowed_topic(AclOperation::Create, &t.name))
            {
                return failure(
                    &t.name,
                    ErrorCode::TopicAuthorizationFailed,
                    "Authorization failed.".into(),
                );
            }
            match create_one(ctx, t, request.validate_only) {
                Ok(result) => result,
                Err((code, message)) => failure(&t.name, code, message),
            }
        })
        .collect();
    CreateTopicsResponse {
        throttle_time_ms: 0,
        topics,
        ..Default::default()
    }
}

fn create_one(
    ctx: &RequestContext,
    t: &CreatableTopic,
    validate_only: bool,
) -> Result<CreatableTopicResult, (ErrorCode, String)> {
    let mut assignments = Vec::new();
    let mut replication_factor = t.replication_factor;
    if !t.assignments.is_empty() {
        if t.num_partitions != -1 || t.replication_factor != -1 {
            return Err((
                ErrorCode::InvalidRequest,
                "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.".into(),
            ));
        }
        let mut sorted: Vec<_> = t.assignments.iter().collect();
        sorted.sort_by_key(|a| a.partition_index);
        for (expected, a) in (0i32..).zip(&sorted) {
            if a.partition_index != expected || a.broker_ids.is_empty() {
                return Err((
                    ErrorCode::InvalidReplicaAssignment,
                    "Partitions must be numbered 0..n and each needs at least one replica.".into(),
                ));
            }
            assignments.push(a.broker_ids.iter().map(|b| b.0).collect());
        }
        replication_factor = sorted
            .first()
            .map_or(1, |a| i16::try_from(a.broker_ids.len()).unwrap_or(i16::MAX));
    }
    let configs = validate_configs(
        t.configs
            .iter()
            .map(|c| (c.name.as_str(), c.value.as_deref())),
    )?;
    let new = NewTopic {
        name: t.name.to_string(),
        partitions: t.num_partitions,
        replication_factor,
        assignments,
        configs,
    };
    let topic = ctx.state.create_topic(new, validate_only)?;
    // The created topic's configs are shown only with DESCRIBE_CONFIGS on it.
    let describable = ctx.allowed_topic(AclOperation::DescribeConfigs, &topic.name);
    let configs = describe_topic_configs(&ctx.state, &topic, None)
        .into_iter()
        .map(|c: ConfigEntry| CreatableTopicConfigs {
            name: c.name.into(),
            value: Some(c.value.into()),
            read_only: false,
            config_source: c.source,
            is_sensitive: false,
            ..Default::default()
        })
        .filter(|_| describable)
        .collect();
    Ok(CreatableTopicResult {
        name: topic.name.clone().into(),
        topic_id: topic.id,
        error_code: ErrorCode::None,
        error_message: None,
        num_partitions: i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX),
        replication_factor: if replication_factor == -1 {
            1
        } else {
            replication_factor
        },
        configs: Some(configs),
        topic_config_error_code: if describable {
            ErrorCode::None
        } else {
            ErrorCode::TopicAuthorizationFailed
        },
        ..Default::default()
    })
}

fn failure(name: &str, code: ErrorCode, message: String) -> CreatableTopicResult {
    CreatableTopicResult {
        name: name.into(),
        error_code: code,
        error_message: Some(message.into()),
        num_partitions: -1,
        replication_factor: -1,
        // Kafka answers a failed topic with an empty config list (null is for versions that
        // lack the field).
        configs: Some(Vec::new()),
        ..Default::default()
    }
}
