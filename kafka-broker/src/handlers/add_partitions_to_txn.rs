//! AddPartitionsToTxn (key 24): partitions join a producer's open transaction (KIP-98).
//!
//! Versions 0-3 come from producers: one transaction, WRITE on the transactional id and on
//! each topic. Versions 4+ (KIP-890) come from brokers: a batch of transactions, CLUSTER_ACTION
//! on the cluster, and `verify_only` to ask whether partitions are already in a transaction
//! (what a leader asks before appending a transactional batch) without adding them.
//!
//! As in Kafka, one partition that fails its checks (no WRITE, unknown) fails the whole
//! transaction's request: the others are answered OPERATION_NOT_ATTEMPTED.

use kafka_protocol::acl::AclOperation;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::{AddPartitionsToTxnRequest, AddPartitionsToTxnResponse};
use kafka_protocol::ErrorCode;

use super::common::{check_transactional_id, fenced_for_version};
use crate::context::RequestContext;
use crate::sync::lock;
use crate::txn::TxnMember;

pub(crate) fn handle(
    ctx: &RequestContext,
    request: &AddPartitionsToTxnRequest,
    version: i16,
) -> AddPartitionsToTxnResponse {
    if version < 4 {
        let results = add_one(
            ctx,
            &request.v3_and_below_transactional_id,
            request.v3_and_below_producer_id.0,
            request.v3_and_below_producer_epoch,
            &request.v3_and_below_topics,
            false,
            version,
        );
        return AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results);
    }
    if !ctx.allowed_cluster(AclOperation::ClusterAction) {
        return AddPartitionsToTxnResponse::default()
            .with_error_code(ErrorCode::ClusterAuthorizationFailed);
    }
    let results = request
        .transactions
        .iter()
        .map(|t| {
            AddPartitionsToTxnResult::default()
                .with_transactional_id(t.transactional_id.clone())
                .with_topic_results(add_one(
                    ctx,
                    &t.transactional_id,
                    t.producer_id.0,
                    t.producer_epoch,
                    &t.topics,
                    t.verify_only,
                    version,
                ))
        })
        .collect();
    AddPartitionsToTxnResponse::default().with_results_by_transaction(results)
}

/// Adds (or with `verify_only`, checks) one transaction's partitions; one result per partition.
fn add_one(
    ctx: &RequestContext,
    transactional_id: &str,
    producer_id: i64,
    producer_epoch: i16,
    topics: &[AddPartitionsToTxnTopic],
    verify_only: bool,
    version: i16,
) -> Vec<AddPartitionsToTxnTopicResult> {
    let partitions: Vec<(String, i32)> = topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (t.name.to_string(), *p)))
        .collect();
    let answer = |code_of: &dyn Fn(&str, i32) -> ErrorCode| -> Vec<AddPartitionsToTxnTopicResult> {
        topics
            .iter()
            .map(|t| {
                AddPartitionsToTxnTopicResult::default()
                    .with_name(t.name.clone())
                    .with_results_by_partition(
                        t.partitions
                            .iter()
                            .map(|p| {
                                AddPartitionsToTxnPartitionResult::default()
                                    .with_partition_index(*p)
                                    .with_partition_error_code(code_of(&t.name, *p))
                            })
                            .collect(),
                    )
            })
            .collect()
    };
    if transactional_id.is_empty() {
        return answer(&|_, _| ErrorCode::InvalidRequest);
    }
    // Brokers (v4+) are trusted with the transactional id; producers need WRITE on it.
    let placement = if version < 4 {
        check_transactional_id(ctx, transactional_id)
    } else if ctx.state.coordinator_for(transactional_id).map(|b| b.id) != Some(ctx.broker_id) {
        Err(ErrorCode::NotCoordinator)
    } else {
        Ok(())
    };
    if let Err(code) = placement {
        return answer(&|_, _| code);
    }
    let check = |topic: &str, partition: i32| -> ErrorCode {
        if version < 4 && !ctx.allowed_topic(AclOperation::Write, topic) {
            return ErrorCode::TopicAuthorizationFailed;
        }
        let exists = lock(&ctx.state.topics)
            .get(topic)
            .is_some_and(|t| t.partition(partition).is_some());
        if exists {
            ErrorCode::None
        } else {
            ErrorCode::UnknownTopicOrPartition
        }
    };
    let failed: Vec<((String, i32), ErrorCode)> = partitions
        .iter()
        .map(|(t, p)| ((t.clone(), *p), check(t, *p)))
        .filter(|(_, code)| *code != ErrorCode::None)
        .collect();
    if !failed.is_empty() {
        return answer(&|t, p| {
            failed
                .iter()
                .find(|((ft, fp), _)| ft == t && *fp == p)
                .map_or(ErrorCode::OperationNotAttempted, |(_, code)| *code)
        });
    }
    let now = ctx.state.clock.now_ms();
    let mut coordinator = lock(&ctx.state.transactions);
    if verify_only {
        let codes: Vec<ErrorCode> = partitions
            .iter()
            .map(|(t, p)| {
                match coordinator.verify(
                    transactional_id,
                    producer_id,
                    producer_epoch,
                    TxnMember::Partition(t, *p),
                ) {
                    Ok(()) => ErrorCode::None,
                    Err(code) => code,
                }
            })
            .collect();
        drop(coordinator);
        return answer(&|t, p| {
            partitions
                .iter()
                .position(|(pt, pp)| pt == t && *pp == p)
                .and_then(|i| codes.get(i).copied())
                .unwrap_or(ErrorCode::UnknownServerError)
        });
    }
    let code = match coordinator.add_partitions(
        transactional_id,
        producer_id,
        producer_epoch,
        &partitions,
        now,
    ) {
        Ok(()) => ErrorCode::None,
        Err(code) => fenced_for_version(code, version, 2),
    };
    drop(coordinator);
    answer(&|_, _| code)
}
