//! CreatePartitions (key 37): grow a topic's partition count (it can never shrink).

use std::sync::Arc;

use kafka_protocol::acl::AclOperation;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::ErrorCode;

use crate::context::RequestContext;
use crate::log::PartitionLog;
use crate::state::{check_assignments, MAX_PARTITIONS};
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &CreatePartitionsRequest,
    _version: i16,
) -> CreatePartitionsResponse {
    let results = request
        .topics
        .iter()
        .map(|t| {
            let explicit: Vec<Vec<i32>> = t
                .assignments
                .iter()
                .flatten()
                .map(|a| a.broker_ids.iter().map(|b| b.0).collect())
                .collect();
            let outcome = if ctx.allowed_topic(AclOperation::Alter, &t.name) {
                grow(ctx, &t.name, t.count, &explicit, request.validate_only)
            } else {
                Err((ErrorCode::TopicAuthorizationFailed, String::new()))
            };
            let (code, message) = match outcome {
                Ok(()) => (ErrorCode::None, None),
                // Kafka names no reason for an unknown topic: the code says it all.
                Err((
                    code @ (ErrorCode::UnknownTopicOrPartition
                    | ErrorCode::TopicAuthorizationFailed),
                    _,
                )) => (code, None),
                Err((code, message)) => (code, Some(message)),
            };
            CreatePartitionsTopicResult::default()
                .with_name(t.name.clone())
                .with_error_code(code)
                .with_error_message(message.map(Into::into))
        })
        .collect();
    CreatePartitionsResponse::default().with_results(results)
}

fn grow(
    ctx: &RequestContext,
    name: &str,
    count: i32,
    explicit: &[Vec<i32>],
    validate_only: bool,
) -> Result<(), (ErrorCode, String)> {
    let live = ctx.state.live_brokers();
    let mut topics = lock(&ctx.state.topics);
    let topic = topics.get_mut(name).ok_or((
        ErrorCode::UnknownTopicOrPartition,
        format!("The topic '{name}' does not exist."),
    ))?;
    let current = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
    if count <= current {
        return Err((
            ErrorCode::InvalidPartitions,
            format!("Topic currently has {current} partitions, which is higher than or equal to the requested {count}."),
        ));
    }
    if count > MAX_PARTITIONS {
        return Err((
            ErrorCode::InvalidPartitions,
            format!("This broker allows at most {MAX_PARTITIONS} partitions per topic."),
        ));
    }
    let added = count - current;
    if !explicit.is_empty() && i32::try_from(explicit.len()).ok() != Some(added) {
        return Err((
            ErrorCode::InvalidReplicaAssignment,
            format!(
                "Increasing the number of partitions by {added} but {} assignments provided.",
                explicit.len()
            ),
        ));
    }
    check_assignments(&live, explicit)?;
    // New partitions get as many replicas as the topic's first partition has.
    let replication = topic
        .partitions
        .first()
        .map_or(1, |p| i16::try_from(p.replicas().len()).unwrap_or(1));
    if let Some(a) = explicit.first() {
        if a.len() != usize::try_from(replication).unwrap_or(0) {
            return Err((
                ErrorCode::InvalidReplicaAssignment,
                format!(
                    "Inconsistent replication factor between partitions, partition 0 has {replication} while partitions [{current}] have replication factors [{}], respectively.",
                    a.len()
                ),
            ));
        }
    }
    if validate_only {
        return Ok(());
    }
    for replicas in ctx
        .state
        .assign_replicas(&live, added, replication, explicit)
    {
        topic.partitions.push(Arc::new(PartitionLog::new(replicas)));
    }
    Ok(())
}
