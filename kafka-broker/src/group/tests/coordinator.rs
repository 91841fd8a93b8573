//! The classic group coordinator through its async API, with tokio's clock paused so that
//! session and rebalance timeouts run instantly and deterministically.

use std::sync::Arc;
use std::time::Duration;

use crate::group::{ClientInfo, GroupConfig, GroupCoordinator};
use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    DescribeGroupsRequest, HeartbeatRequest, JoinGroupRequest, JoinGroupResponse,
    LeaveGroupRequest, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::ErrorCode;

use super::subscription;

const SESSION_MS: i32 = 10_000;
const REBALANCE_MS: i32 = 20_000;

fn join_req(group: &str, member_id: &str, instance: Option<&str>) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(group)
        .with_session_timeout_ms(SESSION_MS)
        .with_rebalance_timeout_ms(REBALANCE_MS)
        .with_member_id(member_id)
        .with_group_instance_id(instance.map(str::to_owned).map(Into::into))
        .with_protocol_type("consumer")
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name("range")
            .with_metadata(subscription(&["orders"]))])
}

/// JoinGroup v5 the way a Java consumer does it: empty member id, MEMBER_ID_REQUIRED, rejoin.
async fn join_new(c: &GroupCoordinator, group: &str) -> JoinGroupResponse {
    let client = ClientInfo::new("consumer-1", "/127.0.0.1");
    let first = c
        .join_group_from(join_req(group, "", None), 5, client.clone())
        .await;
    assert_eq!(first.error_code, ErrorCode::MemberIdRequired);
    assert!(first.member_id.starts_with("consumer-1-"));
    c.join_group_from(join_req(group, &first.member_id, None), 5, client)
        .await
}

async fn sync(
    c: &GroupCoordinator,
    group: &str,
    member: &str,
    generation: i32,
    assignments: &[(&str, &'static [u8])],
) -> SyncGroupResponse {
    let req = SyncGroupRequest::default()
        .with_group_id(group)
        .with_member_id(member)
        .with_generation_id(generation)
        .with_assignments(
            assignments
                .iter()
                .map(|(m, a)| {
                    SyncGroupRequestAssignment::default()
                        .with_member_id(*m)
                        .with_assignment(Bytes::from_static(a))
                })
                .collect(),
        );
    c.sync_group(req, 5).await
}

async fn heartbeat(c: &GroupCoordinator, group: &str, member: &str, generation: i32) -> ErrorCode {
    let req = HeartbeatRequest::default()
        .with_group_id(group)
        .with_member_id(member)
        .with_generation_id(generation);
    c.heartbeat(req, 4).await.error_code
}

async fn describe_state(c: &GroupCoordinator, group: &str) -> (String, usize) {
    let req = DescribeGroupsRequest::default().with_groups(vec![group.into()]);
    let d = c.describe_groups(req, 5).await;
    let g = &d.groups[0];
    (g.group_state.to_string(), g.members.len())
}

/// Lets spawned tasks run up to their next await.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

/// A stable group "g" with `a` (leader) and `b`; returns (a, b, generation).
async fn stable_pair(c: &Arc<GroupCoordinator>) -> (String, String, i32) {
    let a = join_new(c, "g").await;
    assert_eq!(a.error_code, ErrorCode::None);
    let s = sync(
        c,
        "g",
        &a.member_id,
        a.generation_id,
        &[(&a.member_id, b"a1")],
    )
    .await;
    assert_eq!(s.assignment, Bytes::from_static(b"a1"));

    let c2 = Arc::clone(c);
    let b_join = tokio::spawn(async move { join_new(&c2, "g").await });
    settle().await;
    assert_eq!(
        heartbeat(c, "g", &a.member_id, 1).await,
        ErrorCode::RebalanceInProgress
    );
    let a2 = c.join_group(join_req("g", &a.member_id, None), 5).await;
    let b2 = b_join.await.unwrap();
    assert_eq!((a2.generation_id, b2.generation_id), (2, 2));
    assert_eq!(a2.leader, a.member_id);
    assert_eq!(a2.members.len(), 2);
    assert!(b2.members.is_empty());

    let c2 = Arc::clone(c);
    let b_id = b2.member_id.clone();
    let b_sync = tokio::spawn(async move { sync(&c2, "g", &b_id, 2, &[]).await });
    settle().await;
    let sa = sync(
        c,
        "g",
        &a.member_id,
        2,
        &[(&a.member_id, b"a2"), (&b2.member_id, b"b2")],
    )
    .await;
    assert_eq!(sa.assignment, Bytes::from_static(b"a2"));
    assert_eq!(b_sync.await.unwrap().assignment, Bytes::from_static(b"b2"));
    (a.member_id.to_string(), b2.member_id.to_string(), 2)
}

#[tokio::test(start_paused = true)]
async fn join_and_sync_single_member() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let j = join_new(&c, "g").await;
    assert_eq!(j.error_code, ErrorCode::None);
    assert_eq!(j.generation_id, 1);
    assert_eq!(j.leader, j.member_id);
    assert_eq!(j.protocol_name.as_deref(), Some("range"));
    assert_eq!(j.members.len(), 1);
    assert_eq!(j.members[0].metadata, subscription(&["orders"]));
    let s = sync(&c, "g", &j.member_id, 1, &[(&j.member_id, b"mine")]).await;
    assert_eq!(s.error_code, ErrorCode::None);
    assert_eq!(s.assignment, Bytes::from_static(b"mine"));
    assert_eq!(heartbeat(&c, "g", &j.member_id, 1).await, ErrorCode::None);
    let req = DescribeGroupsRequest::default().with_groups(vec!["g".into()]);
    let d = c.describe_groups(req, 5).await;
    let g = &d.groups[0];
    assert_eq!(g.group_state, "Stable");
    assert_eq!(g.protocol_type, "consumer");
    assert_eq!(g.protocol_data, "range");
    assert_eq!(g.members[0].client_id, "consumer-1");
    assert_eq!(g.members[0].client_host, "/127.0.0.1");
    assert_eq!(g.members[0].member_assignment, Bytes::from_static(b"mine"));
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn second_member_rebalances_the_group() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let (a, b, generation) = stable_pair(&c).await;
    assert_eq!(heartbeat(&c, "g", &a, generation).await, ErrorCode::None);
    assert_eq!(heartbeat(&c, "g", &b, generation).await, ErrorCode::None);
    assert_eq!(describe_state(&c, "g").await, ("Stable".to_owned(), 2));
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn session_expiry_removes_a_silent_member() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let (a, b, generation) = stable_pair(&c).await;
    // Only a heartbeats, every 3 s, for longer than the session timeout.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let e = heartbeat(&c, "g", &a, generation).await;
        assert!(
            matches!(e, ErrorCode::None | ErrorCode::RebalanceInProgress),
            "{e:?}"
        );
    }
    assert_eq!(
        heartbeat(&c, "g", &a, generation).await,
        ErrorCode::RebalanceInProgress
    );
    assert_eq!(
        heartbeat(&c, "g", &b, generation).await,
        ErrorCode::UnknownMemberId
    );
    let j = c.join_group(join_req("g", &a, None), 5).await;
    assert_eq!(j.generation_id, generation + 1);
    assert_eq!(j.members.len(), 1);
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn rebalance_timeout_removes_members_that_do_not_rejoin() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let (a, b, generation) = stable_pair(&c).await;
    // a rejoins; b keeps heartbeating but never rejoins. a's JoinGroup is answered when the
    // rebalance timeout expires, without b.
    let c2 = Arc::clone(&c);
    let a2 = a.clone();
    let a_join = tokio::spawn(async move { c2.join_group(join_req("g", &a2, None), 5).await });
    settle().await;
    let c3 = Arc::clone(&c);
    let b2 = b.clone();
    let b_beats = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(3)).await;
            if heartbeat(&c3, "g", &b2, generation).await != ErrorCode::RebalanceInProgress {
                return;
            }
        }
    });
    let started = tokio::time::Instant::now();
    let j = a_join.await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(REBALANCE_MS as u64));
    assert_eq!(j.error_code, ErrorCode::None);
    assert_eq!(j.generation_id, generation + 1);
    assert_eq!(j.members.len(), 1);
    b_beats.await.unwrap();
    assert_eq!(
        heartbeat(&c, "g", &b, generation).await,
        ErrorCode::UnknownMemberId
    );
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn leave_group_triggers_rebalance() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let (a, b, generation) = stable_pair(&c).await;
    // v0 LeaveGroup: one member, error at the top level.
    let leave = LeaveGroupRequest::default()
        .with_group_id("g")
        .with_member_id(b.clone());
    assert_eq!(
        c.leave_group(leave.clone(), 0).await.error_code,
        ErrorCode::None
    );
    assert_eq!(
        c.leave_group(leave, 0).await.error_code,
        ErrorCode::UnknownMemberId
    );
    assert_eq!(
        heartbeat(&c, "g", &a, generation).await,
        ErrorCode::RebalanceInProgress
    );
    let j = c.join_group(join_req("g", &a, None), 5).await;
    assert_eq!(j.generation_id, generation + 1);
    // v3 LeaveGroup: a batch with per-member errors.
    let leave = LeaveGroupRequest::default()
        .with_group_id("g")
        .with_members(vec![
            MemberIdentity::default().with_member_id(a.clone()),
            MemberIdentity::default().with_member_id("ghost"),
        ]);
    let r = c.leave_group(leave, 3).await;
    assert_eq!(r.error_code, ErrorCode::None);
    let errors: Vec<ErrorCode> = r.members.iter().map(|m| m.error_code).collect();
    assert_eq!(errors, vec![ErrorCode::None, ErrorCode::UnknownMemberId]);
    assert_eq!(describe_state(&c, "g").await, ("Empty".to_owned(), 0));
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn static_member_rejoins_without_rebalance() {
    let c = GroupCoordinator::new(GroupConfig::default());
    // Static members skip MEMBER_ID_REQUIRED.
    let j = c.join_group(join_req("g", "", Some("instance-1")), 5).await;
    assert_eq!(j.error_code, ErrorCode::None);
    let s = sync(&c, "g", &j.member_id, 1, &[(&j.member_id, b"p0")]).await;
    assert_eq!(s.error_code, ErrorCode::None);
    // The client restarts and rejoins with its instance id only.
    let again = c.join_group(join_req("g", "", Some("instance-1")), 5).await;
    assert_eq!(again.error_code, ErrorCode::None);
    assert_ne!(again.member_id, j.member_id);
    assert_eq!(again.generation_id, 1);
    assert_eq!(describe_state(&c, "g").await, ("Stable".to_owned(), 1));
    let hb = HeartbeatRequest::default()
        .with_group_id("g")
        .with_member_id(j.member_id.clone())
        .with_group_instance_id(Some("instance-1".into()))
        .with_generation_id(1);
    assert_eq!(
        c.heartbeat(hb, 3).await.error_code,
        ErrorCode::FencedInstanceId
    );
    let s = sync(&c, "g", &again.member_id, 1, &[]).await;
    assert_eq!(
        s.assignment,
        Bytes::from_static(b"p0"),
        "kept its assignment"
    );
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn invalid_requests() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let short = join_req("g", "", None).with_session_timeout_ms(100);
    let r = c.join_group(short, 5).await;
    assert_eq!(r.error_code, ErrorCode::InvalidSessionTimeout);
    let long = join_req("g", "", None).with_session_timeout_ms(1_800_001);
    assert_eq!(
        c.join_group(long, 5).await.error_code,
        ErrorCode::InvalidSessionTimeout
    );
    let r = c.join_group(join_req("", "", None), 5).await;
    assert_eq!(r.error_code, ErrorCode::InvalidGroupId);
    let r = c.join_group(join_req("nogroup", "someone", None), 5).await;
    assert_eq!(r.error_code, ErrorCode::UnknownMemberId);
    assert_eq!(
        heartbeat(&c, "nogroup", "someone", 1).await,
        ErrorCode::UnknownMemberId
    );
    let s = sync(&c, "nogroup", "someone", 1, &[]).await;
    assert_eq!(s.error_code, ErrorCode::UnknownMemberId);
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_wakes_parked_requests() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let (a, _b, _) = stable_pair(&c).await;
    let c2 = Arc::clone(&c);
    let parked = tokio::spawn(async move { c2.join_group(join_req("g", &a, None), 5).await });
    settle().await;
    assert!(!parked.is_finished());
    c.shutdown().await;
    let r = parked.await.unwrap();
    assert_eq!(r.error_code, ErrorCode::CoordinatorNotAvailable);
    let r = c.join_group(join_req("g", "", None), 5).await;
    assert_eq!(r.error_code, ErrorCode::CoordinatorNotAvailable);
    // Restarted, it serves the group it kept.
    c.resume();
    assert_eq!(describe_state(&c, "g").await.1, 2);
    c.shutdown().await;
}

/// The module documentation's flow: a v3 join admits a new member at once (v4+ would first
/// answer MEMBER_ID_REQUIRED with its id), as the group's leader of generation 1.
#[tokio::test]
async fn a_v3_join_admits_a_new_member_at_once() {
    let coordinator = GroupCoordinator::new(GroupConfig::default());
    let join = JoinGroupRequest::default()
        .with_group_id("orders")
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_protocol_type("consumer")
        .with_protocols(vec![JoinGroupRequestProtocol::default().with_name("range")]);
    let response = coordinator.join_group(join, 3).await;
    assert_eq!(response.error_code, ErrorCode::None);
    assert_eq!(response.generation_id, 1);
    assert_eq!(response.leader, response.member_id);
    coordinator.shutdown().await;
}
