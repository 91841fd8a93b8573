//! EndTxn (key 26): commit or abort a producer's open transaction (KIP-98). The markers are
//! written to every partition of the transaction before the answer (see [`crate::txn`]).
//!
//! Transactions v1 (EndTxn v0-4, or `transaction.version` below 2): the client keeps its
//! epoch, and the answer echoes it. Transactions v2 (v5+ with `transaction.version` 2, KIP-890
//! part 2): the coordinator bumps the epoch at every commit and abort, writes the markers with
//! the new one, and answers with it; the client uses it for the next transaction.

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
    let v2 = version >= 5 && lock(&ctx.state.features).transactions_v2();
    let mut coordinator = lock(&ctx.state.transactions);
    let now_ms = ctx.state.clock.now_ms();
    let (id, epoch, committed) = (
        request.transactional_id.as_str(),
        request.producer_epoch,
        request.committed,
    );
    let outcome = if v2 {
        coordinator.end_transaction_v2(id, request.producer_id.0, epoch, committed, now_ms)
    } else {
        coordinator.end_transaction(id, request.producer_id.0, epoch, committed, now_ms)
    };
    let ok = |producer_id: i64, producer_epoch: i16| {
        EndTxnResponse::default()
            .with_error_code(ErrorCode::None)
            .with_producer_id(ProducerId(producer_id))
            .with_producer_epoch(producer_epoch)
    };
    match outcome {
        Ok(EndOutcome::Finish(completion)) => {
            crate::txn::finish(&ctx.state, &mut coordinator, &completion);
            if v2 {
                ok(completion.producer_id, completion.producer_epoch)
            } else {
                ok(request.producer_id.0, epoch)
            }
        }
        Ok(EndOutcome::AlreadyDone) => match coordinator.producer_of(id) {
            Some(current) if v2 => ok(current.producer_id, current.producer_epoch),
            _ => ok(request.producer_id.0, epoch),
        },
        Err(code) => failure(fenced_for_version(code, version, 2)),
    }
}
