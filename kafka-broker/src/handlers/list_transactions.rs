//! ListTransactions (key 66, KIP-664): the transactional ids this broker coordinates, filtered
//! by state, producer id, how long their transaction has been open (v1) and a pattern on the
//! id (v2); only ids the requester may DESCRIBE are listed.

use kafka_protocol::acl::{AclOperation, ResourceType};
use kafka_protocol::messages::list_transactions_response::TransactionState;
use kafka_protocol::messages::{ListTransactionsRequest, ListTransactionsResponse};
use kafka_protocol::{ErrorCode, ProducerId};

use crate::context::RequestContext;
use crate::sync::lock;
use crate::txn::TxnState;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &ListTransactionsRequest,
    _version: i16,
) -> ListTransactionsResponse {
    let mut states = Vec::new();
    let mut unknown = Vec::new();
    for name in &request.state_filters {
        match TxnState::from_name(name) {
            Some(state) => states.push(state),
            None => unknown.push(name.clone()),
        }
    }
    // A filter naming only unknown states matches nothing (Kafka lists nothing then).
    if states.is_empty() && !unknown.is_empty() {
        return ListTransactionsResponse::default().with_unknown_state_filters(unknown);
    }
    // KIP-1152: the whole id must match.
    let pattern = match request.transactional_id_pattern.as_deref() {
        None | Some("") => None,
        Some(p) => match regex::Regex::new(&format!("^(?:{p})$")) {
            Ok(re) => Some(re),
            Err(_) => {
                return ListTransactionsResponse::default()
                    .with_error_code(ErrorCode::InvalidRequest)
            }
        },
    };
    let producer_ids: Vec<i64> = request.producer_id_filters.iter().map(|p| p.0).collect();
    let listed = lock(&ctx.state.transactions).list(
        &states,
        &producer_ids,
        request.duration_filter,
        ctx.state.clock.now_ms(),
    );
    let transaction_states = listed
        .into_iter()
        .filter(|t| {
            ctx.state.coordinator_for(&t.transactional_id).map(|b| b.id) == Some(ctx.broker_id)
                && pattern
                    .as_ref()
                    .is_none_or(|re| re.is_match(&t.transactional_id))
                && ctx.allowed(
                    AclOperation::Describe,
                    ResourceType::TransactionalId,
                    &t.transactional_id,
                )
        })
        .map(|t| {
            TransactionState::default()
                .with_transactional_id(kafka_protocol::TransactionalId::from(t.transactional_id))
                .with_producer_id(ProducerId(t.producer_id))
                .with_transaction_state(t.state.name())
        })
        .collect();
    ListTransactionsResponse::default()
        .with_unknown_state_filters(unknown)
        .with_transaction_states(transaction_states)
}
