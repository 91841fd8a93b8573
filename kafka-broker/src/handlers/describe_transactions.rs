//! DescribeTransactions (key 65, KIP-664): each transactional id's state, producer id and
//! epoch, timeout, start time and partitions, from its coordinator.

use kafka_protocol::acl::{AclOperation, ResourceType};
use kafka_protocol::messages::describe_transactions_response::{TopicData, TransactionState};
use kafka_protocol::messages::{DescribeTransactionsRequest, DescribeTransactionsResponse};
use kafka_protocol::{ErrorCode, ProducerId};

use crate::context::RequestContext;
use crate::sync::lock;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &DescribeTransactionsRequest,
    _version: i16,
) -> DescribeTransactionsResponse {
    let states = request
        .transactional_ids
        .iter()
        .map(|id| {
            // Kafka 4.4 leaves the other fields of an error answer at zero.
            let answer = TransactionState::default()
                .with_transactional_id(id.clone())
                .with_producer_id(ProducerId(0))
                .with_producer_epoch(0)
                .with_transaction_start_time_ms(0);
            let error = |code| answer.clone().with_error_code(code);
            if !ctx.allowed(AclOperation::Describe, ResourceType::TransactionalId, id) {
                return error(ErrorCode::TransactionalIdAuthorizationFailed);
            }
            if ctx.state.coordinator_for(id).map(|b| b.id) != Some(ctx.broker_id) {
                return error(ErrorCode::NotCoordinator);
            }
            if id.is_empty() {
                return error(ErrorCode::InvalidRequest);
            }
            let Some(described) = lock(&ctx.state.transactions).describe(id) else {
                return error(ErrorCode::TransactionalIdNotFound);
            };
            let mut topics: Vec<TopicData> = Vec::new();
            for (topic, partition) in &described.metadata.partitions {
                match topics
                    .iter_mut()
                    .find(|t| t.topic.as_str() == topic.as_str())
                {
                    Some(t) => t.partitions.push(*partition),
                    None => topics.push(
                        TopicData::default()
                            .with_topic(kafka_protocol::TopicName::from(topic.clone()))
                            .with_partitions(vec![*partition]),
                    ),
                }
            }
            answer
                .with_error_code(ErrorCode::None)
                .with_transaction_state(described.metadata.state.name())
                .with_transaction_timeout_ms(described.metadata.timeout_ms)
                .with_transaction_start_time_ms(described.metadata.start_ms)
                .with_producer_id(ProducerId(described.producer.producer_id))
                .with_producer_epoch(described.producer.producer_epoch)
                .with_topics(topics)
        })
        .collect();
    DescribeTransactionsResponse::default().with_transaction_states(states)
}
