//! Partition reassignments (KIP-455) and leader elections (KIP-460) on the cluster's shared
//! metadata.
//!
//! The brokers of a bundled cluster share one log per partition, so a new replica has nothing
//! to copy and a reassignment could finish the moment it is asked for. It does, unless a test
//! holds reassignments ([`crate::Cluster::hold_reassignments`]): then each stays ongoing, with
//! the replica set Kafka reports while new replicas catch up (the target followed by the
//! replicas being removed), until it is released or cancelled. That lets tests see what
//! ListPartitionReassignments and a cancellation do, which against real Kafka needs a
//! throttled copy of real data.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use kafka_protocol::ErrorCode;

use crate::log::PartitionLog;
use crate::state::ClusterState;
use crate::sync::lock;

/// A reassignment still in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reassignment {
    /// The replicas before it began (what a cancellation restores).
    pub original: Vec<i32>,
    /// The replicas it ends with.
    pub target: Vec<i32>,
}

impl Reassignment {
    /// The replica set while it is in progress: the target, then the replicas being removed.
    pub fn replicas(&self) -> Vec<i32> {
        let mut all = self.target.clone();
        all.extend(self.removing());
        all
    }

    /// Replicas of the target that were not replicas before.
    pub fn adding(&self) -> Vec<i32> {
        let mut adding: Vec<i32> = self.target.clone();
        adding.retain(|r| !self.original.contains(r));
        adding
    }

    /// Replicas dropped once the reassignment completes.
    pub fn removing(&self) -> Vec<i32> {
        let mut removing: Vec<i32> = self.original.clone();
        removing.retain(|r| !self.target.contains(r));
        removing
    }
}

/// What an election asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ElectionType {
    /// The first replica leads again, if it is in sync (type 0).
    Preferred,
    /// A partition with no live leader gets any live replica (type 1).
    Unclean,
}

/// Decides an election: the broker to elect, or why there is none.
pub(crate) fn elect(
    kind: ElectionType,
    leader: i32,
    replicas: &[i32],
    running: impl Fn(i32) -> bool,
) -> Result<i32, ErrorCode> {
    match kind {
        ElectionType::Preferred => {
            let preferred = *replicas
                .first()
                .ok_or(ErrorCode::PreferredLeaderNotAvailable)?;
            if preferred == leader && running(leader) {
                Err(ErrorCode::ElectionNotNeeded)
            } else if running(preferred) {
                Ok(preferred)
            } else {
                Err(ErrorCode::PreferredLeaderNotAvailable)
            }
        }
        ElectionType::Unclean => {
            if running(leader) {
                return Err(ErrorCode::ElectionNotNeeded);
            }
            replicas
                .iter()
                .copied()
                .find(|r| running(*r))
                .ok_or(ErrorCode::EligibleLeadersNotAvailable)
        }
    }
}

impl ClusterState {
    /// The partition's log, or UNKNOWN_TOPIC_OR_PARTITION.
    pub(crate) fn partition(
        &self,
        topic: &str,
        partition: i32,
    ) -> Result<Arc<PartitionLog>, ErrorCode> {
        lock(&self.topics)
            .get(topic)
            .and_then(|t| t.partition(partition))
            .cloned()
            .ok_or(ErrorCode::UnknownTopicOrPartition)
    }

    /// Starts (or, with `target` None, cancels) a reassignment of one partition.
    pub(crate) fn reassign(
        &self,
        topic: &str,
        partition: i32,
        target: Option<Vec<i32>>,
        allow_replication_factor_change: bool,
    ) -> Result<(), (ErrorCode, Option<String>)> {
        let log = self.partition(topic, partition).map_err(|c| (c, None))?;
        let key = (topic.to_string(), partition);
        let mut ongoing = lock(&self.reassignments);
        let Some(target) = target else {
            let Some(cancelled) = ongoing.remove(&key) else {
                return Err((ErrorCode::NoReassignmentInProgress, None));
            };
            self.settle(&log, cancelled.original);
            return Ok(());
        };
        let invalid = |m: String| Err((ErrorCode::InvalidReplicaAssignment, Some(m)));
        if target.is_empty() {
            return invalid(
                "The manual partition assignment includes an empty replica list.".into(),
            );
        }
        for (i, id) in target.iter().enumerate() {
            if target[..i].contains(id) {
                return invalid(format!(
                    "The manual partition assignment includes the broker {id} more than once."
                ));
            }
            if self.broker(*id).is_none() {
                return invalid(format!(
                    "The manual partition assignment includes broker {id}, but no such broker is registered."
                ));
            }
        }
        let original = ongoing
            .get(&key)
            .map_or_else(|| log.replicas(), |r| r.original.clone());
        if !allow_replication_factor_change && target.len() != original.len() {
            return Err((
                ErrorCode::InvalidReplicationFactor,
                Some("The replication factor is changed from the original, but allowReplicationFactorChange is false.".into()),
            ));
        }
        let reassignment = Reassignment { original, target };
        if self.hold_reassignments.load(Ordering::Acquire)
            && reassignment.original != reassignment.target
        {
            log.set_replicas(reassignment.replicas());
            ongoing.insert(key, reassignment);
        } else {
            ongoing.remove(&key);
            self.settle(&log, reassignment.target);
        }
        Ok(())
    }

    /// Completes every ongoing reassignment.
    pub(crate) fn complete_reassignments(&self) {
        let done = std::mem::take(&mut *lock(&self.reassignments));
        for ((topic, partition), r) in done {
            if let Ok(log) = self.partition(&topic, partition) {
                self.settle(&log, r.target);
            }
        }
    }

    /// The ongoing reassignments, by topic and partition.
    pub(crate) fn ongoing_reassignments(&self) -> BTreeMap<(String, i32), Reassignment> {
        lock(&self.reassignments).clone()
    }

    /// Sets the final replicas of a partition and moves its leader onto them if it is not
    /// a running one of them already (as the controller does when a reassignment completes).
    fn settle(&self, log: &PartitionLog, replicas: Vec<i32>) {
        let (leader, _) = log.leader();
        log.set_replicas(replicas.clone());
        if !(replicas.contains(&leader) && self.is_running(leader)) {
            if let Some(next) = replicas.iter().copied().find(|r| self.is_running(*r)) {
                log.elect_leader(next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ongoing_reassignment_reports_target_then_removed_replicas() {
        let r = Reassignment {
            original: vec![0, 1],
            target: vec![2, 1],
        };
        assert_eq!(r.replicas(), vec![2, 1, 0]);
        assert_eq!(r.adding(), vec![2]);
        assert_eq!(r.removing(), vec![0]);
    }

    #[test]
    fn elections_follow_kip_460() {
        let up = |id: i32| id != 0;
        // Preferred: replica 1 leads, 2 is preferred and up.
        assert_eq!(elect(ElectionType::Preferred, 1, &[2, 1], up), Ok(2));
        assert_eq!(
            elect(ElectionType::Preferred, 2, &[2, 1], up),
            Err(ErrorCode::ElectionNotNeeded)
        );
        assert_eq!(
            elect(ElectionType::Preferred, 1, &[0, 1], up),
            Err(ErrorCode::PreferredLeaderNotAvailable)
        );
        // Unclean: only when the leader is down.
        assert_eq!(
            elect(ElectionType::Unclean, 1, &[1, 2], up),
            Err(ErrorCode::ElectionNotNeeded)
        );
        assert_eq!(elect(ElectionType::Unclean, 0, &[0, 2], up), Ok(2));
        assert_eq!(
            elect(ElectionType::Unclean, 0, &[0], up),
            Err(ErrorCode::EligibleLeadersNotAvailable)
        );
    }
}
