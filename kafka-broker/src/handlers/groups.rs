//! The classic group APIs, routed to [`crate::group::GroupCoordinator`] after checking that this
//! broker coordinates the group.
//!
//! Kafka places a group on the leader of partition `hash(group) % 50` of `__consumer_offsets`;
//! here the coordinator is picked from the live brokers by the same kind of stable hash
//! ([`crate::state::ClusterState::coordinator_for`]). A group request that reaches another broker
//! is answered NOT_COORDINATOR (the request's schema-generated error response), which sends the
//! client back to FindCoordinator. Batched requests (OffsetFetch v8+, DescribeGroups,
//! DeleteGroups) are split: the groups coordinated here go to the coordinator, the others get
//! NOT_COORDINATOR entries. ListGroups lists only the groups coordinated here, so an admin
//! client that asks every broker sees each group once.

use kafka_protocol::messages::*;
use kafka_protocol::{ErrorCode, GroupId};

use super::Reply;
use crate::context::RequestContext;
use crate::group::ClientInfo;

fn is_mine(ctx: &RequestContext, group: &str) -> bool {
    ctx.state.coordinator_for(group).map(|b| b.id) == Some(ctx.broker_id)
}

/// Splits a batched request's groups into those coordinated here and the others.
fn split<T>(ctx: &RequestContext, items: &mut Vec<T>, group: impl Fn(&T) -> &str) -> Vec<T> {
    let (mine, others): (Vec<T>, Vec<T>) = items.drain(..).partition(|g| is_mine(ctx, group(g)));
    *items = mine;
    others
}

pub(crate) async fn join_group(
    ctx: &RequestContext,
    header: &RequestHeader,
    r: JoinGroupRequest,
    version: i16,
) -> Reply {
    if !is_mine(ctx, &r.group_id) {
        return r.error_response(ErrorCode::NotCoordinator).into();
    }
    let client = ClientInfo::new(
        header.client_id.clone().unwrap_or_default(),
        ctx.client_host.clone(),
    );
    ctx.state
        .groups
        .join_group_from(r, version, client)
        .await
        .into()
}

pub(crate) async fn sync_group(
    ctx: &RequestContext,
    _header: &RequestHeader,
    r: SyncGroupRequest,
    version: i16,
) -> Reply {
    if !is_mine(ctx, &r.group_id) {
        return r.error_response(ErrorCode::NotCoordinator).into();
    }
    ctx.state.groups.sync_group(r, version).await.into()
}

pub(crate) async fn heartbeat(
    ctx: &RequestContext,
    _header: &RequestHeader,
    r: HeartbeatRequest,
    version: i16,
) -> Reply {
    if !is_mine(ctx, &r.group_id) {
        return r.error_response(ErrorCode::NotCoordinator).into();
    }
    ctx.state.groups.heartbeat(r, version).await.into()
}

pub(crate) async fn leave_group(
    ctx: &RequestContext,
    _header: &RequestHeader,
    r: LeaveGroupRequest,
    version: i16,
) -> Reply {
    if !is_mine(ctx, &r.group_id) {
        return r.error_response(ErrorCode::NotCoordinator).into();
    }
    ctx.state.groups.leave_group(r, version).await.into()
}

pub(crate) async fn offset_commit(
    ctx: &RequestContext,
    _header: &RequestHeader,
    r: OffsetCommitRequest,
    version: i16,
) -> Reply {
    if !is_mine(ctx, &r.group_id) {
        return r.error_response(ErrorCode::NotCoordinator).into();
    }
    ctx.state.groups.offset_commit(r, version).await.into()
}

pub(crate) async fn offset_delete(
    ctx: &RequestContext,
    _header: &RequestHeader,
    r: OffsetDeleteRequest,
    version: i16,
) -> Reply {
    if !is_mine(ctx, &r.group_id) {
        return r.error_response(ErrorCode::NotCoordinator).into();
    }
    ctx.state.groups.offset_delete(r, version).await.into()
}

pub(crate) async fn offset_fetch(
    ctx: &RequestContext,
    _header: &RequestHeader,
    mut r: OffsetFetchRequest,
    version: i16,
) -> Reply {
    // Before v8 a request names one group; from v8 on, many (KIP-709).
    if version < 8 {
        if !is_mine(ctx, &r.group_id) {
            return r.error_response(ErrorCode::NotCoordinator).into();
        }
        return ctx.state.groups.offset_fetch(r, version).await.into();
    }
    let others = OffsetFetchRequest {
        groups: split(ctx, &mut r.groups, |g| &g.group_id),
        ..Default::default()
    };
    let mut response = if r.groups.is_empty() {
        OffsetFetchResponse::default()
    } else {
        ctx.state.groups.offset_fetch(r, version).await
    };
    response
        .groups
        .extend(others.error_response(ErrorCode::NotCoordinator).groups);
    response.into()
}

pub(crate) async fn describe_groups(
    ctx: &RequestContext,
    _header: &RequestHeader,
    mut r: DescribeGroupsRequest,
    version: i16,
) -> Reply {
    let others = DescribeGroupsRequest {
        groups: split(ctx, &mut r.groups, GroupId::as_str),
        ..Default::default()
    };
    let mut response = if r.groups.is_empty() {
        DescribeGroupsResponse::default()
    } else {
        ctx.state.groups.describe_groups(r, version).await
    };
    response
        .groups
        .extend(others.error_response(ErrorCode::NotCoordinator).groups);
    response.into()
}

pub(crate) async fn delete_groups(
    ctx: &RequestContext,
    _header: &RequestHeader,
    mut r: DeleteGroupsRequest,
    version: i16,
) -> Reply {
    let others = DeleteGroupsRequest {
        groups_names: split(ctx, &mut r.groups_names, GroupId::as_str),
        ..Default::default()
    };
    let mut response = if r.groups_names.is_empty() {
        DeleteGroupsResponse::default()
    } else {
        ctx.state.groups.delete_groups(r, version).await
    };
    response
        .results
        .extend(others.error_response(ErrorCode::NotCoordinator).results);
    response.into()
}

pub(crate) async fn list_groups(
    ctx: &RequestContext,
    _header: &RequestHeader,
    r: ListGroupsRequest,
    version: i16,
) -> Reply {
    let mut response = ctx.state.groups.list_groups(r, version).await;
    response.groups.retain(|g| is_mine(ctx, &g.group_id));
    response.into()
}
