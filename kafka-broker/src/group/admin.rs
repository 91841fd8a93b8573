//! DescribeGroups, ListGroups and DeleteGroups.

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse,
    ListGroupsRequest, ListGroupsResponse,
};
use kafka_protocol::ErrorCode;

use super::classic::ClassicGroup;
use super::table::GroupTable;
use super::types::GroupState;

/// `GroupType` of every group here (ListGroups v5, KIP-848 distinguishes "consumer" groups).
const CLASSIC_GROUP_TYPE: &str = "classic";

/// DescribeGroups.
pub(super) fn describe(
    inner: &mut GroupTable,
    req: DescribeGroupsRequest,
    version: i16,
) -> DescribeGroupsResponse {
    let operations = crate::authorized_operations::when(req.include_authorized_operations, || {
        crate::authorized_operations::all(crate::authorized_operations::GROUP)
    });
    let groups = req
        .groups
        .into_iter()
        .map(|group_id| {
            let mut d = if !inner.active {
                DescribedGroup {
                    error_code: ErrorCode::CoordinatorNotAvailable,
                    group_id,
                    ..Default::default()
                }
            } else if let Some(g) = inner.groups.get(group_id.as_str()) {
                describe_group(g)
            } else if version >= 6 {
                // KIP-1043: v6 reports unknown groups as such; older versions as "Dead".
                DescribedGroup {
                    error_code: ErrorCode::GroupIdNotFound,
                    error_message: Some(format!("Group {group_id} not found.").into()),
                    group_id,
                    group_state: GroupState::Dead.as_str().to_owned().into(),
                    ..Default::default()
                }
            } else {
                DescribedGroup {
                    group_id,
                    group_state: GroupState::Dead.as_str().to_owned().into(),
                    ..Default::default()
                }
            };
            d.authorized_operations = operations;
            d
        })
        .collect();
    DescribeGroupsResponse {
        groups,
        ..Default::default()
    }
}

/// A group's description: member metadata only while Stable (the protocol is settled only then),
/// and each member's latest assignment in every state, as Kafka shows them: during a rebalance
/// that started from Stable the members still hold the previous generation's assignment.
fn describe_group(g: &ClassicGroup) -> DescribedGroup {
    let stable = g.state() == GroupState::Stable;
    let protocol = if stable { g.protocol_name() } else { None };
    DescribedGroup {
        group_id: g.group_id().to_owned().into(),
        group_state: g.state().as_str().to_owned().into(),
        protocol_type: g.protocol_type().unwrap_or_default().to_owned().into(),
        protocol_data: protocol.unwrap_or_default().to_owned().into(),
        members: g
            .members()
            .iter()
            .map(|m| DescribedGroupMember {
                member_id: m.member_id.clone().into(),
                group_instance_id: m.group_instance_id.clone().map(Into::into),
                client_id: m.client_id.clone().into(),
                client_host: m.client_host.clone().into(),
                member_metadata: protocol
                    .and_then(|p| m.metadata(p).cloned())
                    .unwrap_or_default(),
                member_assignment: m.assignment.clone(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// ListGroups, with the v4 state filter (KIP-518) and the v5 type filter (KIP-848), both
/// case-insensitive.
pub(super) fn list(inner: &mut GroupTable, req: ListGroupsRequest) -> ListGroupsResponse {
    if !inner.active {
        return ListGroupsResponse::default().with_error_code(ErrorCode::CoordinatorNotAvailable);
    }
    // Versions without the filters leave them empty: every group passes.
    let states: Vec<String> = req.states_filter.iter().map(|s| s.to_lowercase()).collect();
    let types_ok = req.types_filter.is_empty()
        || req
            .types_filter
            .iter()
            .any(|t| t.eq_ignore_ascii_case(CLASSIC_GROUP_TYPE));
    let mut groups: Vec<ListedGroup> = inner
        .groups
        .values()
        .filter(|g| g.state() != GroupState::Dead && types_ok)
        .filter(|g| states.is_empty() || states.contains(&g.state().as_str().to_lowercase()))
        .map(|g| ListedGroup {
            group_id: g.group_id().to_owned().into(),
            protocol_type: g.protocol_type().unwrap_or_default().to_owned().into(),
            group_state: g.state().as_str().to_owned().into(),
            group_type: CLASSIC_GROUP_TYPE.to_owned().into(),
            ..Default::default()
        })
        .collect();
    groups.sort_by(|a, b| a.group_id.cmp(&b.group_id));
    ListGroupsResponse {
        groups,
        ..Default::default()
    }
}

/// DeleteGroups: only groups without members, and their offsets go with them.
pub(super) fn delete(
    inner: &mut GroupTable,
    req: DeleteGroupsRequest,
    _version: i16,
) -> DeleteGroupsResponse {
    let results = req
        .groups_names
        .into_iter()
        .map(|group_id| {
            let error = if !inner.active {
                ErrorCode::CoordinatorNotAvailable
            } else {
                match inner.groups.get(group_id.as_str()).map(ClassicGroup::state) {
                    None | Some(GroupState::Dead) => ErrorCode::GroupIdNotFound,
                    Some(GroupState::Empty) => {
                        inner.groups.remove(group_id.as_str());
                        ErrorCode::None
                    }
                    Some(_) => ErrorCode::NonEmptyGroup,
                }
            };
            DeletableGroupResult {
                group_id,
                error_code: error,
                ..Default::default()
            }
        })
        .collect();
    DeleteGroupsResponse {
        results,
        ..Default::default()
    }
}
