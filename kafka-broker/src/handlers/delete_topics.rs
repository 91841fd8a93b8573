//! DeleteTopics (key 20): by name (v0-5 `topic_names`, v6 `topics[].name`) or by topic id (v6).

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
    let mut topics = lock(&ctx.state.topics);
    let resolved = match &name {
        Some(n) => topics.get(n).map(|t| (t.name.clone(), t.id)),
        None => topics.get_by_id(&id).map(|t| (t.name.clone(), t.id)),
    };
    match resolved {
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
