//! Offsets and group administration through the coordinator: OffsetCommit, OffsetFetch (all
//! layouts), OffsetDelete, DeleteGroups, ListGroups, DescribeGroups, and offset retention.

use std::sync::Arc;
use std::time::Duration;

use crate::group::{GroupConfig, GroupCoordinator, TopicLookup};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
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
use kafka_protocol::messages::{
    DeleteGroupsRequest, DescribeGroupsRequest, JoinGroupRequest, ListGroupsRequest,
    OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest, OffsetFetchRequest,
    SyncGroupRequest,
};
use kafka_protocol::ErrorCode;

use super::subscription;
use kafka_protocol::Uuid;

/// A one-member consumer group subscribed to `topics`, Stable; returns (member, generation).
async fn consumer_group(c: &GroupCoordinator, group: &str, topics: &[&str]) -> (String, i32) {
    let join = JoinGroupRequest::default()
        .with_group_id(group)
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_protocol_type("consumer")
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name("range")
            .with_metadata(subscription(topics))]);
    let j = c.join_group(join, 3).await;
    assert_eq!(j.error_code, ErrorCode::None);
    let s = SyncGroupRequest::default()
        .with_group_id(group)
        .with_member_id(j.member_id.clone())
        .with_generation_id(j.generation_id)
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(j.member_id.clone())
            .with_assignment(Bytes::from_static(b"x"))]);
    assert_eq!(c.sync_group(s, 3).await.error_code, ErrorCode::None);
    (j.member_id.to_string(), j.generation_id)
}

fn commit_req(
    group: &str,
    member: &str,
    generation: i32,
    offsets: &[(&str, i32, i64)],
) -> OffsetCommitRequest {
    let mut topics: Vec<OffsetCommitRequestTopic> = Vec::new();
    for (topic, partition, offset) in offsets {
        let p = OffsetCommitRequestPartition::default()
            .with_partition_index(*partition)
            .with_committed_offset(*offset)
            .with_committed_leader_epoch(7)
            .with_committed_metadata(Some(format!("m{offset}").into()));
        match topics.iter_mut().find(|t| t.name == *topic) {
            Some(t) => t.partitions.push(p),
            None => topics.push(
                OffsetCommitRequestTopic::default()
                    .with_name(*topic)
                    .with_partitions(vec![p]),
            ),
        }
    }
    OffsetCommitRequest::default()
        .with_group_id(group)
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(member)
        .with_topics(topics)
}

/// `request` as a broker receives it at `version`: encoded as a client would (fields the version
/// lacks left out) and decoded.
fn as_sent<M: kafka_protocol::Message>(request: M, version: i16) -> M {
    let mut buf = BytesMut::new();
    request
        .encode_with(&mut buf, version, kafka_protocol::EncodeMode::DropAbsent)
        .unwrap();
    M::decode(&mut buf.freeze(), version).unwrap()
}

fn commit_errors(r: &OffsetCommitResponse) -> Vec<ErrorCode> {
    r.topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn commit_and_fetch_offsets() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let (member, generation) = consumer_group(&c, "g", &["t"]).await;
    let r = c
        .offset_commit(
            commit_req(
                "g",
                &member,
                generation,
                &[("t", 0, 10), ("t", 1, 20), ("u", 0, 5)],
            ),
            8,
        )
        .await;
    assert_eq!(commit_errors(&r), vec![ErrorCode::None; 3]);

    // v5: explicit partitions, one of them never committed.
    let fetch = OffsetFetchRequest::default()
        .with_group_id("g")
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name("t")
            .with_partition_indexes(vec![0, 1, 2])]));
    let f = c.offset_fetch(fetch, 5).await;
    assert_eq!(f.error_code, ErrorCode::None);
    let parts = &f.topics[0].partitions;
    let got: Vec<(i32, i64, i32, Option<&str>)> = parts
        .iter()
        .map(|p| {
            (
                p.partition_index,
                p.committed_offset,
                p.committed_leader_epoch,
                p.metadata.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 10, 7, Some("m10")),
            (1, 20, 7, Some("m20")),
            (2, -1, -1, Some(""))
        ]
    );

    // v7: null topics = everything committed.
    let all = c
        .offset_fetch(
            OffsetFetchRequest::default()
                .with_group_id("g")
                .with_topics(None),
            7,
        )
        .await;
    let names: Vec<&str> = all.topics.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["t", "u"]);
    assert_eq!(all.topics[0].partitions.len(), 2);

    // v8: batched groups, including one that does not exist.
    let batched = OffsetFetchRequest::default().with_groups(vec![
        OffsetFetchRequestGroup::default()
            .with_group_id("g")
            .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                .with_name("u")
                .with_partition_indexes(vec![0])])),
        OffsetFetchRequestGroup::default()
            .with_group_id("unknown")
            .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                .with_name("u")
                .with_partition_indexes(vec![0])])),
        OffsetFetchRequestGroup::default()
            .with_group_id("g")
            .with_topics(None),
    ]);
    let f = c.offset_fetch(batched, 8).await;
    assert_eq!(f.groups.len(), 3);
    assert_eq!(f.groups[0].topics[0].partitions[0].committed_offset, 5);
    assert_eq!(f.groups[1].topics[0].partitions[0].committed_offset, -1);
    assert_eq!(f.groups[1].error_code, ErrorCode::None);
    assert_eq!(f.groups[2].topics.len(), 2);
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn commit_validation_against_generation_and_member() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let (member, generation) = consumer_group(&c, "g", &["t"]).await;
    let stale = c
        .offset_commit(commit_req("g", &member, generation - 1, &[("t", 0, 1)]), 8)
        .await;
    assert_eq!(commit_errors(&stale), vec![ErrorCode::IllegalGeneration]);
    let unknown = c
        .offset_commit(commit_req("g", "nobody", generation, &[("t", 0, 1)]), 8)
        .await;
    assert_eq!(commit_errors(&unknown), vec![ErrorCode::UnknownMemberId]);
    // A simple commit (no member, generation -1) is refused while the group has members...
    let simple = c
        .offset_commit(commit_req("g", "", -1, &[("t", 0, 1)]), 8)
        .await;
    assert_eq!(commit_errors(&simple), vec![ErrorCode::UnknownMemberId]);
    // ...but creates and fills a group nobody manages.
    let simple = c
        .offset_commit(commit_req("plain", "", -1, &[("t", 0, 1)]), 8)
        .await;
    assert_eq!(commit_errors(&simple), vec![ErrorCode::None]);
    // v0 carries no generation at all: what a v0 client sends has the field's default.
    let v0 = c
        .offset_commit(as_sent(commit_req("plain", "", 99, &[("t", 0, 2)]), 0), 0)
        .await;
    assert_eq!(commit_errors(&v0), vec![ErrorCode::None]);
    // A member commit to a group this coordinator never saw.
    let lost = c
        .offset_commit(commit_req("nowhere", "m", 3, &[("t", 0, 1)]), 8)
        .await;
    assert_eq!(commit_errors(&lost), vec![ErrorCode::IllegalGeneration]);
    // Oversized metadata.
    let mut big = commit_req("plain", "", -1, &[("t", 0, 3)]);
    big.topics[0].partitions[0].committed_metadata = Some("x".repeat(5000).into());
    assert_eq!(
        commit_errors(&c.offset_commit(big, 8).await),
        vec![ErrorCode::OffsetMetadataTooLarge]
    );
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn delete_list_and_describe_groups() {
    let c = GroupCoordinator::new(GroupConfig::default());
    consumer_group(&c, "busy", &["t"]).await;
    let commit = c
        .offset_commit(commit_req("idle", "", -1, &[("t", 0, 1)]), 8)
        .await;
    assert_eq!(commit_errors(&commit), vec![ErrorCode::None]);

    let all = c.list_groups(ListGroupsRequest::default(), 4).await;
    let listed: Vec<(&str, &str, &str)> = all
        .groups
        .iter()
        .map(|g| {
            (
                g.group_id.as_str(),
                g.protocol_type.as_str(),
                g.group_state.as_str(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![("busy", "consumer", "Stable"), ("idle", "", "Empty")]
    );
    let stable = ListGroupsRequest::default().with_states_filter(vec!["stable".into()]);
    let only: Vec<String> = c
        .list_groups(stable, 4)
        .await
        .groups
        .into_iter()
        .map(|g| g.group_id.to_string())
        .collect();
    assert_eq!(only, vec!["busy"]);
    let consumer_type = ListGroupsRequest::default().with_types_filter(vec!["consumer".into()]);
    assert!(
        c.list_groups(consumer_type, 5).await.groups.is_empty(),
        "all groups are classic"
    );

    let del = c
        .delete_groups(
            DeleteGroupsRequest::default().with_groups_names(vec![
                "busy".into(),
                "idle".into(),
                "none".into(),
            ]),
            2,
        )
        .await;
    let errors: Vec<ErrorCode> = del.results.iter().map(|r| r.error_code).collect();
    assert_eq!(
        errors,
        vec![
            ErrorCode::NonEmptyGroup,
            ErrorCode::None,
            ErrorCode::GroupIdNotFound
        ]
    );

    let d = c
        .describe_groups(
            DescribeGroupsRequest::default().with_groups(vec!["idle".into(), "busy".into()]),
            5,
        )
        .await;
    assert_eq!(d.groups[0].group_state, "Dead");
    assert_eq!(d.groups[0].error_code, ErrorCode::None);
    assert_eq!(d.groups[1].group_state, "Stable");
    let d6 = c
        .describe_groups(
            DescribeGroupsRequest::default().with_groups(vec!["idle".into()]),
            6,
        )
        .await;
    assert_eq!(d6.groups[0].error_code, ErrorCode::GroupIdNotFound);
    // The deleted group's offsets went with it.
    let f = c
        .offset_fetch(
            OffsetFetchRequest::default()
                .with_group_id("idle")
                .with_topics(None),
            7,
        )
        .await;
    assert!(f.topics.is_empty());
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn offset_delete_refuses_subscribed_topics() {
    let c = GroupCoordinator::new(GroupConfig::default());
    let (member, generation) = consumer_group(&c, "g", &["orders"]).await;
    let commit = commit_req("g", &member, generation, &[("orders", 0, 1), ("old", 0, 2)]);
    assert_eq!(
        commit_errors(&c.offset_commit(commit, 8).await),
        vec![ErrorCode::None; 2]
    );
    let req = OffsetDeleteRequest::default()
        .with_group_id("g")
        .with_topics(vec![
            OffsetDeleteRequestTopic::default()
                .with_name("orders")
                .with_partitions(vec![
                    OffsetDeleteRequestPartition::default().with_partition_index(0)
                ]),
            OffsetDeleteRequestTopic::default()
                .with_name("old")
                .with_partitions(vec![
                    OffsetDeleteRequestPartition::default().with_partition_index(0)
                ]),
        ]);
    let r = c.offset_delete(req.clone(), 0).await;
    assert_eq!(r.error_code, ErrorCode::None);
    let errors: Vec<ErrorCode> = r
        .topics
        .iter()
        .map(|t| t.partitions[0].error_code)
        .collect();
    assert_eq!(
        errors,
        vec![ErrorCode::GroupSubscribedToTopic, ErrorCode::None]
    );
    let missing = c.offset_delete(req.with_group_id("nope"), 0).await;
    assert_eq!(missing.error_code, ErrorCode::GroupIdNotFound);
    c.shutdown().await;
}

/// Topics "t" (id 1, 2 partitions) exist; nothing else does.
struct OneTopic;

impl TopicLookup for OneTopic {
    fn partition_exists(&self, topic: &str, partition: i32) -> bool {
        topic == "t" && (0..2).contains(&partition)
    }
    fn topic_name(&self, topic_id: Uuid) -> Option<String> {
        (topic_id == Uuid([1; 16])).then(|| "t".to_owned())
    }
    fn topic_id(&self, topic: &str) -> Option<Uuid> {
        (topic == "t").then_some(Uuid([1; 16]))
    }
}

#[tokio::test(start_paused = true)]
async fn topic_lookup_checks_partitions_and_resolves_ids() {
    let c = GroupCoordinator::with_topics(
        GroupConfig::default(),
        Arc::new(OneTopic),
        crate::clock::Clock::new(),
    );
    let r = c
        .offset_commit(
            commit_req("g", "", -1, &[("t", 0, 4), ("t", 5, 1), ("x", 0, 1)]),
            9,
        )
        .await;
    assert_eq!(
        commit_errors(&r),
        vec![
            ErrorCode::None,
            ErrorCode::UnknownTopicOrPartition,
            ErrorCode::UnknownTopicOrPartition
        ]
    );
    // v10 names topics by id.
    let mut by_id = commit_req("g", "", -1, &[("", 1, 9), ("", 0, 8)]);
    by_id.topics[0].topic_id = Uuid([1; 16]);
    let mut unknown = commit_req("g", "", -1, &[("", 0, 1)]);
    unknown.topics[0].topic_id = Uuid([2; 16]);
    by_id.topics.extend(unknown.topics);
    let r = c.offset_commit(by_id, 10).await;
    assert_eq!(r.topics[0].topic_id, Uuid([1; 16]));
    assert_eq!(
        commit_errors(&r),
        vec![ErrorCode::None, ErrorCode::None, ErrorCode::UnknownTopicId]
    );
    let fetch = OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
        .with_group_id("g")
        .with_topics(None)]);
    let f = c.offset_fetch(fetch, 10).await;
    let t = &f.groups[0].topics[0];
    assert_eq!(t.topic_id, Uuid([1; 16]));
    let offsets: Vec<i64> = t.partitions.iter().map(|p| p.committed_offset).collect();
    assert_eq!(offsets, vec![8, 9]);
    c.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn offsets_of_an_empty_group_expire_after_retention() {
    let config = GroupConfig {
        offsets_retention_ms: 60_000,
        offsets_retention_check_interval_ms: 10_000,
        ..GroupConfig::default()
    };
    let c = GroupCoordinator::new(config);
    let r = c
        .offset_commit(commit_req("g", "", -1, &[("t", 0, 4)]), 8)
        .await;
    assert_eq!(commit_errors(&r), vec![ErrorCode::None]);
    tokio::time::sleep(Duration::from_secs(50)).await;
    assert_eq!(c.group_ids(), vec!["g".to_owned()]);
    tokio::time::sleep(Duration::from_secs(25)).await;
    assert!(
        c.group_ids().is_empty(),
        "offsets expired and the empty group was removed"
    );
    let f = c
        .offset_fetch(
            OffsetFetchRequest::default()
                .with_group_id("g")
                .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                    .with_name("t")
                    .with_partition_indexes(vec![0])])),
            6,
        )
        .await;
    assert_eq!(f.topics[0].partitions[0].committed_offset, -1);
    c.shutdown().await;
}
