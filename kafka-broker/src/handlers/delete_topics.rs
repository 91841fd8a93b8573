//! DeleteTopics (key 20): by name (v0-5 `topic_names`, v6 `topics[].name`) or by topic id (v6).

use kafka_protocol::acl::AclOperation;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse};
use kafka_protocol::ErrorCode;
use kafka_protocol::Uuid;

use crate::context::RequestContext;
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DeleteTopicsRequest,
    _version: i16,
) -> DeleteTopicsResponse {
    // v6 names topics by name or id in `topics`; earlier versions by name in `topic_names`.
    // Each version fills only its own field.
    let targets: Vec<(Option<String>, Uuid)> = request
        .topics
        .iter()
        .map(|t| (t.name.as_deref().map(String::from), t.topic_id))
        .chain(
            request
                .topic_names
                .iter()
                .map(|n| (Some(n.to_string()), Uuid::ZERO)),
        )
        .collect();
    let responses = targets
        .into_iter()
        .map(|(name, id)| delete_one(ctx, name, id))
        .collect();
    DeleteTopicsResponse {
        throttle_time_ms: 0,
        responses,
        ..Default::default()
    }
}

fn delete_one(ctx: &RequestContext, name: Option<String>, id: Uuid) -> DeletableTopicResult {
    // DELETE on the cluster covers every topic; otherwise each needs DELETE, and a topic the
    // principal may not even describe is not disclosed: no id, and no name when asked by id.
    let deletable = |t: &str| {
        ctx.allowed_cluster(AclOperation::Delete) || ctx.allowed_topic(AclOperation::Delete, t)
    };
    let describable = |t: &str| {
        ctx.allowed_cluster(AclOperation::Delete) || ctx.allowed_topic(AclOperation::Describe, t)
    };
    let denied = |name: Option<&str>, topic_id: Uuid| DeletableTopicResult {
        name: name.map(Into::into),
        topic_id,
        error_code: ErrorCode::TopicAuthorizationFailed,
        error_message: Some("Topic authorization failed.".into()),
        ..Default::default()
    };
    let mut topics = lock(&ctx.state.topics);
    if let Some(n) = &name {
        if !describable(n) {
            return denied(Some(n), Uuid::ZERO);
        }
    }
    let resolved = match &name {
        Some(n) => topics.get(n).map(|t| (t.name.clone(), t.id)),
        None => topics.get_by_id(&id).map(|t| (t.name.clone(), t.id)),
    };
    match resolved {
        Some((topic_name, topic_id)) if !deletable(&topic_name) => match &name {
            Some(n) => denied(Some(n), Uuid::ZERO),
            None if describable(&topic_name) => denied(Some(&topic_name), topic_id),
            None => denied(None, topic_id),
        },
        Some((topic_name, topic_id)) => {
            topics.remove(&topic_name);
            tracing::debug!(topic = %topic_name, "deleted topic");
            DeletableTopicResult {
                name: Some(topic_name.into()),
                topic_id,
                error_code: ErrorCode::None,
                ..Default::default()
            }
        }
        None => DeletableTopicResult {
            name: name.clone().map(Into::into),
            topic_id: id,
            error_code: if name.is_some() {
                ErrorCode::UnknownTopicOrPartition
            } else {
                ErrorCode::UnknownTopicId
            },
            error_message: Some("This server does not host this topic.".into()),
            ..Default::default()
        },
    }
}
