//! The classic group APIs, routed to [`crate::group::GroupCoordinator`] after checking that this
//! broker coordinates the group.
//!
//! Kafka places a group on the leader of partition `hash(group) % 50` of `__consumer_offsets`;
//! here the coordinator is picked from the live brokers by the same kind of stable hash
//! ([`crate::state::ClusterState::coordinator_for`]). A group request that reaches another broker
//! is answered NOT_COORDINATOR, which sends the client back to FindCoordinator. Batched requests
//! (OffsetFetch v8+, DescribeGroups, DeleteGroups) are split: the groups coordinated here go to
//! the coordinator, the others get NOT_COORDINATOR entries. ListGroups lists only the groups
//! coordinated here, so an admin client that asks every broker sees each group once.

use kafka_protocol::messages::*;
use kafka_protocol::{ErrorCode, RequestBody, ResponseBody};

use super::Reply;
use crate::connection::Ctx;
use crate::group::ClientInfo;

fn is_mine(ctx: &Ctx, group: &str) -> bool {
    ctx.state.coordinator_for(group).map(|b| b.id) == Some(ctx.broker_id)
}

pub(crate) async fn dispatch(
    ctx: &Ctx,
    header: &RequestHeader,
    body: RequestBody,
    version: i16,
) -> Reply {
    let groups = &ctx.state.groups;
    let not_coordinator =
        |body: &RequestBody| match error_response(body, version, ErrorCode::NotCoordinator) {
            Some(r) => Reply::Send(r),
            None => Reply::Unsupported,
        };
    match body {
        RequestBody::JoinGroup(r) => {
            if !is_mine(ctx, &r.group_id) {
                return not_coordinator(&RequestBody::JoinGroup(r));
            }
            let client = ClientInfo::new(
                header.client_id.clone().unwrap_or_default(),
                ctx.client_host.clone(),
            );
            groups.join_group_from(r, version, client).await.into()
        }
        RequestBody::SyncGroup(r) => {
            if !is_mine(ctx, &r.group_id) {
                return not_coordinator(&RequestBody::SyncGroup(r));
            }
            groups.sync_group(r, version).await.into()
        }
        RequestBody::Heartbeat(r) => {
            if !is_mine(ctx, &r.group_id) {
                return not_coordinator(&RequestBody::Heartbeat(r));
            }
            groups.heartbeat(r, version).await.into()
        }
        RequestBody::LeaveGroup(r) => {
            if !is_mine(ctx, &r.group_id) {
                return not_coordinator(&RequestBody::LeaveGroup(r));
            }
            groups.leave_group(r, version).await.into()
        }
        RequestBody::OffsetCommit(r) => {
            if !is_mine(ctx, &r.group_id) {
                return not_coordinator(&RequestBody::OffsetCommit(r));
            }
            groups.offset_commit(r, version).await.into()
        }
        RequestBody::OffsetDelete(r) => {
            if !is_mine(ctx, &r.group_id) {
                return not_coordinator(&RequestBody::OffsetDelete(r));
            }
            groups.offset_delete(r, version).await.into()
        }
        RequestBody::OffsetFetch(r) if version < 8 => {
            if !is_mine(ctx, &r.group_id) {
                return not_coordinator(&RequestBody::OffsetFetch(r));
            }
            groups.offset_fetch(r, version).await.into()
        }
        RequestBody::OffsetFetch(mut r) => {
            let (mine, others): (Vec<_>, Vec<_>) =
                r.groups.drain(..).partition(|g| is_mine(ctx, &g.group_id));
            r.groups = mine;
            let mut response = if r.groups.is_empty() {
                OffsetFetchResponse::default()
            } else {
                groups.offset_fetch(r, version).await
            };
            response.groups.extend(others.into_iter().map(|g| {
                offset_fetch_response::OffsetFetchResponseGroup {
                    group_id: g.group_id,
                    error_code: ErrorCode::NotCoordinator.code(),
                    ..Default::default()
                }
            }));
            response.into()
        }
        RequestBody::DescribeGroups(mut r) => {
            let (mine, others): (Vec<_>, Vec<_>) =
                r.groups.drain(..).partition(|g| is_mine(ctx, g));
            r.groups = mine;
            let mut response = if r.groups.is_empty() {
                DescribeGroupsResponse::default()
            } else {
                groups.describe_groups(r, version).await
            };
            response.groups.extend(
                others
                    .into_iter()
                    .map(|g| described_error(g, ErrorCode::NotCoordinator)),
            );
            response.into()
        }
        RequestBody::DeleteGroups(mut r) => {
            let (mine, others): (Vec<_>, Vec<_>) =
                r.groups_names.drain(..).partition(|g| is_mine(ctx, g));
            r.groups_names = mine;
            let mut response = if r.groups_names.is_empty() {
                DeleteGroupsResponse::default()
            } else {
                groups.delete_groups(r, version).await
            };
            response.results.extend(others.into_iter().map(|g| {
                delete_groups_response::DeletableGroupResult {
                    group_id: g,
                    error_code: ErrorCode::NotCoordinator.code(),
                    ..Default::default()
                }
            }));
            response.into()
        }
        RequestBody::ListGroups(r) => {
            let mut response = groups.list_groups(r, version).await;
            response.groups.retain(|g| is_mine(ctx, &g.group_id));
            response.into()
        }
        _ => Reply::Unsupported,
    }
}

fn described_error(group_id: String, code: ErrorCode) -> describe_groups_response::DescribedGroup {
    describe_groups_response::DescribedGroup {
        error_code: code.code(),
        group_id,
        group_state: "Dead".into(),
        authorized_operations: i32::MIN,
        ..Default::default()
    }
}

/// Error responses for the group APIs (injected faults and NOT_COORDINATOR).
pub(crate) fn error_response(
    body: &RequestBody,
    version: i16,
    code: ErrorCode,
) -> Option<ResponseBody> {
    let c = code.code();
    Some(match body {
        RequestBody::JoinGroup(r) => JoinGroupResponse {
            error_code: c,
            generation_id: -1,
            member_id: r.member_id.clone(),
            protocol_name: if version >= 7 {
                None
            } else {
                Some(String::new())
            },
            ..Default::default()
        }
        .into(),
        RequestBody::SyncGroup(_) => SyncGroupResponse {
            error_code: c,
            ..Default::default()
        }
        .into(),
        RequestBody::Heartbeat(_) => HeartbeatResponse {
            error_code: c,
            ..Default::default()
        }
        .into(),
        RequestBody::LeaveGroup(_) => LeaveGroupResponse {
            error_code: c,
            ..Default::default()
        }
        .into(),
        RequestBody::OffsetCommit(r) => OffsetCommitResponse {
            topics: r
                .topics
                .iter()
                .map(|t| offset_commit_response::OffsetCommitResponseTopic {
                    name: t.name.clone(),
                    topic_id: t.topic_id,
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| offset_commit_response::OffsetCommitResponsePartition {
                            partition_index: p.partition_index,
                            error_code: c,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::OffsetFetch(r) if version >= 8 => OffsetFetchResponse {
            groups: r
                .groups
                .iter()
                .map(|g| offset_fetch_response::OffsetFetchResponseGroup {
                    group_id: g.group_id.clone(),
                    error_code: c,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::OffsetFetch(r) => OffsetFetchResponse {
            // v0-1 have no top-level error: report it on every requested partition.
            error_code: if version >= 2 { c } else { 0 },
            topics: r
                .topics
                .iter()
                .flatten()
                .map(|t| offset_fetch_response::OffsetFetchResponseTopic {
                    name: t.name.clone(),
                    partitions: t
                        .partition_indexes
                        .iter()
                        .map(|p| offset_fetch_response::OffsetFetchResponsePartition {
                            partition_index: *p,
                            committed_offset: -1,
                            committed_leader_epoch: -1,
                            metadata: Some(String::new()),
                            error_code: c,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::DescribeGroups(r) => DescribeGroupsResponse {
            groups: r
                .groups
                .iter()
                .map(|g| described_error(g.clone(), code))
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::ListGroups(_) => ListGroupsResponse {
            error_code: c,
            ..Default::default()
        }
        .into(),
        RequestBody::DeleteGroups(r) => DeleteGroupsResponse {
            results: r
                .groups_names
                .iter()
                .map(|g| delete_groups_response::DeletableGroupResult {
                    group_id: g.clone(),
                    error_code: c,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
        .into(),
        RequestBody::OffsetDelete(_) => OffsetDeleteResponse {
            error_code: c,
            ..Default::default()
        }
        .into(),
        _ => return None,
    })
}
