//! EndTxn (key 26): commit or abort a producer's open transaction (KIP-98). The markers are
//! written to every partition of the transaction before the answer (see [`crate::txn`]).
//!
//! The bundled broker serves transactions v1 only (it does not finalize the
//! `transaction.version` feature, so clients keep their epoch): version 5 is answered like 4,
//! with the producer id and epoch the client keeps.

use kafka_protocol::messages::{EndTxnRequest, EndTxnResponse};
use kafka_protocol::{ErrorCode, ProducerId};

use super::common::{check_transactional_id, fenced_for_version};
use crate::context::RequestContext;
use crate::sync::lock;
use crate::txn::EndOutcome;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &EndTxnRequest,
    version: i16,
) -> EndTxnResponse {
    let failure = |code| {
        EndTxnResponse::default()
            .with_error_code(code)
            .with_producer_id(ProducerId::NONE)
            .with_producer_epoch(-1)
    };
    if request.transactional_id.is_empty() {
        return failure(ErrorCode::InvalidRequest);
    }
    if let Err(code) = check_transactional_id(ctx, &request.transactional_id) {
        return failure(code);
    }
    let mut coordinator = lock(&ctx.state.transactions);
    let outcome = coordinator.end_transaction(
        &request.transactional_id,
        request.producer_id.0,
        request.producer_epoch,
        request.committed,
        ctx.state.clock.now_ms(),
    );
    match outcome {
        Ok(outcome) => {
            if let EndOutcome::Finish(completion) = outcome {
                crate::txn::finish(&ctx.state, &mut coordinator, &completion);
            }
            EndTxnResponse::default()
                .with_error_code(ErrorCode::None)
                .with_producer_id(request.producer_id)
                .with_producer_epoch(request.producer_epoch)
        }
        Err(code) => failure(fenced_for_version(code, version, 2)),
    }
}
