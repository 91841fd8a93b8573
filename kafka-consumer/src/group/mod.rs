//! Group membership with the classic protocol (KIP-62 timeouts, KIP-394 member ids, KIP-345
//! static members, KIP-429 cooperative rebalancing): find the coordinator, join, let the leader
//! assign, sync, heartbeat on a task of its own, commit and fetch offsets, leave.
//!
//! This is the seam the KIP-848 consumer protocol will sit beside: the consumer asks a member
//! to start a join, to hand over the outcome when it is ready, and for commits and committed
//! offsets; fetching never talks to the coordinator.
//!
//! The member's state is one flag shared with the heartbeat task and with commits in flight:
//! STABLE (the assignment holds), REJOIN (the generation still stands but a rebalance is
//! under way or was asked for) and LOST (the generation is gone: partitions must be dropped
//! without committing). While a join is in flight the member has no generation it could
//! commit under, so commits are refused.

mod commit;
mod heartbeat;
mod join;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_client::{Client, ClientError, Connection};
use kafka_protocol::messages::{leave_group_request, HeartbeatRequest, LeaveGroupRequest};
use kafka_protocol::{ApiKey, ErrorCode, GroupId, StrBytes, TopicName};
use tokio::task::JoinHandle;
use tracing::{debug, Instrument};

pub(crate) use commit::send_commit;
pub(crate) use heartbeat::PollClock;

use self::heartbeat::{Heartbeat, HeartbeatTask};
use self::join::{join_group, JoinContext, JoinFailed, Joined};
use crate::assignor::{PartitionAssignor, RebalanceProtocol};
use crate::error::{ConsumerError, Result};
use crate::record::TopicPartition;

pub(crate) const STABLE: u8 = 0;
pub(crate) const REJOIN: u8 = 1;
pub(crate) const LOST: u8 = 2;

/// Settings of a group member.
#[derive(Debug, Clone)]
pub(crate) struct MemberSettings {
    pub(crate) group_id: GroupId,
    pub(crate) session_timeout: Duration,
    pub(crate) rebalance_timeout: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) instance_id: Option<StrBytes>,
    pub(crate) assignors: Vec<Arc<dyn PartitionAssignor>>,
    /// `default.api.timeout.ms`: the bound on retrying OffsetFetch.
    pub(crate) api_timeout: Duration,
}

impl MemberSettings {
    /// Cooperative only when every assignor offered supports it (Java's rule: a member that
    /// may be assigned by an eager assignor must behave eagerly).
    pub(crate) fn protocol(&self) -> RebalanceProtocol {
        if !self.assignors.is_empty() && self.assignors.iter().all(|a| a.supports_cooperative()) {
            RebalanceProtocol::Cooperative
        } else {
            RebalanceProtocol::Eager
        }
    }
}

/// One consumer's membership in its group.
#[derive(Debug)]
pub(crate) struct GroupMember {
    client: Client,
    settings: MemberSettings,
    coordinator: Option<Arc<Connection>>,
    member_id: StrBytes,
    generation: i32,
    state: Arc<AtomicU8>,
    heartbeat: Option<HeartbeatTask>,
    joining: Option<JoinHandle<Result<Joined, JoinFailed>>>,
    clock: PollClock,
    /// Whether this member has ever started a join (assign-mode consumers never do, and
    /// commit as "simple" members with generation -1).
    subscribed: bool,
}

pub(crate) fn broker_error(code: ErrorCode) -> ConsumerError {
    ConsumerError::Client(ClientError::Broker(code))
}

pub(crate) fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

/// The static instance id, if set and `api` at the negotiated version has the field (it
/// arrived at `since`).
pub(crate) fn instance_id_at(
    settings: &MemberSettings,
    conn: &Connection,
    api: ApiKey,
    since: i16,
) -> Option<StrBytes> {
    let supported = conn.version_for(api).is_ok_and(|v| v >= since);
    settings.instance_id.clone().filter(|_| supported)
}

/// Asks any broker which one coordinates `group`, and connects to it.
pub(crate) async fn find_coordinator(client: &Client, group: &GroupId) -> Result<Arc<Connection>> {
    let node = match client.find_coordinator(group.as_str(), 0).await {
        Ok(node) => node,
        Err(ClientError::Broker(code)) => return Err(broker_error(code)),
        Err(e) => return Err(e.into()),
    };
    client.refresh_metadata(&[], false).await?;
    // Its own connection: a parked JoinGroup must not hold up this member's fetches.
    Ok(client.coordinator(node).await?)
}

impl GroupMember {
    pub(crate) fn new(client: Client, settings: MemberSettings) -> Self {
        GroupMember {
            client,
            settings,
            coordinator: None,
            member_id: StrBytes::new(),
            generation: -1,
            state: Arc::new(AtomicU8::new(REJOIN)),
            heartbeat: None,
            joining: None,
            clock: PollClock::new(),
            subscribed: false,
        }
    }

    /// Whether the member must start a join before its assignment can be trusted.
    pub(crate) fn needs_join(&self) -> bool {
        self.joining.is_none() && self.state.load(Ordering::Acquire) != STABLE
    }

    /// Whether a join is in flight.
    pub(crate) fn is_joining(&self) -> bool {
        self.joining.is_some()
    }

    /// Whether the member knows its generation is over (fenced, expired, poll timeout).
    pub(crate) fn is_lost(&self) -> bool {
        self.subscribed && self.state.load(Ordering::Acquire) == LOST
    }

    /// Whether the member holds a generation it may commit under.
    pub(crate) fn is_stable(&self) -> bool {
        self.joining.is_none() && self.state.load(Ordering::Acquire) == STABLE
    }

    /// The generation the member belongs to (-1 outside one).
    pub(crate) fn generation(&self) -> i32 {
        self.generation
    }

    /// What a transactional producer sends with this member's offsets (KIP-447).
    pub(crate) fn group_metadata(&self) -> kafka_client::ConsumerGroupMetadata {
        kafka_client::ConsumerGroupMetadata::member(
            self.settings.group_id.to_string(),
            self.generation,
            self.member_id.to_string(),
            self.settings.instance_id.as_ref().map(|i| i.to_string()),
        )
    }

    /// The rebalance protocol this member follows.
    pub(crate) fn protocol(&self) -> RebalanceProtocol {
        self.settings.protocol()
    }

    /// Records that the application polled (for `max.poll.interval.ms`).
    pub(crate) fn polled(&self) {
        self.clock.polled();
    }

    /// Asks for a rebalance at the next poll (after a cooperative revocation, or a change of
    /// subscription).
    pub(crate) fn request_rejoin(&self) {
        let _ = self
            .state
            .compare_exchange(STABLE, REJOIN, Ordering::AcqRel, Ordering::Acquire);
    }

    async fn coordinator(&mut self) -> Result<Arc<Connection>> {
        if let Some(c) = self.coordinator.as_ref().filter(|c| !c.is_closed()) {
            return Ok(Arc::clone(c));
        }
        let conn = find_coordinator(&self.client, &self.settings.group_id).await?;
        self.coordinator = Some(Arc::clone(&conn));
        Ok(conn)
    }

    /// Starts a join subscribed to `topics`, keeping (cooperative) or having owned (eager)
    /// `owned`. A member whose generation was lost joins afresh.
    pub(crate) fn start_join(&mut self, topics: &BTreeSet<TopicName>, owned: Vec<TopicPartition>) {
        // Dropping the task stops it.
        self.heartbeat = None;
        if self.is_lost() {
            // KIP-394: an unknown member gets a fresh id; a static member keeps its instance id.
            self.member_id = StrBytes::new();
            self.generation = -1;
        }
        self.subscribed = true;
        let ctx = JoinContext {
            client: self.client.clone(),
            settings: self.settings.clone(),
            member_id: self.member_id.clone(),
            coordinator: self.coordinator.clone(),
            topics: topics.clone(),
            owned,
            generation: self.generation,
            clock: self.clock.clone(),
            state: Arc::clone(&self.state),
        };
        // The task logs inside the caller's span, so an application's per-consumer span covers it.
        self.joining = Some(tokio::spawn(join_group(ctx).in_current_span()));
    }

    /// The outcome of the join in flight, once it is done; waits for it until `deadline` when
    /// given, else only looks.
    pub(crate) async fn join_outcome(
        &mut self,
        deadline: Option<tokio::time::Instant>,
    ) -> Option<Result<Vec<TopicPartition>>> {
        let handle = self.joining.as_mut()?;
        if deadline.is_none() && !handle.is_finished() {
            return None;
        }
        let joined = match deadline {
            Some(d) => tokio::time::timeout_at(d, handle).await.ok()?,
            None => handle.await,
        };
        self.joining = None;
        let joined = match joined {
            Ok(j) => j,
            Err(e) => {
                // Only a bug panics the join task: report it and let the next poll rejoin.
                self.state.store(REJOIN, Ordering::Release);
                return Some(Err(ConsumerError::Client(ClientError::Connection {
                    addr: String::new(),
                    reason: format!("join task failed: {e}"),
                })));
            }
        };
        match joined {
            Ok(j) => {
                self.member_id = j.member_id;
                self.generation = j.generation;
                self.coordinator = Some(Arc::clone(&j.coordinator));
                // The join task marked the member stable and started heartbeating as soon as
                // SyncGroup answered; any verdict the heartbeat reached since stands.
                self.heartbeat = Some(j.heartbeat);
                Some(Ok(j.partitions))
            }
            Err(f) => {
                self.member_id = f.member_id;
                self.generation = -1;
                self.coordinator = None;
                self.state.store(REJOIN, Ordering::Release);
                Some(Err(f.error))
            }
        }
    }

    /// Leaves the group (best effort; the caller bounds it).
    pub(crate) async fn leave(&mut self) {
        // Dropping the task stops it.
        self.heartbeat = None;
        if let Some(j) = self.joining.take() {
            j.abort();
        }
        // A static member (KIP-345) does not leave: it is expected back under the same
        // `group.instance.id` within the session timeout, and then takes its partitions back
        // without a rebalance. The coordinator drops it only when its session expires (or an
        // admin removes it), as with Java's consumer.
        if self.member_id.is_empty() || self.settings.instance_id.is_some() {
            return;
        }
        let Ok(conn) = self.coordinator().await else {
            return;
        };
        let request = leave_request(&self.settings, &self.member_id, &conn);
        if let Err(e) = conn.send(&request).await {
            debug!(error = %e, "LeaveGroup failed");
        }
        self.member_id = StrBytes::new();
        self.generation = -1;
        self.state.store(REJOIN, Ordering::Release);
    }
}

/// Starts heartbeating for `member_id` in `generation` through `conn` (the coordinator).
pub(crate) fn start_heartbeat(
    settings: &MemberSettings,
    member_id: &StrBytes,
    generation: i32,
    conn: Arc<Connection>,
    clock: &PollClock,
    state: &Arc<AtomicU8>,
) -> HeartbeatTask {
    let request = HeartbeatRequest::default()
        .with_group_id(settings.group_id.clone())
        .with_generation_id(generation)
        .with_member_id(member_id.clone())
        .with_group_instance_id(instance_id_at(settings, &conn, ApiKey::Heartbeat, 3));
    let leave = settings
        .instance_id
        .is_none()
        .then(|| leave_request(settings, member_id, &conn));
    clock.polled();
    Heartbeat {
        conn,
        request,
        leave,
        interval: settings.heartbeat_interval,
        max_poll_interval: settings.rebalance_timeout,
        clock: clock.clone(),
        state: Arc::clone(state),
    }
    .spawn()
}

fn leave_request(
    settings: &MemberSettings,
    member_id: &StrBytes,
    conn: &Connection,
) -> LeaveGroupRequest {
    let version = conn.version_for(ApiKey::LeaveGroup).unwrap_or(0);
    if version >= 3 {
        LeaveGroupRequest::default()
            .with_group_id(settings.group_id.clone())
            .with_members(vec![leave_group_request::MemberIdentity::default()
                .with_member_id(member_id.clone())
                .with_group_instance_id(settings.instance_id.clone())])
    } else {
        LeaveGroupRequest::default()
            .with_group_id(settings.group_id.clone())
            .with_member_id(member_id.clone())
    }
}

impl Drop for GroupMember {
    fn drop(&mut self) {
        // Dropping the task stops it.
        self.heartbeat = None;
        if let Some(j) = self.joining.take() {
            j.abort();
        }
    }
}
