//! The classic group APIs, routed to [`crate::group::GroupCoordinator`] after checking that this
//! broker coordinates the group.
//!
//! Kafka places a group on the leader of partition `abs(hash(group)) % 50` of
//! `__consumer_offsets`, and so does the bundled broker, with that topic's placement computed
//! rather than stored ([`crate::coordinator_placement`]). A group request that reaches another broker
//! is answered NOT_COORDINATOR (the request's schema-generated error response), which sends the
//! client back to FindCoordinator. Batched requests (OffsetFetch v8+, DescribeGroups,
//! DeleteGroups) are split: the groups coordinated here go to the coordinator, the others get
//! NOT_COORDINATOR entries. ListGroups lists only the groups coordinated here, so an admin
//! client that asks every broker sees each group once.

use kafka_protocol::acl::AclOperation;
use kafka_protocol::messages::*;
use kafka_protocol::{ErrorCode, GroupId};

use super::Reply;
use crate::context::RequestContext;
use crate::group::ClientInfo;

fn is_mine(ctx: &RequestContext, group: &str) -> bool {
    ctx.state.coordinator_for(group).map(|b| b.id) == Some(ctx.broker_id)
}

/// The checks before a single-group request reaches the coordinator, in Kafka's order: the
/// ACL `operation` on the group (GROUP_AUTHORIZATION_FAILED), then whether this broker
/// coordinates it (NOT_COORDINATOR). `fail` builds the request's error response.
fn check_group(
    ctx: &RequestContext,
    group: &str,
    operation: AclOperation,
    fail: impl FnOnce(ErrorCode) -> Reply,
) -> Option<Reply> {
    if !ctx.allowed_group(operation, group) {
        return Some(fail(ErrorCode::GroupAuthorizationFailed));
    }
    if !is_mine(ctx, group) {
        return Some(fail(ErrorCode::NotCoordinator));
    }
    None
}

/// Removes and returns the items `denied` selects.
fn take_denied<T>(items: &mut Vec<T>, denied: impl Fn(&T) -> bool) -> Vec<T> {
    let (out, kept): (Vec<T>, Vec<T>) = items.drain(..).partition(|t| denied(t));
    *items = kept;
    out
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
    // Kafka's error answer to a JoinGroup names no protocol (null, not empty).
    let fail = |c| {
        let mut response = r.error_response(c);
        response.protocol_name = None;
        response.into()
    };
    if let Some(denied) = check_group(ctx, &r.group_id, AclOperation::Read, fail) {
        return denied;
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
    if let Some(denied) = check_group(ctx, &r.group_id, AclOperation::Read, |c| {
        r.error_response(c).into()
    }) {
        return denied;
    }
    ctx.state.groups.sync_group(r, version).await.into()
}

pub(crate) async fn heartbeat(
    ctx: &RequestContext,
    _header: &RequestHeader,
    r: HeartbeatRequest,
    version: i16,
) -> Reply {
    if let Some(denied) = check_group(ctx, &r.group_id, AclOperation::Read, |c| {
        r.error_response(c).into()
    }) {
        return denied;
    }
    ctx.state.groups.heartbeat(r, version).await.into()
}

pub(crate) async fn leave_group(
    ctx: &RequestContext,
    _header: &RequestHeader,
    r: LeaveGroupRequest,
    version: i16,
) -> Reply {
    if let Some(denied) = check_group(ctx, &r.group_id, AclOperation::Read, |c| {
        r.error_response(c).into()
    }) {
        return denied;
    }
    ctx.state.groups.leave_group(r, version).await.into()
}

pub(crate) async fn offset_commit(
    ctx: &RequestContext,
    _header: &RequestHeader,
    mut r: OffsetCommitRequest,
    version: i16,
) -> Reply {
    if let Some(denied) = check_group(ctx, &r.group_id, AclOperation::Read, |c| {
        r.error_response(c).into()
    }) {
        return denied;
    }
    // Committing for a topic takes READ on it; the other topics are committed. From v10 a
    // topic is named by id: an id this cluster does not know is the coordinator's to answer.
    let by_id = version >= 10;
    let denied = OffsetCommitRequest {
        topics: take_denied(&mut r.topics, |t| {
            let name = if by_id {
                match crate::sync::lock(&ctx.state.topics).get_by_id(&t.topic_id) {
                    Some(topic) => topic.name.clone(),
                    None => return false,
                }
            } else {
                t.name.to_string()
            };
            !ctx.allowed_topic(AclOperation::Read, &name)
        }),
        ..Default::default()
    };
    let mut response = if r.topics.is_empty() && !denied.topics.is_empty() {
        OffsetCommitResponse::default()
    } else {
        ctx.state.groups.offset_commit(r, version).await
    };
    response.topics.extend(
        denied
            .error_response(ErrorCode::TopicAuthorizationFailed)
            .topics,
    );
    response.into()
}

pub(crate) async fn offset_delete(
    ctx: &RequestContext,
    _header: &RequestHeader,
    mut r: OffsetDeleteRequest,
    version: i16,
) -> Reply {
    if let Some(denied) = check_group(ctx, &r.group_id, AclOperation::Delete, |c| {
        r.error_response(c).into()
    }) {
        return denied;
    }
    // Deleting a topic's offsets also takes READ on the topic.
    let denied = OffsetDeleteRequest {
        topics: take_denied(&mut r.topics, |t| {
            !ctx.allowed_topic(AclOperation::Read, &t.name)
        }),
        ..Default::default()
    };
    let mut response = if r.topics.is_empty() && !denied.topics.is_empty() {
        OffsetDeleteResponse::default()
    } else {
        ctx.state.groups.offset_delete(r, version).await
    };
    response.topics.extend(
        denied
            .error_response(ErrorCode::TopicAuthorizationFailed)
            .topics,
    );
    response.into()
}

pub(crate) async fn offset_fetch(
    ctx: &RequestContext,
    _header: &RequestHeader,
    mut r: OffsetFetchRequest,
    version: i16,
) -> Reply {
    // Before v8 a request names one group; from v8 on, many (KIP-709).
    if version < 8 {
        if let Some(denied) = check_group(ctx, &r.group_id, AclOperation::Describe, |c| {
            r.error_response(c).into()
        }) {
            return denied;
        }
        return ctx.state.groups.offset_fetch(r, version).await.into();
    }
    let denied = OffsetFetchRequest {
        groups: take_denied(&mut r.groups, |g| {
            !ctx.allowed_group(AclOperation::Describe, &g.group_id)
        }),
        ..Default::default()
    };
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
    response.groups.extend(
        denied
            .error_response(ErrorCode::GroupAuthorizationFailed)
            .groups,
    );
    response.into()
}

pub(crate) async fn describe_groups(
    ctx: &RequestContext,
    _header: &RequestHeader,
    mut r: DescribeGroupsRequest,
    version: i16,
) -> Reply {
    let denied = DescribeGroupsRequest {
        groups: take_denied(&mut r.groups, |g| {
            !ctx.allowed_group(AclOperation::Describe, g)
        }),
        ..Default::default()
    };
    let others = DescribeGroupsRequest {
        groups: split(ctx, &mut r.groups, GroupId::as_str),
        ..Default::default()
    };
    let include_operations = r.include_authorized_operations;
    let mut response = if r.groups.is_empty() {
        DescribeGroupsResponse::default()
    } else {
        ctx.state.groups.describe_groups(r, version).await
    };
    // KIP-430: the operations this principal may perform on each group described.
    if include_operations {
        for g in &mut response.groups {
            g.authorized_operations = if g.error_code == ErrorCode::None {
                ctx.authorized_operations(
                    kafka_protocol::acl::ResourceType::Group,
                    &g.group_id,
                    crate::authorized_operations::GROUP,
                )
            } else {
                crate::authorized_operations::NOT_REQUESTED
            };
        }
    }
    response
        .groups
        .extend(others.error_response(ErrorCode::NotCoordinator).groups);
    response.groups.extend(
        denied
            .error_response(ErrorCode::GroupAuthorizationFailed)
            .groups,
    );
    response.into()
}

pub(crate) async fn delete_groups(
    ctx: &RequestContext,
    _header: &RequestHeader,
    mut r: DeleteGroupsRequest,
    version: i16,
) -> Reply {
    let denied = DeleteGroupsRequest {
        groups_names: take_denied(&mut r.groups_names, |g| {
            !ctx.allowed_group(AclOperation::Delete, g)
        }),
        ..Default::default()
    };
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
    response.results.extend(
        denied
            .error_response(ErrorCode::GroupAuthorizationFailed)
            .results,
    );
    response.into()
}

pub(crate) async fn list_groups(
    ctx: &RequestContext,
    _header: &RequestHeader,
    r: ListGroupsRequest,
    version: i16,
) -> Reply {
    let mut response = ctx.state.groups.list_groups(r, version).await;
    // With DESCRIBE on the cluster every group is listed; otherwise those the principal may
    // describe.
    let all = ctx.allowed_cluster(AclOperation::Describe);
    response.groups.retain(|g| {
        is_mine(ctx, &g.group_id) && (all || ctx.allowed_group(AclOperation::Describe, &g.group_id))
    });
    response.into()
}

/// TxnOffsetCommit (key 28): offsets committed inside a transaction (KIP-98), staged by the
/// group until the transaction's marker. In Kafka's order: WRITE on the transactional id, then
/// the group's checks, READ on each topic; then the transaction coordinator must confirm that
/// AddOffsetsToTxn put the group into the producer's open transaction (Kafka 3.6+ verifies,
/// KIP-890), before the group coordinator validates the member and stages the offsets.
pub(crate) async fn txn_offset_commit(
    ctx: &RequestContext,
    _header: &RequestHeader,
    mut r: TxnOffsetCommitRequest,
    version: i16,
) -> Reply {
    use kafka_protocol::acl::ResourceType;
    if !ctx.allowed(
        AclOperation::Write,
        ResourceType::TransactionalId,
        &r.transactional_id,
    ) {
        return r
            .error_response(ErrorCode::TransactionalIdAuthorizationFailed)
            .into();
    }
    if let Some(denied) = check_group(ctx, &r.group_id, AclOperation::Read, |c| {
        r.error_response(c).into()
    }) {
        return denied;
    }
    let denied = TxnOffsetCommitRequest {
        topics: take_denied(&mut r.topics, |t| {
            !ctx.allowed_topic(AclOperation::Read, &t.name)
        }),
        ..Default::default()
    };
    // Transactions v2 (TxnOffsetCommit v5+, KIP-890 part 2): the client sends no
    // AddOffsetsToTxn; the group joins the transaction here.
    let implicit = version >= 5 && crate::sync::lock(&ctx.state.features).transactions_v2();
    let verified = {
        let mut coordinator = crate::sync::lock(&ctx.state.transactions);
        if implicit {
            coordinator.add_group(
                &r.transactional_id,
                r.producer_id.0,
                r.producer_epoch,
                &r.group_id,
                ctx.state.clock.now_ms(),
            )
        } else {
            coordinator.verify(
                &r.transactional_id,
                r.producer_id.0,
                r.producer_epoch,
                crate::txn::TxnMember::Group(&r.group_id),
            )
        }
    };
    let mut response = match verified {
        _ if r.topics.is_empty() => TxnOffsetCommitResponse::default(),
        Err(code) => r.error_response(super::common::transactional_write_error(code, true)),
        Ok(()) => ctx.state.groups.txn_offset_commit(r).await,
    };
    response.topics.extend(
        denied
            .error_response(ErrorCode::TopicAuthorizationFailed)
            .topics,
    );
    response.into()
}
