//! InitProducerId (key 22): a producer id and epoch for an idempotent or transactional producer
//! (KIP-98; epoch bumps per KIP-360). The decisions are the transaction coordinator's
//! ([`crate::txn`]); this handler checks the transactional id's ACL and placement, and writes
//! the abort markers when the init fenced an open transaction.

use kafka_protocol::acl::{AclOperation, ResourceType};

use super::common::check_transactional_id;
use crate::txn::InitOutcome;
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
        if let Err(code) = check_transactional_id(ctx, id) {
            return failure(code);
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
    let result = {
        let mut coordinator = lock(&ctx.state.transactions);
        let outcome = coordinator.init_producer_id(&params, ctx.state.clock.now_ms());
        match outcome {
            Ok(InitOutcome::Ready(pid)) => Ok(pid),
            Ok(InitOutcome::AbortFirst(completion)) => {
                // The previous instance's transaction is aborted now; the client retries.
                crate::txn::finish(&ctx.state, &mut coordinator, &completion);
                Err(ErrorCode::ConcurrentTransactions)
            }
            Err(code) => Err(code),
        }
    };
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
