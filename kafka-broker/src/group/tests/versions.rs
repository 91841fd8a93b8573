//! Every group API at every version: the coordinator's responses (success and error paths) must
//! encode at the request's version as the broker encodes them (fields the version lacks are
//! dropped, `EncodeMode::DropAbsent`), decode, and encode again to the same bytes: no null
//! reaches a version without nulls, and nothing the version carries is lost.

use crate::group::{GroupConfig, GroupCoordinator};
use bytes::{Bytes, BytesMut};
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
use kafka_protocol::messages::{
    DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse,
    HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, ListGroupsRequest, ListGroupsResponse, OffsetCommitRequest,
    OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse, OffsetFetchRequest,
    OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::{EncodeMode, ErrorCode, Message};

fn roundtrip<M: Message>(m: &M, version: i16) {
    let mut buf = BytesMut::new();
    if let Err(e) = m.encode_with(&mut buf, version, EncodeMode::DropAbsent) {
        panic!("{} v{version} does not encode: {e}\n{m:?}", M::NAME);
    }
    let bytes = buf.freeze();
    let back = M::decode(&mut bytes.clone(), version).unwrap();
    let mut again = BytesMut::new();
    back.encode_with(&mut again, version, EncodeMode::DropAbsent)
        .unwrap();
    assert_eq!(
        &again[..],
        &bytes[..],
        "{} v{version} changed in a round trip",
        M::NAME
    );
}

fn versions<M: Message>() -> std::ops::RangeInclusive<i16> {
    M::VERSIONS.min..=M::VERSIONS.max
}

fn join_req(member_id: &str) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id("g")
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_member_id(member_id)
        .with_protocol_type("consumer")
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name("range")
            .with_metadata(Bytes::from_static(&[0, 0, 0, 0, 0, 0]))])
}

/// Joins group "g" at `version` (handling MEMBER_ID_REQUIRED) and checks every response.
async fn join_at(c: &GroupCoordinator, version: i16) -> JoinGroupResponse {
    let first = c.join_group(join_req(""), version).await;
    roundtrip(&first, version);
    if version >= 4 {
        assert_eq!(
            ErrorCode::from_code(first.error_code.code()),
            ErrorCode::MemberIdRequired
        );
        let second = c.join_group(join_req(&first.member_id), version).await;
        roundtrip(&second, version);
        second
    } else {
        first
    }
}

#[tokio::test(start_paused = true)]
async fn join_sync_heartbeat_leave_every_version() {
    for v in versions::<JoinGroupResponse>() {
        let c = GroupCoordinator::new(GroupConfig::default());
        let j = join_at(&c, v).await;
        assert_eq!(
            ErrorCode::from_code(j.error_code.code()),
            ErrorCode::None,
            "v{v}"
        );
        assert_eq!(j.members.len(), 1);
        let bad = c
            .join_group(join_req("").with_session_timeout_ms(1), v)
            .await;
        roundtrip(&bad, v);
        assert_eq!(
            ErrorCode::from_code(bad.error_code.code()),
            ErrorCode::InvalidSessionTimeout
        );
        c.shutdown().await;
    }
    for v in versions::<SyncGroupResponse>() {
        let c = GroupCoordinator::new(GroupConfig::default());
        let j = join_at(&c, 3).await;
        let mut s = SyncGroupRequest::default()
            .with_group_id("g")
            .with_member_id(j.member_id.clone())
            .with_generation_id(j.generation_id);
        if v >= 5 {
            s = s
                .with_protocol_type(Some("consumer".into()))
                .with_protocol_name(Some("range".into()));
        }
        let r = c.sync_group(s.clone(), v).await;
        assert_eq!(
            ErrorCode::from_code(r.error_code.code()),
            ErrorCode::None,
            "v{v}"
        );
        roundtrip(&r, v);
        let r = c.sync_group(s.with_generation_id(9), v).await;
        assert_eq!(
            ErrorCode::from_code(r.error_code.code()),
            ErrorCode::IllegalGeneration
        );
        roundtrip(&r, v);
        for hv in versions::<HeartbeatResponse>() {
            let h = HeartbeatRequest::default()
                .with_group_id("g")
                .with_member_id(j.member_id.clone())
                .with_generation_id(j.generation_id);
            let r = c.heartbeat(h, hv).await;
            assert_eq!(ErrorCode::from_code(r.error_code.code()), ErrorCode::None);
            roundtrip(&r, hv);
        }
        c.shutdown().await;
    }
    for v in versions::<LeaveGroupResponse>() {
        let c = GroupCoordinator::new(GroupConfig::default());
        let j = join_at(&c, 3).await;
        let req = if v >= 3 {
            LeaveGroupRequest::default()
                .with_group_id("g")
                .with_members(vec![MemberIdentity::default().with_member_id(j.member_id)])
        } else {
            LeaveGroupRequest::default()
                .with_group_id("g")
                .with_member_id(j.member_id)
        };
        let r = c.leave_group(req.clone(), v).await;
        roundtrip(&r, v);
        let r = c.leave_group(req.with_group_id("other"), v).await;
        roundtrip(&r, v);
        c.shutdown().await;
    }
}

#[tokio::test(start_paused = true)]
async fn offsets_every_version() {
    for v in versions::<OffsetCommitResponse>() {
        let c = GroupCoordinator::new(GroupConfig::default());
        let mut topic = OffsetCommitRequestTopic::default().with_partitions(vec![
            OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(42)
                .with_committed_metadata(Some("meta".into())),
        ]);
        if v < 10 {
            topic.name = "t".into();
        }
        let req = OffsetCommitRequest::default()
            .with_group_id("g")
            .with_topics(vec![topic]);
        let r = c.offset_commit(req, v).await;
        roundtrip(&r, v);
        let expected = if v >= 10 {
            ErrorCode::UnknownTopicId // no topic lookup: ids are unknown
        } else {
            ErrorCode::None
        };
        assert_eq!(
            ErrorCode::from_code(r.topics[0].partitions[0].error_code.code()),
            expected
        );
        c.shutdown().await;
    }
    for v in versions::<OffsetFetchResponse>() {
        let c = GroupCoordinator::new(GroupConfig::default());
        let commit = OffsetCommitRequest::default()
            .with_group_id("g")
            .with_topics(vec![OffsetCommitRequestTopic::default()
                .with_name("t")
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default().with_committed_offset(42)
                ])]);
        c.offset_commit(commit, 8).await;
        let req = if v >= 8 {
            let topics = (v < 10).then(|| {
                vec![OffsetFetchRequestTopics::default()
                    .with_name("t")
                    .with_partition_indexes(vec![0, 1])]
            });
            OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
                .with_group_id("g")
                .with_topics(topics)])
        } else {
            OffsetFetchRequest::default()
                .with_group_id("g")
                .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                    .with_name("t")
                    .with_partition_indexes(vec![0, 1])]))
        };
        let r = c.offset_fetch(req, v).await;
        roundtrip(&r, v);
        let offsets: Vec<i64> = if v >= 8 {
            r.groups[0].topics[0]
                .partitions
                .iter()
                .map(|p| p.committed_offset)
                .collect()
        } else {
            r.topics[0]
                .partitions
                .iter()
                .map(|p| p.committed_offset)
                .collect()
        };
        if v < 10 {
            assert_eq!(offsets, vec![42, -1], "v{v}");
        }
        c.shutdown().await;
    }
    let c = GroupCoordinator::new(GroupConfig::default());
    let req = OffsetDeleteRequest::default()
        .with_group_id("g")
        .with_topics(vec![OffsetDeleteRequestTopic::default()
            .with_name("t")
            .with_partitions(vec![OffsetDeleteRequestPartition::default()])]);
    let r = c.offset_delete(req, 0).await;
    roundtrip::<OffsetDeleteResponse>(&r, 0);
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn admin_every_version() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let j = join_at(&c, 3).await;
    let s = SyncGroupRequest::default()
        .with_group_id("g")
        .with_member_id(j.member_id.clone())
        .with_generation_id(j.generation_id);
    c.sync_group(s, 3).await;
    for v in versions::<DescribeGroupsResponse>() {
        let req = DescribeGroupsRequest::default()
            .with_groups(vec!["g".into(), "missing".into()])
            .with_include_authorized_operations(v >= 3);
        let r = c.describe_groups(req, v).await;
        roundtrip(&r, v);
        assert_eq!(r.groups[0].group_state, "Stable");
        assert_eq!(r.groups[0].members.len(), 1);
    }
    for v in versions::<ListGroupsResponse>() {
        let r = c.list_groups(ListGroupsRequest::default(), v).await;
        roundtrip(&r, v);
        assert_eq!(r.groups.len(), 1);
    }
    for v in versions::<DeleteGroupsResponse>() {
        let req = DeleteGroupsRequest::default().with_groups_names(vec!["g".into(), "x".into()]);
        let r = c.delete_groups(req, v).await;
        roundtrip(&r, v);
    }
    c.shutdown().await;
}
