//! InitProducerId (key 22): a producer id and epoch for an idempotent or transactional producer
//! (KIP-98; epoch bumps per KIP-360). The bookkeeping lives in [`crate::producer_state`]; this
//! handler only checks that a transactional id was sent to its coordinator.

use kafka_protocol::acl::{AclOperation, ResourceType};
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse};
use kafka_protocol::{ErrorCode, ProducerId};

use crate::context::RequestContext;
use crate::producer_state::InitProducerIdParams;
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &InitProducerIdRequest,
    version: i16,
) -> InitProducerIdResponse {
    let failure = |code: ErrorCode| InitProducerIdResponse {
        error_code: code,
        producer_id: ProducerId::NONE,
        producer_epoch: -1,
        ..Default::default()
    };
    if let Some(id) = request
        .transactional_id
        .as_deref()
        .filter(|id| !id.is_empty())
    {
        if !ctx.allowed(AclOperation::Write, ResourceType::TransactionalId, id) {
            return failure(ErrorCode::TransactionalIdAuthorizationFailed);
        }
        if ctx.state.coordinator_for(id).map(|b| b.id) != Some(ctx.broker_id) {
            return failure(ErrorCode::NotCoordinator);
        }
    }
    // KIP-679: an idempotent producer needs IDEMPOTENT_WRITE on the cluster, or WRITE on some
    // topic.
    else if !(ctx.allowed_cluster(AclOperation::IdempotentWrite)
        || ctx.state.authorizer.as_ref().is_none_or(|a| {
            a.authorize_any(ctx.requester(), AclOperation::Write, ResourceType::Topic)
        }))
    {
        return failure(ErrorCode::ClusterAuthorizationFailed);
    }
    let params = InitProducerIdParams::from_request(request, version);
    let result = lock(&ctx.state.producer_ids).init_producer_id(&params);
    match result {
        Ok(pid) => InitProducerIdResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None,
            producer_id: ProducerId(pid.producer_id),
            producer_epoch: pid.producer_epoch,
            ..Default::default()
        },
        Err(code) => failure(code),
    }
}
