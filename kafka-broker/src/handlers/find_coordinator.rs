//! FindCoordinator (key 10): which broker coordinates a group (key type 0) or a transactional id
//! (key type 1). v4+ (KIP-699) looks up many keys at once in `coordinator_keys`.

use kafka_protocol::acl::{AclOperation, ResourceType};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::{BrokerId, ErrorCode};

use crate::context::RequestContext;

/// Key types: consumer group and transactional id.
const KEY_GROUP: i8 = 0;
const KEY_TRANSACTION: i8 = 1;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &FindCoordinatorRequest,
    version: i16,
) -> FindCoordinatorResponse {
    if version >= 4 {
        let coordinators = request
            .coordinator_keys
            .iter()
            .map(|key| {
                let (code, node) = lookup(ctx, request.key_type, key);
                let (node_id, host, port) = node.unwrap_or((-1, String::new(), -1));
                Coordinator {
                    key: key.clone(),
                    node_id: BrokerId(node_id),
                    host: host.into(),
                    port,
                    error_code: code,
                    // Kafka leaves the per-key message empty, even for errors of the key's
                    // coordinator, and explains only a request it cannot serve at all.
                    error_message: Some(if code == ErrorCode::InvalidRequest {
                        code.description().into()
                    } else {
                        String::new().into()
                    }),
                    ..Default::default()
                }
            })
            .collect();
        return FindCoordinatorResponse {
            coordinators,
            ..Default::default()
        };
    }
    let (code, node) = lookup(ctx, request.key_type, &request.key);
    let (node_id, host, port) = node.unwrap_or((-1, String::new(), -1));
    FindCoordinatorResponse {
        throttle_time_ms: 0,
        error_code: code,
        // Kafka sends the error's name for success ("NONE") and its description otherwise.
        error_message: Some(if code.is_error() {
            code.description().into()
        } else {
            code.name().into()
        }),
        node_id: BrokerId(node_id),
        host: host.into(),
        port,
        ..Default::default()
    }
}

fn lookup(
    ctx: &RequestContext,
    key_type: i8,
    key: &str,
) -> (ErrorCode, Option<(i32, String, i32)>) {
    // Finding a coordinator takes DESCRIBE on the group or the transactional id.
    let (resource, denied) = match key_type {
        KEY_GROUP => (ResourceType::Group, ErrorCode::GroupAuthorizationFailed),
        KEY_TRANSACTION => (
            ResourceType::TransactionalId,
            ErrorCode::TransactionalIdAuthorizationFailed,
        ),
        _ => return (ErrorCode::InvalidRequest, None),
    };
    if !ctx.allowed(AclOperation::Describe, resource, key) {
        return (denied, None);
    }
    match ctx.state.coordinator_for(key) {
        Some(b) => (ErrorCode::None, Some((b.id, b.host, i32::from(b.port)))),
        None => (ErrorCode::CoordinatorNotAvailable, None),
    }
}
