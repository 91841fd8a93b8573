//! Helpers shared by the handlers: partition lookup with leadership checks.

use kafka_protocol::acl::AclOperation;
use kafka_protocol::{BrokerId, ErrorCode};
use std::sync::Arc;

use crate::context::RequestContext;
use crate::log::PartitionLog;
use crate::state::ClusterState;
use crate::sync::lock;
use crate::topics::Topic;

/// The partition `index` of `topic` if this broker leads it.
///
/// UNKNOWN_TOPIC_OR_PARTITION when it does not exist; NOT_LEADER_OR_FOLLOWER when another
/// broker leads it, which sends the client back to Metadata to find the new leader.
pub(crate) fn led_partition(
    ctx: &RequestContext,
    topic: &Topic,
    index: i32,
) -> Result<Arc<PartitionLog>, ErrorCode> {
    let log = topic
        .partition(index)
        .ok_or(ErrorCode::UnknownTopicOrPartition)?;
    if log.leader().0 != ctx.broker_id {
        return Err(ErrorCode::NotLeaderOrFollower);
    }
    Ok(Arc::clone(log))
}

/// How Metadata and DescribeTopicPartitions describe a partition. Each partition has one
/// replica, its leader; while that broker is stopped the partition is offline, as in Kafka when
/// the only replica is down: LEADER_NOT_AVAILABLE, leader -1, an empty ISR.
pub(crate) struct PartitionReplicas {
    pub(crate) error_code: ErrorCode,
    pub(crate) leader_id: BrokerId,
    pub(crate) leader_epoch: i32,
    pub(crate) replica_nodes: Vec<BrokerId>,
    pub(crate) isr_nodes: Vec<BrokerId>,
    pub(crate) offline_replicas: Vec<BrokerId>,
}

impl PartitionReplicas {
    /// What Metadata and DescribeTopicPartitions report for `log`: every running replica is in
    /// sync (the brokers share one log); a partition whose leader is stopped has no leader
    /// (LEADER_NOT_AVAILABLE, leader -1), as in Kafka when no in-sync replica is online.
    pub(crate) fn of(state: &ClusterState, log: &PartitionLog) -> PartitionReplicas {
        let (leader, leader_epoch) = log.leader();
        let replicas = log.replicas();
        let (isr, offline): (Vec<i32>, Vec<i32>) =
            replicas.iter().partition(|id| state.is_running(**id));
        let ids = |v: Vec<i32>| v.into_iter().map(BrokerId).collect::<Vec<_>>();
        let led = state.is_running(leader);
        PartitionReplicas {
            error_code: if led {
                ErrorCode::None
            } else {
                ErrorCode::LeaderNotAvailable
            },
            leader_id: if led {
                BrokerId(leader)
            } else {
                BrokerId::NONE
            },
            leader_epoch,
            replica_nodes: ids(replicas),
            isr_nodes: ids(isr),
            offline_replicas: ids(offline),
        }
    }
}

/// One topic of a partition-addressed request (ListOffsets, DeleteRecords, OffsetForLeaderEpoch,
/// DescribeProducers), looked up once so that each of its partitions is answered from the same
/// view of the topic even if it is deleted while the request is being handled.
pub(crate) struct RequestedTopic<'a> {
    ctx: &'a RequestContext,
    topic: Option<Topic>,
    /// Whether the principal may perform the request's operation on the topic.
    authorized: bool,
}

impl<'a> RequestedTopic<'a> {
    /// Looks `name` up for a request that needs `operation` on it.
    pub(crate) fn lookup(
        ctx: &'a RequestContext,
        name: &str,
        operation: AclOperation,
    ) -> RequestedTopic<'a> {
        let topic = lock(&ctx.state.topics).get(name).cloned();
        let authorized = ctx.allowed_topic(operation, name);
        RequestedTopic {
            ctx,
            topic,
            authorized,
        }
    }

    /// Whether the topic exists.
    pub(crate) fn exists(&self) -> bool {
        self.topic.is_some()
    }

    /// Partition `index`'s log if this broker leads it: see [`led_partition`]. Without the
    /// operation's ACL, TOPIC_AUTHORIZATION_FAILED whether or not the topic exists.
    pub(crate) fn led_partition(&self, index: i32) -> Result<Arc<PartitionLog>, ErrorCode> {
        if !self.authorized {
            return Err(ErrorCode::TopicAuthorizationFailed);
        }
        let topic = self
            .topic
            .as_ref()
            .ok_or(ErrorCode::UnknownTopicOrPartition)?;
        led_partition(self.ctx, topic, index)
    }
}

/// Answers every partition of every topic of a partition-addressed request. `answer` gets the
/// topic (looked up once for all its partitions) and one requested partition; the result keeps
/// the request's order, each requested topic with the answers for its partitions. The request
/// needs `operation` on each topic.
pub(crate) fn answer_partitions<'r, T, P: 'r, A>(
    ctx: &RequestContext,
    operation: AclOperation,
    topics: &'r [T],
    topic_name: impl Fn(&T) -> &str,
    partitions: impl Fn(&'r T) -> &'r [P],
    mut answer: impl FnMut(&RequestedTopic<'_>, &'r P) -> A,
) -> Vec<(&'r T, Vec<A>)> {
    topics
        .iter()
        .map(|t| {
            let topic = RequestedTopic::lookup(ctx, topic_name(t), operation);
            let answers = partitions(t).iter().map(|p| answer(&topic, p)).collect();
            (t, answers)
        })
        .collect()
}

/// Checks a request's `current_leader_epoch` against the partition's (KIP-320): an older epoch
/// means the client's metadata is stale (FENCED_LEADER_EPOCH), a newer one that this broker has
/// not caught up (UNKNOWN_LEADER_EPOCH). `-1` skips the check.
pub(crate) fn check_leader_epoch(requested: i32, current: i32) -> Result<(), ErrorCode> {
    match requested {
        -1 => Ok(()),
        e if e < current => Err(ErrorCode::FencedLeaderEpoch),
        e if e > current => Err(ErrorCode::UnknownLeaderEpoch),
        _ => Ok(()),
    }
}

/// The checks every transaction API makes of its transactional id: WRITE on it
/// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then that this broker coordinates it
/// (NOT_COORDINATOR, so the client looks the coordinator up again).
pub(crate) fn check_transactional_id(ctx: &RequestContext, id: &str) -> Result<(), ErrorCode> {
    use kafka_protocol::acl::{AclOperation, ResourceType};
    if !ctx.allowed(AclOperation::Write, ResourceType::TransactionalId, id) {
        return Err(ErrorCode::TransactionalIdAuthorizationFailed);
    }
    if ctx.state.coordinator_for(id).map(|b| b.id) != Some(ctx.broker_id) {
        return Err(ErrorCode::NotCoordinator);
    }
    Ok(())
}

/// KIP-588: clients of a transaction API before `since` know `INVALID_PRODUCER_EPOCH`, not
/// `PRODUCER_FENCED`, for a fenced producer; Kafka answers them with the old code.
pub(crate) fn fenced_for_version(code: ErrorCode, version: i16, since: i16) -> ErrorCode {
    if code == ErrorCode::ProducerFenced && version < since {
        ErrorCode::InvalidProducerEpoch
    } else {
        code
    }
}

/// The error a transactional write (Produce, TxnOffsetCommit) that the coordinator refused is
/// answered with, as Kafka's `AddPartitionsToTxnManager` translates them: a fenced producer
/// is INVALID_PRODUCER_EPOCH. A partition or group the transaction never added is
/// TRANSACTION_ABORTABLE (KIP-890), which Kafka translates to INVALID_TXN_STATE for a Produce
/// older than v11 (`knows_abortable` false); TxnOffsetCommit gets it at every version (the
/// conformance suite shows Kafka 4.4 answering v4 with it).
pub(crate) fn transactional_write_error(code: ErrorCode, knows_abortable: bool) -> ErrorCode {
    match code {
        ErrorCode::ProducerFenced => ErrorCode::InvalidProducerEpoch,
        ErrorCode::TransactionAbortable if !knows_abortable => ErrorCode::InvalidTxnState,
        other => other,
    }
}
