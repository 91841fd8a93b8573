//! The values that go in and out of the classic group state machine: its states, and the
//! version-independent forms of the JoinGroup and SyncGroup requests and answers.

use bytes::Bytes;
use kafka_protocol::ErrorCode;

/// State of a classic group, with Kafka's names (DescribeGroups and ListGroups report them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupState {
    /// No members; the group may still hold offsets.
    Empty,
    /// A rebalance started; waiting for members to (re)join.
    PreparingRebalance,
    /// Joins complete; waiting for the leader's assignment in SyncGroup.
    CompletingRebalance,
    /// Assignment distributed; members heartbeat.
    Stable,
    /// Removed.
    Dead,
}

impl GroupState {
    /// Kafka's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// Coordinator settings a group needs for its transitions.
#[derive(Debug, Clone, Copy)]
pub struct GroupLimits {
    /// `group.initial.rebalance.delay.ms`.
    pub initial_rebalance_delay_ms: u64,
    /// `group.max.size`.
    pub max_size: usize,
}

/// A JoinGroup, version differences already resolved.
#[derive(Debug, Clone, Default)]
pub struct JoinParams {
    /// Member id; empty for a first join.
    pub member_id: String,
    /// `group.instance.id` for static members.
    pub group_instance_id: Option<String>,
    /// Client id from the request header.
    pub client_id: String,
    /// Client address.
    pub client_host: String,
    /// Session timeout (already checked against the configured bounds).
    pub session_timeout_ms: u64,
    /// Rebalance timeout (v0: the session timeout).
    pub rebalance_timeout_ms: u64,
    /// Protocol type, e.g. `consumer`.
    pub protocol_type: String,
    /// Protocols in preference order.
    pub protocols: Vec<(String, Bytes)>,
    /// v4+: a first join is answered MEMBER_ID_REQUIRED with the minted id (KIP-394).
    pub require_known_member_id: bool,
    /// v9+: a static leader's rejoin may be answered with `skip_assignment` (KIP-814).
    pub supports_skip_assignment: bool,
}

/// One member in the leader's JoinGroup answer.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinedMember {
    /// Member id.
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// Its metadata for the selected protocol.
    pub metadata: Bytes,
}

/// The answer to a JoinGroup.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinResult {
    /// Error, `None` on success.
    pub error: ErrorCode,
    /// Generation joined, `-1` on error.
    pub generation_id: i32,
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// Selected protocol.
    pub protocol_name: Option<String>,
    /// Leader's member id.
    pub leader: String,
    /// The recipient's member id.
    pub member_id: String,
    /// KIP-814: the recipient is the leader but must not assign.
    pub skip_assignment: bool,
    /// Every member, for the leader only.
    pub members: Vec<JoinedMember>,
}

impl JoinResult {
    /// An error answer for `member_id`.
    pub fn error(error: ErrorCode, member_id: &str) -> JoinResult {
        JoinResult {
            error,
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            member_id: member_id.to_owned(),
            skip_assignment: false,
            members: Vec::new(),
        }
    }
}

/// The answer to a SyncGroup.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncResult {
    /// Error, `None` on success.
    pub error: ErrorCode,
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// Selected protocol.
    pub protocol_name: Option<String>,
    /// The recipient's assignment.
    pub assignment: Bytes,
}

impl SyncResult {
    /// An error answer.
    pub fn error(error: ErrorCode) -> SyncResult {
        SyncResult {
            error,
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// An answer for a parked request.
#[derive(Debug, Clone, PartialEq)]
pub enum ParkedAnswer {
    /// For a JoinGroup.
    Join(JoinResult),
    /// For a SyncGroup.
    Sync(SyncResult),
}

/// A SyncGroup, version differences already resolved.
#[derive(Debug, Clone, Default)]
pub struct SyncParams {
    /// Member id.
    pub member_id: String,
    /// Static instance id.
    pub group_instance_id: Option<String>,
    /// Generation the member joined.
    pub generation_id: i32,
    /// v5+: protocol type the member believes in.
    pub protocol_type: Option<String>,
    /// v5+: protocol name the member believes in.
    pub protocol_name: Option<String>,
    /// The leader's assignment (member id, assignment); empty from followers.
    pub assignments: Vec<(String, Bytes)>,
}
