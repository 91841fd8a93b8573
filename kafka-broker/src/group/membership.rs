//! JoinGroup, SyncGroup, Heartbeat and LeaveGroup: request checks that come before the group
//! (group id, session timeout bounds, coordinator active), the per-version field layouts, and
//! the conversion of state-machine answers into responses each version can encode.

use bytes::Bytes;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{
    HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::ErrorCode;
use tokio::sync::oneshot;

use super::classic::ClassicGroup;
use super::table::GroupTable;
use super::types::{JoinParams, JoinResult, ParkedAnswer, SyncParams, SyncResult};
use super::{ClientInfo, GroupConfig};

/// What a JoinGroup or SyncGroup turned into.
pub(super) enum Answer<T> {
    /// Parked: the answer arrives on the channel.
    Parked(oneshot::Receiver<ParkedAnswer>),
    /// Rejected before reaching the group.
    Immediate(T),
}

/// Validates a JoinGroup and hands it to its group.
pub(super) fn join(
    inner: &mut GroupTable,
    now_ms: u64,
    config: &GroupConfig,
    req: JoinGroupRequest,
    version: i16,
    client: ClientInfo,
) -> Answer<JoinResult> {
    let fail = |e: ErrorCode| Answer::Immediate(JoinResult::error(e, &req.member_id));
    if req.group_id.is_empty() {
        return fail(ErrorCode::InvalidGroupId);
    }
    if !inner.active {
        return fail(ErrorCode::CoordinatorNotAvailable);
    }
    if req.session_timeout_ms < config.min_session_timeout_ms
        || req.session_timeout_ms > config.max_session_timeout_ms
    {
        return fail(ErrorCode::InvalidSessionTimeout);
    }
    if !inner.groups.contains_key(req.group_id.as_str()) {
        if !req.member_id.is_empty() {
            return fail(ErrorCode::UnknownMemberId);
        }
        let group = ClassicGroup::new(&req.group_id, now_ms, config.limits());
        inner.groups.insert(req.group_id.to_string(), group);
    }
    let session = non_negative(req.session_timeout_ms);
    // v0 has no rebalance timeout (the field's default is -1): the session timeout bounds the
    // rebalance, as in Kafka.
    let rebalance = if req.rebalance_timeout_ms < 0 {
        session
    } else {
        non_negative(req.rebalance_timeout_ms)
    };
    let params = JoinParams {
        member_id: req.member_id.to_string(),
        group_instance_id: req.group_instance_id.map(Into::into),
        client_id: client.client_id,
        client_host: client.client_host,
        session_timeout_ms: session,
        rebalance_timeout_ms: rebalance,
        protocol_type: req.protocol_type.to_string(),
        protocols: req
            .protocols
            .into_iter()
            .map(|p| (p.name.into(), p.metadata))
            .collect(),
        require_known_member_id: version >= 4,
        supports_skip_assignment: version >= 9,
    };
    let (waiter, rx) = inner.park();
    if let Some(group) = inner.groups.get_mut(req.group_id.as_str()) {
        group.join(now_ms, params, waiter);
    }
    inner.flush(&req.group_id);
    Answer::Parked(rx)
}

fn non_negative(ms: i32) -> u64 {
    u64::try_from(ms).unwrap_or(0)
}

/// Builds a JoinGroup response that `version` can encode.
pub(super) fn join_response(r: JoinResult, version: i16) -> JoinGroupResponse {
    JoinGroupResponse {
        error_code: r.error,
        generation_id: r.generation_id,
        // A null protocol name exists from v7; before that "no protocol" is an empty string.
        protocol_type: r.protocol_type.map(Into::into),
        protocol_name: if version >= 7 {
            r.protocol_name.map(Into::into)
        } else {
            Some(r.protocol_name.unwrap_or_default().into())
        },
        leader: r.leader.into(),
        skip_assignment: r.skip_assignment,
        member_id: r.member_id.into(),
        members: r
            .members
            .into_iter()
            .map(|m| JoinGroupResponseMember {
                member_id: m.member_id.into(),
                group_instance_id: m.group_instance_id.map(Into::into),
                metadata: m.metadata,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// Validates a SyncGroup and hands it to its group.
pub(super) fn sync(
    inner: &mut GroupTable,
    now_ms: u64,
    req: SyncGroupRequest,
) -> Answer<SyncResult> {
    if req.group_id.is_empty() {
        return Answer::Immediate(SyncResult::error(ErrorCode::InvalidGroupId));
    }
    if !inner.active {
        return Answer::Immediate(SyncResult::error(ErrorCode::CoordinatorNotAvailable));
    }
    if !inner.groups.contains_key(req.group_id.as_str()) {
        return Answer::Immediate(SyncResult::error(ErrorCode::UnknownMemberId));
    }
    let params = SyncParams {
        member_id: req.member_id.to_string(),
        group_instance_id: req.group_instance_id.map(Into::into),
        generation_id: req.generation_id,
        protocol_type: req.protocol_type.map(Into::into),
        protocol_name: req.protocol_name.map(Into::into),
        assignments: req
            .assignments
            .into_iter()
            .map(|a| (a.member_id.into(), a.assignment))
            .collect(),
    };
    let (waiter, rx) = inner.park();
    if let Some(group) = inner.groups.get_mut(req.group_id.as_str()) {
        group.sync(now_ms, params, waiter);
    }
    inner.flush(&req.group_id);
    Answer::Parked(rx)
}

/// Builds a SyncGroup response (v5+ carries the protocol type and name too).
pub(super) fn sync_response(r: SyncResult) -> SyncGroupResponse {
    SyncGroupResponse {
        error_code: r.error,
        protocol_type: r.protocol_type.map(Into::into),
        protocol_name: r.protocol_name.map(Into::into),
        assignment: if r.error == ErrorCode::None {
            r.assignment
        } else {
            Bytes::new()
        },
        ..Default::default()
    }
}

/// Heartbeat.
pub(super) fn heartbeat(
    inner: &mut GroupTable,
    now_ms: u64,
    req: HeartbeatRequest,
) -> HeartbeatResponse {
    let instance = req.group_instance_id.as_deref();
    let error = if req.group_id.is_empty() {
        ErrorCode::InvalidGroupId
    } else if !inner.active {
        ErrorCode::CoordinatorNotAvailable
    } else if let Some(group) = inner.groups.get_mut(req.group_id.as_str()) {
        let e = group.heartbeat(now_ms, &req.member_id, instance, req.generation_id);
        inner.flush(&req.group_id);
        e
    } else {
        ErrorCode::UnknownMemberId
    };
    HeartbeatResponse::default().with_error_code(error)
}

/// LeaveGroup. Before v3 one member leaves and its error is the response's; from v3 (KIP-345)
/// a batch of members, each with its own error, possibly named by instance id only.
pub(super) fn leave(
    inner: &mut GroupTable,
    now_ms: u64,
    req: LeaveGroupRequest,
    version: i16,
) -> LeaveGroupResponse {
    let leaving: Vec<(String, Option<String>)> = if version >= 3 {
        req.members
            .into_iter()
            .map(|m| (m.member_id.into(), m.group_instance_id.map(Into::into)))
            .collect()
    } else {
        vec![(req.member_id.to_string(), None)]
    };
    let group_error = if req.group_id.is_empty() {
        Some(ErrorCode::InvalidGroupId)
    } else if !inner.active {
        Some(ErrorCode::CoordinatorNotAvailable)
    } else {
        None
    };
    let mut results = Vec::with_capacity(leaving.len());
    if group_error.is_none() {
        for (member_id, instance) in leaving {
            let error = match inner.groups.get_mut(req.group_id.as_str()) {
                Some(group) => group.leave(now_ms, &member_id, instance.as_deref()),
                None => ErrorCode::UnknownMemberId,
            };
            results.push(MemberResponse {
                member_id: member_id.into(),
                group_instance_id: instance.map(Into::into),
                error_code: error,
                ..Default::default()
            });
        }
        inner.flush(&req.group_id);
    }
    let mut resp = LeaveGroupResponse::default();
    if version >= 3 {
        resp.error_code = group_error.unwrap_or(ErrorCode::None);
        resp.members = results;
    } else {
        resp.error_code = group_error
            .or_else(|| results.first().map(|r| r.error_code))
            .unwrap_or(ErrorCode::None);
    }
    resp
}
