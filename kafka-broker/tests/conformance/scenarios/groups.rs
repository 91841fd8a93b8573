//! The classic group protocol: FindCoordinator (10), JoinGroup (11), SyncGroup (14), Heartbeat
//! (12), LeaveGroup (13), OffsetCommit (8), OffsetFetch (9), DescribeGroups (15), ListGroups (16),
//! DeleteGroups (42) and OffsetDelete (47), on the normal path and with wrong generations,
//! unknown members, rebalances in progress and static members.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::{ApiKey, ErrorCode};

use crate::harness::Session;

const SESSION_TIMEOUT_MS: i32 = 10_000;
const REBALANCE_TIMEOUT_MS: i32 = 10_000;

/// A consumer protocol subscription (version 0) to `topics`.
fn subscription(topics: &[&str]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(0);
    b.put_i32(topics.len() as i32);
    for t in topics {
        b.put_i16(t.len() as i16);
        b.put_slice(t.as_bytes());
    }
    b.put_i32(-1);
    b.freeze()
}

/// A consumer protocol assignment (version 0) of `partitions` of `topic`.
fn assignment(topic: &str, partitions: &[i32]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(0);
    b.put_i32(1);
    b.put_i16(topic.len() as i16);
    b.put_slice(topic.as_bytes());
    b.put_i32(partitions.len() as i32);
    for p in partitions {
        b.put_i32(*p);
    }
    b.put_i32(-1);
    b.freeze()
}

fn join_request(group: &str, member_id: &str, topics: &[&str]) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(group)
        .with_session_timeout_ms(SESSION_TIMEOUT_MS)
        .with_rebalance_timeout_ms(REBALANCE_TIMEOUT_MS)
        .with_member_id(member_id.to_string())
        .with_protocol_type("consumer")
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name("range")
            .with_metadata(subscription(topics))])
}

/// A member of a stable group of one: joined, leader, synced.
struct Member {
    id: String,
    generation: i32,
}

/// Joins `group` as its only member, recording nothing (setup).
fn stable_member(s: &mut Session<'_>, conn: usize, group: &str, topic: &str) -> Member {
    s.wait_for_coordinator(group);
    let v = s.v(ApiKey::JoinGroup);
    let first = s.call_on(conn, &join_request(group, "", &[topic]), v);
    let joined = s.call_on(conn, &join_request(group, &first.member_id, &[topic]), v);
    assert_eq!(joined.error_code, ErrorCode::None, "join: {joined:?}");
    let sv = s.v(ApiKey::SyncGroup);
    let sync = SyncGroupRequest::default()
        .with_group_id(group)
        .with_generation_id(joined.generation_id)
        .with_member_id(joined.member_id.clone())
        .with_protocol_type(Some("consumer".into()))
        .with_protocol_name(Some("range".into()))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(joined.member_id.clone())
            .with_assignment(assignment(topic, &[0]))]);
    let synced = s.call_on(conn, &sync, sv);
    assert_eq!(synced.error_code, ErrorCode::None, "sync: {synced:?}");
    Member {
        id: joined.member_id.to_string(),
        generation: joined.generation_id,
    }
}

fn heartbeat(group: &str, member: &str, generation: i32) -> HeartbeatRequest {
    HeartbeatRequest::default()
        .with_group_id(group)
        .with_member_id(member.to_string())
        .with_generation_id(generation)
}

fn commit(
    group: &str,
    member: &str,
    generation: i32,
    topic: &str,
    offset: i64,
) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(group)
        .with_member_id(member.to_string())
        .with_generation_id_or_member_epoch(generation)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic.to_string())
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(offset)
                .with_committed_metadata(Some("meta".into()))])])
}

fn commit_version(s: &Session<'_>) -> i16 {
    // v10 names topics by id; v9 is the newest by name.
    s.v(ApiKey::OffsetCommit).min(9)
}

fn fetch_offsets(group: &str, topics: Option<Vec<&str>>) -> OffsetFetchRequest {
    OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
        .with_group_id(group)
        .with_topics(topics.map(|ts| {
            ts.into_iter()
                .map(|t| {
                    OffsetFetchRequestTopics::default()
                        .with_name(t.to_string())
                        .with_partition_indexes(vec![0, 1])
                })
                .collect()
        }))])
}

fn fetch_version(s: &Session<'_>) -> i16 {
    s.v(ApiKey::OffsetFetch).min(9)
}

fn group_and_topic(s: &mut Session<'_>) -> (String, String) {
    let g = s.name("g");
    let t = s.name("t");
    s.create_topic(&t, 1, &[]);
    s.wait_for_coordinator(&g);
    (g, t)
}

pub fn find_coordinator_v3(s: &mut Session<'_>) {
    let g = s.name("g");
    s.wait_for_coordinator(&g);
    s.send(
        "find_group_coordinator_v3",
        &FindCoordinatorRequest::default().with_key(g),
        3,
    );
}

pub fn find_coordinator_batched(s: &mut Session<'_>) {
    let a = s.name("a");
    let b = s.name("b");
    s.wait_for_coordinator(&a);
    let v = s.v(ApiKey::FindCoordinator);
    s.send(
        "find_coordinators",
        &FindCoordinatorRequest::default().with_coordinator_keys(vec![a.into(), b.into()]),
        v,
    );
}

pub fn find_coordinator_v0(s: &mut Session<'_>) {
    let g = s.name("g");
    s.wait_for_coordinator(&g);
    s.send(
        "find_coordinator_v0",
        &FindCoordinatorRequest::default().with_key(g),
        0,
    );
}

pub fn find_coordinator_invalid_key_type(s: &mut Session<'_>) {
    let v = s.v(ApiKey::FindCoordinator);
    let g = s.name("g");
    s.send(
        "find_coordinator_key_type_7",
        &FindCoordinatorRequest::default()
            .with_key_type(7)
            .with_coordinator_keys(vec![g.into()]),
        v,
    );
}

pub fn join_member_id_required(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let v = s.v(ApiKey::JoinGroup);
    s.send("join_without_id", &join_request(&g, "", &[&t]), v);
}

pub fn lifecycle(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let v = s.v(ApiKey::JoinGroup);
    let first = s
        .send("join_without_id", &join_request(&g, "", &[&t]), v)
        .expect("join answered");
    let joined = s
        .send(
            "join_with_id",
            &join_request(&g, &first.member_id, &[&t]),
            v,
        )
        .expect("join answered");
    let sv = s.v(ApiKey::SyncGroup);
    let sync = SyncGroupRequest::default()
        .with_group_id(g.clone())
        .with_generation_id(joined.generation_id)
        .with_member_id(joined.member_id.clone())
        .with_protocol_type(Some("consumer".into()))
        .with_protocol_name(Some("range".into()))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(joined.member_id.clone())
            .with_assignment(assignment(&t, &[0]))]);
    s.send("sync", &sync, sv);
    let hv = s.v(ApiKey::Heartbeat);
    s.send(
        "heartbeat",
        &heartbeat(&g, &joined.member_id, joined.generation_id),
        hv,
    );
    let cv = commit_version(s);
    s.send(
        "commit",
        &commit(&g, &joined.member_id, joined.generation_id, &t, 7),
        cv,
    );
    let fv = fetch_version(s);
    s.send("fetch_offsets", &fetch_offsets(&g, Some(vec![&t])), fv);
    let dv = s.v(ApiKey::DescribeGroups);
    s.send(
        "describe_stable",
        &DescribeGroupsRequest::default().with_groups(vec![g.clone().into()]),
        dv,
    );
    let lv = s.v(ApiKey::LeaveGroup);
    s.send(
        "leave",
        &LeaveGroupRequest::default()
            .with_group_id(g.clone())
            .with_members(vec![
                MemberIdentity::default().with_member_id(joined.member_id)
            ]),
        lv,
    );
    s.send(
        "describe_empty",
        &DescribeGroupsRequest::default().with_groups(vec![g.into()]),
        dv,
    );
}

pub fn join_v3_needs_no_member_id(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    s.send("join_v3", &join_request(&g, "", &[&t]), 3);
}

pub fn join_unknown_member_id(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let v = s.v(ApiKey::JoinGroup);
    s.send(
        "join_with_made_up_id",
        &join_request(&g, "made-up-member", &[&t]),
        v,
    );
}

pub fn join_invalid_session_timeout(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let v = s.v(ApiKey::JoinGroup);
    let too_short = join_request(&g, "", &[&t]).with_session_timeout_ms(1);
    s.send("join_session_1ms", &too_short, v);
    let too_long = join_request(&g, "", &[&t]).with_session_timeout_ms(86_400_000);
    s.send("join_session_1d", &too_long, v);
}

pub fn join_empty_group_id(s: &mut Session<'_>) {
    let v = s.v(ApiKey::JoinGroup);
    s.send("join_empty_group", &join_request("", "", &["x"]), v);
}

pub fn join_inconsistent_protocol(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    stable_member(s, 0, &g, &t);
    let other = s.connect();
    let v = s.v(ApiKey::JoinGroup);
    let mut request = join_request(&g, "", &[&t]).with_protocol_type("connect");
    request.protocols[0].name = "sessioned".into();
    s.send_on(other, "join_other_protocol_type", &request, v);
}

pub fn sync_wrong_generation(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let m = stable_member(s, 0, &g, &t);
    let sv = s.v(ApiKey::SyncGroup);
    let sync = SyncGroupRequest::default()
        .with_group_id(g)
        .with_generation_id(m.generation + 5)
        .with_member_id(m.id)
        .with_protocol_type(Some("consumer".into()))
        .with_protocol_name(Some("range".into()));
    s.send("sync_generation_plus_5", &sync, sv);
}

pub fn sync_unknown_member(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let m = stable_member(s, 0, &g, &t);
    let sv = s.v(ApiKey::SyncGroup);
    let sync = SyncGroupRequest::default()
        .with_group_id(g)
        .with_generation_id(m.generation)
        .with_member_id("nobody")
        .with_protocol_type(Some("consumer".into()))
        .with_protocol_name(Some("range".into()));
    s.send("sync_unknown_member", &sync, sv);
}

pub fn sync_unknown_group(s: &mut Session<'_>) {
    let g = s.name("g");
    s.wait_for_coordinator(&g);
    let sv = s.v(ApiKey::SyncGroup);
    let sync = SyncGroupRequest::default()
        .with_group_id(g)
        .with_generation_id(1)
        .with_member_id("nobody")
        .with_protocol_type(Some("consumer".into()))
        .with_protocol_name(Some("range".into()));
    s.send("sync_unknown_group", &sync, sv);
}

pub fn heartbeat_errors(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let m = stable_member(s, 0, &g, &t);
    let hv = s.v(ApiKey::Heartbeat);
    s.send(
        "heartbeat_unknown_member",
        &heartbeat(&g, "nobody", m.generation),
        hv,
    );
    s.send(
        "heartbeat_wrong_generation",
        &heartbeat(&g, &m.id, m.generation + 1),
        hv,
    );
    s.send("heartbeat_ok", &heartbeat(&g, &m.id, m.generation), hv);
}

pub fn heartbeat_unknown_group(s: &mut Session<'_>) {
    let g = s.name("g");
    s.wait_for_coordinator(&g);
    let hv = s.v(ApiKey::Heartbeat);
    s.send("heartbeat_unknown_group", &heartbeat(&g, "nobody", 1), hv);
}

pub fn rebalance_with_a_second_member(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let a = stable_member(s, 0, &g, &t);
    let b_conn = s.connect();
    let v = s.v(ApiKey::JoinGroup);
    let b_first = s
        .send_on(b_conn, "b_join_without_id", &join_request(&g, "", &[&t]), v)
        .expect("join answered");
    // B's join with its id blocks until A rejoins (or the rebalance times out).
    let pending = s.start(b_conn, &join_request(&g, &b_first.member_id, &[&t]), v);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let hv = s.v(ApiKey::Heartbeat);
    s.send(
        "a_heartbeat_during_rebalance",
        &heartbeat(&g, &a.id, a.generation),
        hv,
    );
    let cv = commit_version(s);
    s.send(
        "a_commit_during_rebalance",
        &commit(&g, &a.id, a.generation, &t, 1),
        cv,
    );
    let a_rejoined = s
        .send("a_rejoin", &join_request(&g, &a.id, &[&t]), v)
        .expect("join answered");
    s.finish("b_join_completes", pending);
    s.send(
        "a_heartbeat_old_generation",
        &heartbeat(&g, &a.id, a.generation),
        hv,
    );
    let dv = s.v(ApiKey::DescribeGroups);
    s.send(
        "describe_completing_rebalance",
        &DescribeGroupsRequest::default().with_groups(vec![g.clone().into()]),
        dv,
    );
    let _ = a_rejoined;
}

pub fn leave_unknown_member(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    stable_member(s, 0, &g, &t);
    let lv = s.v(ApiKey::LeaveGroup);
    s.send(
        "leave_unknown",
        &LeaveGroupRequest::default()
            .with_group_id(g)
            .with_members(vec![MemberIdentity::default().with_member_id("nobody")]),
        lv,
    );
}

pub fn leave_v0(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let m = stable_member(s, 0, &g, &t);
    s.send(
        "leave_v0",
        &LeaveGroupRequest::default()
            .with_group_id(g)
            .with_member_id(m.id),
        0,
    );
}

pub fn commit_errors(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let m = stable_member(s, 0, &g, &t);
    let cv = commit_version(s);
    s.send(
        "commit_wrong_generation",
        &commit(&g, &m.id, m.generation + 3, &t, 1),
        cv,
    );
    s.send(
        "commit_unknown_member",
        &commit(&g, "nobody", m.generation, &t, 1),
        cv,
    );
    s.send("commit_as_non_member", &commit(&g, "", -1, &t, 1), cv);
}

pub fn commit_without_a_group(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let cv = commit_version(s);
    s.send("simple_commit", &commit(&g, "", -1, &t, 42), cv);
    let fv = fetch_version(s);
    s.send("fetch_offsets", &fetch_offsets(&g, Some(vec![&t])), fv);
    let dv = s.v(ApiKey::DescribeGroups);
    s.send(
        "describe",
        &DescribeGroupsRequest::default().with_groups(vec![g.into()]),
        dv,
    );
}

pub fn commit_unknown_topic(s: &mut Session<'_>) {
    let (g, _) = group_and_topic(s);
    let missing = s.name("missing");
    let cv = commit_version(s);
    s.send("commit_unknown_topic", &commit(&g, "", -1, &missing, 1), cv);
}

pub fn commit_metadata_too_large(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let cv = commit_version(s);
    let mut request = commit(&g, "", -1, &t, 1);
    request.topics[0].partitions[0].committed_metadata = Some(("m".repeat(5000)).into());
    s.send("commit_huge_metadata", &request, cv);
}

pub fn fetch_offsets_unknown_group(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let fv = fetch_version(s);
    s.send(
        "fetch_offsets_nothing_committed",
        &fetch_offsets(&g, Some(vec![&t])),
        fv,
    );
}

pub fn fetch_all_offsets(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let cv = commit_version(s);
    s.call(&commit(&g, "", -1, &t, 3), cv);
    let fv = fetch_version(s);
    s.send("fetch_all_offsets", &fetch_offsets(&g, None), fv);
}

pub fn fetch_offsets_v7(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let cv = commit_version(s);
    s.call(&commit(&g, "", -1, &t, 3), cv);
    let request = OffsetFetchRequest::default()
        .with_group_id(g)
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(t)
            .with_partition_indexes(vec![0])]));
    s.send("fetch_offsets_v7", &request, 7);
}

pub fn static_member(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let v = s.v(ApiKey::JoinGroup);
    let request = join_request(&g, "", &[&t]).with_group_instance_id(Some("instance-1".into()));
    let first = s.send("static_join", &request, v).expect("join answered");
    let sv = s.v(ApiKey::SyncGroup);
    let sync = SyncGroupRequest::default()
        .with_group_id(g.clone())
        .with_generation_id(first.generation_id)
        .with_member_id(first.member_id.clone())
        .with_group_instance_id(Some("instance-1".into()))
        .with_protocol_type(Some("consumer".into()))
        .with_protocol_name(Some("range".into()))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(first.member_id.clone())
            .with_assignment(assignment(&t, &[0]))]);
    s.send("static_sync", &sync, sv);
    // The same instance restarts with no member id: it takes the old member's place.
    let other = s.connect();
    s.send_on(other, "static_rejoin", &request, v);
    let hv = s.v(ApiKey::Heartbeat);
    s.send(
        "old_member_heartbeat",
        &heartbeat(&g, &first.member_id, first.generation_id)
            .with_group_instance_id(Some("instance-1".into())),
        hv,
    );
}

pub fn describe_unknown_group(s: &mut Session<'_>) {
    let g = s.name("g");
    s.wait_for_coordinator(&g);
    let dv = s.v(ApiKey::DescribeGroups);
    s.send(
        "describe_unknown",
        &DescribeGroupsRequest::default().with_groups(vec![g.into()]),
        dv,
    );
}

pub fn describe_with_authorized_operations(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    stable_member(s, 0, &g, &t);
    let dv = s.v(ApiKey::DescribeGroups);
    s.send(
        "describe_authorized_ops",
        &DescribeGroupsRequest::default()
            .with_groups(vec![g.into()])
            .with_include_authorized_operations(true),
        dv,
    );
}

pub fn list_groups(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    stable_member(s, 0, &g, &t);
    let e = s.name("empty");
    let cv = commit_version(s);
    s.wait_for_coordinator(&e);
    s.call(&commit(&e, "", -1, &t, 1), cv);
    let v = s.v(ApiKey::ListGroups);
    s.send("list_all", &ListGroupsRequest::default(), v);
    s.send(
        "list_stable",
        &ListGroupsRequest::default().with_states_filter(vec!["Stable".into()]),
        v,
    );
    s.send(
        "list_empty_state",
        &ListGroupsRequest::default().with_states_filter(vec!["Empty".into()]),
        v,
    );
    s.send("list_v2", &ListGroupsRequest::default(), 2);
}

pub fn list_groups_by_type(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    stable_member(s, 0, &g, &t);
    let v = s.v(ApiKey::ListGroups);
    s.send(
        "list_classic",
        &ListGroupsRequest::default().with_types_filter(vec!["classic".into()]),
        v,
    );
    s.send(
        "list_consumer_type",
        &ListGroupsRequest::default().with_types_filter(vec!["consumer".into()]),
        v,
    );
}

pub fn delete_groups(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    stable_member(s, 0, &g, &t);
    let empty = s.name("empty");
    let unknown = s.name("unknown");
    s.wait_for_coordinator(&empty);
    s.wait_for_coordinator(&unknown);
    let cv = commit_version(s);
    s.call(&commit(&empty, "", -1, &t, 1), cv);
    let v = s.v(ApiKey::DeleteGroups);
    s.send(
        "delete_groups",
        &DeleteGroupsRequest::default().with_groups_names(vec![
            g.into(),
            empty.clone().into(),
            unknown.into(),
        ]),
        v,
    );
    let fv = fetch_version(s);
    s.send("offsets_gone", &fetch_offsets(&empty, None), fv);
}

pub fn offset_delete(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let cv = commit_version(s);
    s.call(&commit(&g, "", -1, &t, 5), cv);
    let request = OffsetDeleteRequest::default()
        .with_group_id(g.clone())
        .with_topics(vec![OffsetDeleteRequestTopic::default()
            .with_name(t.clone())
            .with_partitions(vec![
                OffsetDeleteRequestPartition::default().with_partition_index(0),
                OffsetDeleteRequestPartition::default().with_partition_index(3),
            ])]);
    s.send("offset_delete", &request, 0);
    let fv = fetch_version(s);
    s.send("after_delete", &fetch_offsets(&g, Some(vec![&t])), fv);
}

pub fn offset_delete_subscribed_topic(s: &mut Session<'_>) {
    let (g, t) = group_and_topic(s);
    let m = stable_member(s, 0, &g, &t);
    let cv = commit_version(s);
    s.call(&commit(&g, &m.id, m.generation, &t, 5), cv);
    let request = OffsetDeleteRequest::default()
        .with_group_id(g)
        .with_topics(vec![OffsetDeleteRequestTopic::default()
            .with_name(t)
            .with_partitions(vec![
                OffsetDeleteRequestPartition::default().with_partition_index(0)
            ])]);
    s.send("offset_delete_subscribed", &request, 0);
}

pub fn offset_delete_unknown_group(s: &mut Session<'_>) {
    let g = s.name("g");
    s.wait_for_coordinator(&g);
    let request = OffsetDeleteRequest::default()
        .with_group_id(g)
        .with_topics(vec![OffsetDeleteRequestTopic::default()
            .with_name("x")
            .with_partitions(vec![
                OffsetDeleteRequestPartition::default().with_partition_index(0)
            ])]);
    s.send("offset_delete_unknown_group", &request, 0);
}
