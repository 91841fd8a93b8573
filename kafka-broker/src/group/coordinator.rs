//! [`GroupCoordinator`]: the groups behind one lock, the parked JoinGroup/SyncGroup requests,
//! and the timer task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use kafka_protocol::messages::{
    DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse,
    HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, ListGroupsRequest, ListGroupsResponse, OffsetCommitRequest,
    OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse, OffsetFetchRequest,
    OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse, TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
};
use kafka_protocol::ErrorCode;
use tokio::sync::Notify;

#[cfg(test)]
use super::accept_all;
use super::membership::Answer;
use super::table::GroupTable;
use super::types::{JoinResult, ParkedAnswer, SyncResult};
use super::{admin, membership, offsets_api, ClientInfo, GroupConfig, TopicLookup};
use crate::clock::Clock;

/// State shared with the timer task.
struct Shared {
    config: GroupConfig,
    topics: Arc<dyn TopicLookup>,
    clock: Clock,
    inner: Mutex<GroupTable>,
    wake: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, GroupTable> {
        crate::sync::lock(&self.inner)
    }

    /// Coordinator time: milliseconds since the clock started, on tokio's clock so that tests
    /// can pause and advance it (see [`crate::clock`]).
    fn now_ms(&self) -> u64 {
        self.clock.elapsed_ms()
    }
}

/// The classic group coordinator of one broker (or of a whole in-process cluster: it does not
/// care which groups it is given).
pub struct GroupCoordinator {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GroupCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.shared.lock();
        f.debug_struct("GroupCoordinator")
            .field("active", &inner.active)
            .field("groups", &inner.groups.len())
            .finish()
    }
}

impl GroupCoordinator {
    /// A coordinator with no topic lookup: every partition is accepted for offsets.
    #[cfg(test)]
    pub fn new(config: GroupConfig) -> Arc<GroupCoordinator> {
        Self::with_topics(config, accept_all(), Clock::new())
    }

    /// A coordinator that checks partitions and resolves topic ids through `topics`, on
    /// `clock`.
    pub(crate) fn with_topics(
        config: GroupConfig,
        topics: Arc<dyn TopicLookup>,
        clock: Clock,
    ) -> Arc<GroupCoordinator> {
        let next_cleanup_ms = config.offsets_retention_check_interval_ms;
        Arc::new(GroupCoordinator {
            shared: Arc::new(Shared {
                config,
                topics,
                clock,
                inner: Mutex::new(GroupTable {
                    active: true,
                    sweeper_running: false,
                    groups: HashMap::new(),
                    waiters: HashMap::new(),
                    next_waiter: 0,
                    next_cleanup_ms,
                }),
                wake: Notify::new(),
            }),
        })
    }

    /// Runs `f` on the locked state at the current time, then lets the timer task re-plan.
    fn with_inner<R>(&self, f: impl FnOnce(&mut GroupTable, u64, &Shared) -> R) -> R {
        let r = {
            let mut inner = self.shared.lock();
            let now = self.shared.now_ms();
            let r = f(&mut inner, now, &self.shared);
            if inner.active && !inner.sweeper_running {
                // Started lazily because `new` may run outside a runtime.
                if let Ok(handle) = tokio::runtime::Handle::try_current() {
                    inner.sweeper_running = true;
                    handle.spawn(sweep(Arc::clone(&self.shared)));
                }
            }
            r
        };
        self.shared.wake.notify_one();
        r
    }

    /// JoinGroup, from an unnamed client (empty client id and host). Brokers should prefer
    /// [`GroupCoordinator::join_group_from`], which records who joined.
    #[cfg(test)]
    pub async fn join_group(&self, req: JoinGroupRequest, version: i16) -> JoinGroupResponse {
        self.join_group_from(req, version, ClientInfo::default())
            .await
    }

    /// JoinGroup. Parks until the rebalance completes (or the member is removed, or the
    /// coordinator shuts down).
    pub async fn join_group_from(
        &self,
        req: JoinGroupRequest,
        version: i16,
        client: ClientInfo,
    ) -> JoinGroupResponse {
        let parked = self.with_inner(|inner, now, shared| {
            membership::join(inner, now, &shared.config, req, version, client)
        });
        let result = match parked {
            Answer::Parked(rx) => match rx.await {
                Ok(ParkedAnswer::Join(r)) => r,
                _ => JoinResult::error(ErrorCode::CoordinatorNotAvailable, ""),
            },
            Answer::Immediate(r) => r,
        };
        membership::join_response(result, version)
    }

    /// SyncGroup. Followers park until the leader's assignment arrives.
    pub async fn sync_group(&self, req: SyncGroupRequest, _version: i16) -> SyncGroupResponse {
        let parked = self.with_inner(|inner, now, _| membership::sync(inner, now, req));
        let result = match parked {
            Answer::Parked(rx) => match rx.await {
                Ok(ParkedAnswer::Sync(r)) => r,
                _ => SyncResult::error(ErrorCode::CoordinatorNotAvailable),
            },
            Answer::Immediate(r) => r,
        };
        membership::sync_response(result)
    }

    /// Heartbeat.
    pub async fn heartbeat(&self, req: HeartbeatRequest, _version: i16) -> HeartbeatResponse {
        self.with_inner(|inner, now, _| membership::heartbeat(inner, now, req))
    }

    /// LeaveGroup (one member before v3, a batch from v3, KIP-345).
    pub async fn leave_group(&self, req: LeaveGroupRequest, version: i16) -> LeaveGroupResponse {
        self.with_inner(|inner, now, _| membership::leave(inner, now, req, version))
    }

    /// OffsetCommit.
    pub async fn offset_commit(
        &self,
        req: OffsetCommitRequest,
        version: i16,
    ) -> OffsetCommitResponse {
        self.with_inner(|inner, now, shared| {
            offsets_api::commit(inner, now, &shared.config, &*shared.topics, req, version)
        })
    }

    /// TxnOffsetCommit: stages the offsets in the producer's open transaction.
    pub async fn txn_offset_commit(&self, req: TxnOffsetCommitRequest) -> TxnOffsetCommitResponse {
        self.with_inner(|inner, now, shared| {
            offsets_api::txn_commit(inner, now, &shared.config, &*shared.topics, req)
        })
    }

    /// Ends producer `producer_id`'s transaction in `group_id`: its staged offsets are
    /// committed or dropped (the transaction marker, for a group).
    pub(crate) fn complete_transaction(&self, group_id: &str, producer_id: i64, committed: bool) {
        self.with_inner(|inner, _, _| {
            if let Some(group) = inner.groups.get_mut(group_id) {
                group.offsets.complete_transaction(producer_id, committed);
            }
        });
    }

    /// OffsetFetch (one group before v8, a batch from v8).
    pub async fn offset_fetch(&self, req: OffsetFetchRequest, version: i16) -> OffsetFetchResponse {
        self.with_inner(|inner, _, shared| offsets_api::fetch(inner, &*shared.topics, req, version))
    }

    /// OffsetDelete (KIP-496).
    pub async fn offset_delete(
        &self,
        req: OffsetDeleteRequest,
        version: i16,
    ) -> OffsetDeleteResponse {
        self.with_inner(|inner, _, shared| {
            offsets_api::delete(inner, &*shared.topics, req, version)
        })
    }

    /// DescribeGroups.
    pub async fn describe_groups(
        &self,
        req: DescribeGroupsRequest,
        version: i16,
    ) -> DescribeGroupsResponse {
        self.with_inner(|inner, _, _| admin::describe(inner, req, version))
    }

    /// ListGroups.
    pub async fn list_groups(&self, req: ListGroupsRequest, _version: i16) -> ListGroupsResponse {
        self.with_inner(|inner, _, _| admin::list(inner, req))
    }

    /// DeleteGroups.
    pub async fn delete_groups(
        &self,
        req: DeleteGroupsRequest,
        version: i16,
    ) -> DeleteGroupsResponse {
        self.with_inner(|inner, _, _| admin::delete(inner, req, version))
    }

    /// Stops the coordinator: every parked JoinGroup and SyncGroup is answered
    /// COORDINATOR_NOT_AVAILABLE, the timer task ends, and later requests get the same error
    /// until [`GroupCoordinator::resume`]. Groups and offsets are kept.
    pub async fn shutdown(&self) {
        self.deactivate();
    }

    fn deactivate(&self) {
        {
            let mut inner = self.shared.lock();
            inner.active = false;
            for g in inner.groups.values_mut() {
                g.forget_waiters();
            }
            // Dropping the senders wakes every parked request with an error.
            inner.waiters.clear();
        }
        self.shared.wake.notify_one();
    }

    /// Serves again after [`GroupCoordinator::shutdown`], as a restarted coordinator that
    /// reloaded its groups would: members keep their ids and get a fresh session.
    #[cfg(test)]
    pub fn resume(&self) {
        let mut inner = self.shared.lock();
        let now = self.shared.now_ms();
        inner.active = true;
        for g in inner.groups.values_mut() {
            g.refresh_sessions(now);
        }
    }

    /// Ids of the groups currently held (any state but Dead).
    #[cfg(test)]
    pub fn group_ids(&self) -> Vec<String> {
        self.shared.lock().groups.keys().cloned().collect()
    }
}

impl Drop for GroupCoordinator {
    fn drop(&mut self) {
        self.deactivate();
    }
}

/// The timer task: sleeps until the earliest deadline of any group (or until a request changed
/// something), then runs the due timers. Ends when the coordinator is shut down.
async fn sweep(shared: Arc<Shared>) {
    // Never sleep less than 1 ms past the last tick, so a timer that failed to clear itself
    // cannot turn this loop into a busy spin.
    let mut floor_ms = 0;
    loop {
        let next = {
            let mut inner = shared.lock();
            if !inner.active {
                inner.sweeper_running = false;
                return;
            }
            // Capped at an hour ahead so that the `Instant` arithmetic cannot overflow.
            let now = shared.now_ms();
            inner
                .next_deadline()
                .max(floor_ms)
                .min(now.saturating_add(3_600_000))
        };
        let deadline = shared.clock.instant_at(next);
        tokio::select! {
            () = shared.wake.notified() => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
        let mut inner = shared.lock();
        if !inner.active {
            inner.sweeper_running = false;
            return;
        }
        let now = shared.now_ms();
        inner.tick(now, &shared.config);
        floor_ms = now.saturating_add(1);
    }
}
