//! AddOffsetsToTxn (key 25): a group's offsets join a producer's open transaction, so that
//! TxnOffsetCommit may stage offsets for it (KIP-98's `sendOffsetsToTransaction`).

use kafka_protocol::acl::AclOperation;
use kafka_protocol::messages::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};
use kafka_protocol::ErrorCode;

use super::common::{check_transactional_id, fenced_for_version};
use crate::context::RequestContext;
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &AddOffsetsToTxnRequest,
    version: i16,
) -> AddOffsetsToTxnResponse {
    let answer = |code| AddOffsetsToTxnResponse::default().with_error_code(code);
    if request.transactional_id.is_empty() {
        return answer(ErrorCode::InvalidRequest);
    }
    if let Err(code) = check_transactional_id(ctx, &request.transactional_id) {
        return answer(code);
    }
    // Kafka checks READ on the group after WRITE on the transactional id.
    if !ctx.allowed_group(AclOperation::Read, &request.group_id) {
        return answer(ErrorCode::GroupAuthorizationFailed);
    }
    let result = lock(&ctx.state.transactions).add_group(
        &request.transactional_id,
        request.producer_id.0,
        request.producer_epoch,
        &request.group_id,
        ctx.state.clock.now_ms(),
    );
    answer(match result {
        Ok(()) => ErrorCode::None,
        Err(code) => fenced_for_version(code, version, 2),
    })
}
