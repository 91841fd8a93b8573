//! Helpers shared by the handlers: partition lookup with leadership checks.

use std::sync::Arc;

use kafka_protocol::ErrorCode;

use crate::context::RequestContext;
use crate::log::PartitionLog;
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
