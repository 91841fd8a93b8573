//! Every advertised version of every API is answered (the broker never closes a connection over a
//! response it cannot encode), both normally and when a fault turns the answer into an error.

mod common;

use common::*;
use kafka_broker::{Cluster, Fault};
use kafka_protocol::messages::*;
use kafka_protocol::{ApiKey, ErrorCode, Request};
use kafka_protocol::{BrokerId, ProducerId};

/// Builds a request frame on a client, or `None` if the request cannot be encoded at the version.
type MakeFrame = Box<dyn Fn(&mut Client) -> Option<bytes::Bytes>>;

fn populated_requests(version: i16, topic_id: kafka_protocol::Uuid) -> Vec<(ApiKey, MakeFrame)> {
    fn framed<R: Request + 'static>(r: R, version: i16) -> MakeFrame {
        Box::new(move |c: &mut Client| {
            // Skip versions our own request cannot be expressed in.
            let mut probe = bytes::BytesMut::new();
            r.encode(&mut probe, version).ok()?;
            Some(c.frame(&r, version).1)
        })
    }
    let mut fetch = fetch_request("t", 0, 0, 0, 0);
    fetch.topics[0].topic_id = topic_id;
    let mut produce = produce_request("t", 0, batch(&["v"], 0), 1);
    produce.topic_data[0].topic_id = topic_id;
    vec![
        (ApiKey::Produce, framed(produce, version)),
        (ApiKey::Fetch, framed(fetch, version)),
        (
            ApiKey::ListOffsets,
            framed(
                ListOffsetsRequest {
                    replica_id: BrokerId::NONE,
                    topics: vec![list_offsets_request::ListOffsetsTopic {
                        name: "t".into(),
                        partitions: vec![list_offsets_request::ListOffsetsPartition {
                            partition_index: 0,
                            current_leader_epoch: if version >= 4 { 0 } else { -1 },
                            timestamp: -1,
                            max_num_offsets: 1,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::Metadata,
            framed(
                MetadataRequest {
                    topics: Some(vec![metadata_request::MetadataRequestTopic {
                        name: Some("t".into()),
                        ..Default::default()
                    }]),
                    allow_auto_topic_creation: true,
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::ApiVersions,
            framed(common::api_versions_request(), version),
        ),
        (
            ApiKey::CreateTopics,
            framed(
                CreateTopicsRequest {
                    topics: vec![create_topics_request::CreatableTopic {
                        name: (format!("new-{version}")).into(),
                        num_partitions: 2,
                        replication_factor: 1,
                        configs: vec![create_topics_request::CreatableTopicConfig {
                            name: "retention.ms".into(),
                            value: Some("1000".into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    timeout_ms: 1000,
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::DeleteTopics,
            framed(
                DeleteTopicsRequest {
                    topics: if version >= 6 {
                        vec![delete_topics_request::DeleteTopicState {
                            name: Some("nope".into()),
                            ..Default::default()
                        }]
                    } else {
                        Vec::new()
                    },
                    topic_names: if version < 6 {
                        vec!["nope".into()]
                    } else {
                        Vec::new()
                    },
                    timeout_ms: 1000,
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::DeleteRecords,
            framed(
                DeleteRecordsRequest {
                    topics: vec![delete_records_request::DeleteRecordsTopic {
                        name: "t".into(),
                        partitions: vec![delete_records_request::DeleteRecordsPartition {
                            partition_index: 0,
                            offset: 0,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    timeout_ms: 1000,
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::InitProducerId,
            framed(
                InitProducerIdRequest {
                    transactional_id: None,
                    transaction_timeout_ms: 60_000,
                    producer_id: ProducerId::NONE,
                    producer_epoch: -1,
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::DescribeConfigs,
            framed(
                DescribeConfigsRequest {
                    resources: vec![
                        describe_configs_request::DescribeConfigsResource {
                            resource_type: 2,
                            resource_name: "t".into(),
                            configuration_keys: None,
                            ..Default::default()
                        },
                        describe_configs_request::DescribeConfigsResource {
                            resource_type: 4,
                            resource_name: "0".into(),
                            configuration_keys: None,
                            ..Default::default()
                        },
                    ],
                    include_synonyms: version >= 1,
                    include_documentation: version >= 3,
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::AlterConfigs,
            framed(
                AlterConfigsRequest {
                    resources: vec![alter_configs_request::AlterConfigsResource {
                        resource_type: 2,
                        resource_name: "t".into(),
                        configs: vec![alter_configs_request::AlterableConfig {
                            name: "retention.ms".into(),
                            value: Some("5000".into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    validate_only: true,
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::IncrementalAlterConfigs,
            framed(
                IncrementalAlterConfigsRequest {
                    resources: vec![incremental_alter_configs_request::AlterConfigsResource {
                        resource_type: 2,
                        resource_name: "t".into(),
                        configs: vec![incremental_alter_configs_request::AlterableConfig {
                            name: "retention.ms".into(),
                            config_operation: 0,
                            value: Some("5000".into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    validate_only: true,
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::CreatePartitions,
            framed(
                CreatePartitionsRequest {
                    topics: vec![create_partitions_request::CreatePartitionsTopic {
                        name: "t".into(),
                        count: 1,
                        assignments: None,
                        ..Default::default()
                    }],
                    timeout_ms: 1000,
                    validate_only: true,
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::DescribeCluster,
            framed(
                DescribeClusterRequest {
                    endpoint_type: 1,
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::FindCoordinator,
            framed(
                FindCoordinatorRequest {
                    key: if version < 4 {
                        "g".into()
                    } else {
                        String::new().into()
                    },
                    key_type: 0,
                    coordinator_keys: if version >= 4 {
                        vec!["g".into()]
                    } else {
                        Vec::new()
                    },
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::JoinGroup,
            framed(
                JoinGroupRequest {
                    group_id: (format!("join-{version}")).into(),
                    session_timeout_ms: 10_000,
                    rebalance_timeout_ms: 10_000,
                    protocol_type: "consumer".into(),
                    protocols: vec![join_group_request::JoinGroupRequestProtocol {
                        name: "range".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::SyncGroup,
            framed(
                SyncGroupRequest {
                    group_id: "nope".into(),
                    generation_id: 1,
                    member_id: "m".into(),
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::Heartbeat,
            framed(
                HeartbeatRequest {
                    group_id: "nope".into(),
                    generation_id: 1,
                    member_id: "m".into(),
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::LeaveGroup,
            framed(
                LeaveGroupRequest {
                    group_id: "nope".into(),
                    member_id: if version < 3 {
                        "m".into()
                    } else {
                        String::new().into()
                    },
                    members: if version >= 3 {
                        vec![leave_group_request::MemberIdentity {
                            member_id: "m".into(),
                            ..Default::default()
                        }]
                    } else {
                        Vec::new()
                    },
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::OffsetCommit,
            framed(
                OffsetCommitRequest {
                    group_id: "oc".into(),
                    generation_id_or_member_epoch: -1,
                    retention_time_ms: -1,
                    topics: vec![offset_commit_request::OffsetCommitRequestTopic {
                        name: "t".into(),
                        topic_id,
                        partitions: vec![offset_commit_request::OffsetCommitRequestPartition {
                            partition_index: 0,
                            committed_offset: 1,
                            committed_leader_epoch: -1,
                            commit_timestamp: -1,
                            committed_metadata: Some(String::new().into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::OffsetFetch,
            framed(
                OffsetFetchRequest {
                    group_id: if version < 8 {
                        "oc".into()
                    } else {
                        String::new().into()
                    },
                    topics: if version < 8 {
                        Some(vec![offset_fetch_request::OffsetFetchRequestTopic {
                            name: "t".into(),
                            partition_indexes: vec![0],
                            ..Default::default()
                        }])
                    } else {
                        Some(Vec::new())
                    },
                    groups: if version >= 8 {
                        vec![offset_fetch_request::OffsetFetchRequestGroup {
                            group_id: "oc".into(),
                            topics: None,
                            member_epoch: -1,
                            ..Default::default()
                        }]
                    } else {
                        Vec::new()
                    },
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::DescribeGroups,
            framed(
                DescribeGroupsRequest {
                    groups: vec!["oc".into(), "nope".into()],
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::ListGroups,
            framed(ListGroupsRequest::default(), version),
        ),
        (
            ApiKey::DeleteGroups,
            framed(
                DeleteGroupsRequest {
                    groups_names: vec!["nope".into()],
                    ..Default::default()
                },
                version,
            ),
        ),
        (
            ApiKey::OffsetDelete,
            framed(
                OffsetDeleteRequest {
                    group_id: "nope".into(),
                    topics: vec![offset_delete_request::OffsetDeleteRequestTopic {
                        name: "t".into(),
                        partitions: vec![offset_delete_request::OffsetDeleteRequestPartition {
                            partition_index: 0,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                version,
            ),
        ),
    ]
}

async fn every_version_is_answered(cluster: &Cluster) -> usize {
    let topic_id = cluster.topic_id("t").unwrap();
    let mut c = Client::connect(addr(cluster, 0)).await;
    let advertised = c.send(&common::api_versions_request(), 3).await.api_keys;
    let mut answered = 0;
    for range in advertised {
        let key = ApiKey::from_i16(range.api_key).unwrap();
        for version in range.min_version..=range.max_version {
            let requests = populated_requests(version, topic_id);
            let Some((_, make)) = requests.iter().find(|(k, _)| *k == key) else {
                continue;
            };
            let Some(frame) = make(&mut c) else { continue };
            c.send_frame(&frame).await;
            let response = c.read_frame().await;
            assert!(
                response.is_some(),
                "{key:?} v{version}: connection closed instead of a response"
            );
            answered += 1;
        }
    }
    answered
}

#[tokio::test]
async fn every_advertised_version_gets_a_response() {
    let cluster = cluster(1).await;
    cluster.create_topic("t", 1, &[]).unwrap();
    let answered = every_version_is_answered(&cluster).await;
    assert!(
        answered > 150,
        "only {answered} api/version pairs exercised"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn every_advertised_version_gets_an_injected_error_response() {
    let cluster = cluster(1).await;
    cluster.create_topic("t", 1, &[]).unwrap();
    // Everything but the ApiVersions probe fails with a retriable error.
    for key in ApiKey::ALL.iter().filter(|k| **k != ApiKey::ApiVersions) {
        cluster.inject(
            Fault::fail(ErrorCode::CoordinatorLoadInProgress)
                .with_api(*key)
                .with_no_limit(),
        );
    }
    let answered = every_version_is_answered(&cluster).await;
    assert!(
        answered > 150,
        "only {answered} api/version pairs exercised"
    );
    cluster.shutdown().await;
}
