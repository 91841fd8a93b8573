//! The classic consumer-group coordinator: JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
//! OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups and OffsetDelete.
//!
//! It follows Kafka's classic group protocol: a group moves through `Empty`,
//! `PreparingRebalance`, `CompletingRebalance` and `Stable` (and `Dead` once removed); every
//! rebalance starts a new generation; the first member to join leads, receives the member list
//! and sends everyone's assignment in SyncGroup; members that do not rejoin within the rebalance
//! timeout, or stop heartbeating for the session timeout, are removed. JoinGroup v4+ hands out
//! member ids before admitting a member (KIP-394), and members with a `group.instance.id` are
//! static (KIP-345): a restarted client takes its old place without a rebalance.
//!
//! Layout: [`classic`] holds the state machine as plain data (unit-tested without sockets or a
//! clock), [`GroupCoordinator`] wraps it with a lock, parks long-polling requests and runs its
//! timers on one tokio task. Coordinator placement (NOT_COORDINATOR, FindCoordinator) is the
//! broker's job; everything here assumes this coordinator owns the group.
//!
//! (The doc test of this flow lives in `tests/coordinator.rs`: a v3 join admits a new member at
//! once; v4+ first answers MEMBER_ID_REQUIRED with its id.)

mod admin;
mod classic;
mod coordinator;
mod member;
mod membership;
mod offsets;
mod offsets_api;
mod table;
mod types;

#[cfg(test)]
mod tests;

#[cfg(test)]
use std::sync::Arc;

use kafka_protocol::Uuid;

pub use coordinator::GroupCoordinator;
pub use types::GroupLimits;

/// Coordinator settings, named after Kafka's broker configs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GroupConfig {
    /// `group.min.session.timeout.ms`: smallest session timeout a member may ask for.
    pub min_session_timeout_ms: i32,
    /// `group.max.session.timeout.ms`: largest session timeout a member may ask for.
    pub max_session_timeout_ms: i32,
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits
    /// for more members. Kafka's default is 3000; the bundled broker defaults to 0 so tests
    /// form groups at once.
    pub initial_rebalance_delay_ms: u64,
    /// `group.max.size`: members a group admits.
    pub max_size: usize,
    /// `offsets.retention.minutes`, in ms: how long offsets of an empty group are kept.
    pub offsets_retention_ms: u64,
    /// `offsets.retention.check.interval.ms`: how often expired offsets and empty groups are
    /// cleaned up.
    pub offsets_retention_check_interval_ms: u64,
    /// `offset.metadata.max.bytes`: longest metadata string an OffsetCommit may carry.
    pub offset_metadata_max_bytes: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            min_session_timeout_ms: 6_000,
            max_session_timeout_ms: 1_800_000,
            initial_rebalance_delay_ms: 0,
            max_size: i32::MAX as usize,
            offsets_retention_ms: 7 * 24 * 60 * 60 * 1000,
            offsets_retention_check_interval_ms: 600_000,
            offset_metadata_max_bytes: 4096,
        }
    }
}

impl GroupConfig {
    fn limits(&self) -> GroupLimits {
        GroupLimits {
            initial_rebalance_delay_ms: self.initial_rebalance_delay_ms,
            max_size: self.max_size,
        }
    }
}

/// Who sent a JoinGroup: recorded with the member and shown by DescribeGroups. The member id is
/// minted from the client id (`client_id-uuid`), as Kafka does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// `client_id` from the request header.
    pub client_id: String,
    /// The peer address, e.g. `/127.0.0.1` (Kafka's format).
    pub client_host: String,
}

impl ClientInfo {
    /// Client info from a header's client id and the peer's address.
    pub fn new(client_id: impl Into<String>, client_host: impl Into<String>) -> ClientInfo {
        ClientInfo {
            client_id: client_id.into(),
            client_host: client_host.into(),
        }
    }
}

/// What the coordinator needs to know about the broker's topics.
///
/// OffsetCommit and OffsetDelete answer UNKNOWN_TOPIC_OR_PARTITION for partitions that do not
/// exist, and OffsetCommit/OffsetFetch v10 name topics by id. Without a lookup
/// ([`GroupCoordinator::new`]) every partition is accepted and topic ids are unknown.
pub trait TopicLookup: Send + Sync {
    /// Whether `topic` has a partition `partition`.
    fn partition_exists(&self, topic: &str, partition: i32) -> bool;
    /// The name of the topic with id `topic_id`.
    fn topic_name(&self, topic_id: Uuid) -> Option<String>;
    /// The id of topic `topic`.
    fn topic_id(&self, topic: &str) -> Option<Uuid>;
}

/// The lookup used when the broker gives none: everything exists, no ids are known.
#[cfg(test)]
struct AcceptAll;

#[cfg(test)]
impl TopicLookup for AcceptAll {
    fn partition_exists(&self, _topic: &str, _partition: i32) -> bool {
        true
    }
    fn topic_name(&self, _topic_id: Uuid) -> Option<String> {
        None
    }
    fn topic_id(&self, _topic: &str) -> Option<Uuid> {
        None
    }
}

#[cfg(test)]
fn accept_all() -> Arc<dyn TopicLookup> {
    Arc::new(AcceptAll)
}
