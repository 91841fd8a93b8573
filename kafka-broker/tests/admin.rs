//! Topic administration, configs, DeleteRecords, DescribeCluster, coordinators, idempotence.

mod common;

use common::*;
use kafka_protocol::messages::*;
use kafka_protocol::records::{Compression, RecordBatchBuilder};
use kafka_protocol::ErrorCode;
use kafka_protocol::ProducerId;

fn create(
    name: &str,
    partitions: i32,
    configs: &[(&str, &str)],
) -> create_topics_request::CreatableTopic {
    create_topics_request::CreatableTopic {
        name: name.into(),
        num_partitions: partitions,
        replication_factor: -1,
        configs: configs
            .iter()
            .map(|(k, v)| create_topics_request::CreatableTopicConfig {
                name: (*k).into(),
                value: Some((*v).into()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn create_and_delete_topics() {
    let cluster = cluster(3).await;
    let mut c = Client::connect(addr(&cluster, 2)).await;
    let req = CreateTopicsRequest {
        topics: vec![
            create("a", 3, &[("cleanup.policy", "compact")]),
            create("b", -1, &[]),
            create("bad", 0, &[]),
            create("cfg", 1, &[("no.such.config", "1")]),
            create("rf", 1, &[]),
        ],
        timeout_ms: 1000,
        ..Default::default()
    };
    let mut req = req;
    req.topics[4].replication_factor = 4;
    let r = c.send(&req, 7).await;
    let codes: Vec<_> = r
        .topics
        .iter()
        .map(|t| (t.name.as_str(), t.error_code))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("a", ErrorCode::None),
            ("b", ErrorCode::None),
            ("bad", ErrorCode::InvalidPartitions),
            ("cfg", ErrorCode::InvalidConfig),
            ("rf", ErrorCode::InvalidReplicationFactor),
        ]
    );
    assert_eq!(r.topics[0].num_partitions, 3);
    assert_eq!(Some(r.topics[0].topic_id), cluster.topic_id("a"));
    let policy = r.topics[0]
        .configs
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.name == "cleanup.policy")
        .unwrap();
    assert_eq!(policy.value.as_deref(), Some("compact"));
    assert_eq!(r.topics[1].num_partitions, 1, "default partition count");

    // Again: already exists. validate_only creates nothing.
    let again = c
        .send(
            &CreateTopicsRequest {
                topics: vec![create("a", 1, &[])],
                ..Default::default()
            },
            7,
        )
        .await;
    assert_eq!(again.topics[0].error_code, ErrorCode::TopicAlreadyExists);
    let dry = c
        .send(
            &CreateTopicsRequest {
                topics: vec![create("dry", 2, &[])],
                validate_only: true,
                ..Default::default()
            },
            7,
        )
        .await;
    assert_eq!(dry.topics[0].error_code, ErrorCode::None);
    assert!(cluster.topic_id("dry").is_none());

    // Delete by name (v5) and by id (v6).
    let r = c
        .send(
            &DeleteTopicsRequest {
                topic_names: vec!["a".into(), "zzz".into()],
                ..Default::default()
            },
            5,
        )
        .await;
    assert_eq!(r.responses[0].error_code, ErrorCode::None);
    assert_eq!(
        r.responses[1].error_code,
        ErrorCode::UnknownTopicOrPartition
    );
    let id = cluster.topic_id("b").unwrap();
    let r = c
        .send(
            &DeleteTopicsRequest {
                topics: vec![delete_topics_request::DeleteTopicState {
                    name: None,
                    topic_id: id,
                    ..Default::default()
                }],
                ..Default::default()
            },
            6,
        )
        .await;
    assert_eq!(r.responses[0].error_code, ErrorCode::None);
    assert_eq!(r.responses[0].name.as_deref(), Some("b"));
    assert!(cluster.topic_id("a").is_none() && cluster.topic_id("b").is_none());
    cluster.shutdown().await;
}

#[tokio::test]
async fn create_partitions_grows_topics() {
    let cluster = cluster(2).await;
    cluster.create_topic("g", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let grow = |count| CreatePartitionsRequest {
        topics: vec![create_partitions_request::CreatePartitionsTopic {
            name: "g".into(),
            count,
            assignments: None,
            ..Default::default()
        }],
        timeout_ms: 1000,
        ..Default::default()
    };
    assert_eq!(
        c.send(&grow(4), 3).await.results[0].error_code,
        ErrorCode::None
    );
    assert_eq!(
        c.send(&grow(2), 3).await.results[0].error_code,
        ErrorCode::InvalidPartitions
    );
    let r = c
        .send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert_eq!(r.topics[0].partitions.len(), 4);
    assert!(cluster.partition_leader("g", 3).is_some());
    cluster.shutdown().await;
}

fn describe(resource_type: i8, name: &str, keys: Option<Vec<String>>) -> DescribeConfigsRequest {
    DescribeConfigsRequest {
        resources: vec![describe_configs_request::DescribeConfigsResource {
            resource_type,
            resource_name: name.into(),
            configuration_keys: keys.map(|v| v.into_iter().map(Into::into).collect()),
            ..Default::default()
        }],
        include_synonyms: true,
        include_documentation: true,
        ..Default::default()
    }
}

fn value_of(r: &DescribeConfigsResponse, key: &str) -> Option<(String, i8)> {
    r.results[0]
        .configs
        .iter()
        .find(|c| c.name == key)
        .map(|c| (c.value.clone().unwrap_or_default().into(), c.config_source))
}

#[tokio::test]
async fn describe_alter_and_incrementally_alter_configs() {
    let cluster = cluster(1).await;
    cluster
        .create_topic("c", 1, &[("retention.ms", "1000")])
        .unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let r = c.send(&describe(2, "c", None), 4).await;
    assert_eq!(value_of(&r, "retention.ms"), Some(("1000".into(), 1)));
    assert_eq!(value_of(&r, "cleanup.policy"), Some(("delete".into(), 5)));
    assert_eq!(
        value_of(&r, "max.message.bytes"),
        Some(("1048588".into(), 5))
    );
    let only = c
        .send(&describe(2, "c", Some(vec!["segment.bytes".into()])), 4)
        .await;
    assert_eq!(only.results[0].configs.len(), 1);
    let missing = c.send(&describe(2, "nope", None), 4).await;
    assert_eq!(
        missing.results[0].error_code,
        ErrorCode::UnknownTopicOrPartition
    );

    // AlterConfigs replaces the whole override set.
    let alter = AlterConfigsRequest {
        resources: vec![alter_configs_request::AlterConfigsResource {
            resource_type: 2,
            resource_name: "c".into(),
            configs: vec![alter_configs_request::AlterableConfig {
                name: "cleanup.policy".into(),
                value: Some("compact".into()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    assert_eq!(
        c.send(&alter, 2).await.responses[0].error_code,
        ErrorCode::None
    );
    let topic_configs = cluster.topic_configs("c").unwrap();
    assert_eq!(
        topic_configs.get("cleanup.policy").map(String::as_str),
        Some("compact")
    );
    assert!(!topic_configs.contains_key("retention.ms"));

    // Incremental: SET, APPEND to a list, and a bad value fails without applying anything.
    let incremental = |ops: Vec<(&str, i8, &str)>| IncrementalAlterConfigsRequest {
        resources: vec![incremental_alter_configs_request::AlterConfigsResource {
            resource_type: 2,
            resource_name: "c".into(),
            configs: ops
                .into_iter()
                .map(
                    |(k, op, v)| incremental_alter_configs_request::AlterableConfig {
                        name: k.into(),
                        config_operation: op,
                        value: Some(v.into()),
                        ..Default::default()
                    },
                )
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = c
        .send(
            &incremental(vec![
                ("retention.ms", 0, "5"),
                ("cleanup.policy", 2, "delete"),
            ]),
            1,
        )
        .await;
    assert_eq!(r.responses[0].error_code, ErrorCode::None);
    let topic_configs = cluster.topic_configs("c").unwrap();
    assert_eq!(
        topic_configs.get("retention.ms").map(String::as_str),
        Some("5")
    );
    assert_eq!(
        topic_configs.get("cleanup.policy").map(String::as_str),
        Some("compact,delete")
    );
    let r = c
        .send(
            &incremental(vec![("retention.ms", 0, "6"), ("retention.ms", 0, "soon")]),
            1,
        )
        .await;
    assert_eq!(r.responses[0].error_code, ErrorCode::InvalidConfig);
    assert_eq!(
        cluster
            .topic_configs("c")
            .unwrap()
            .get("retention.ms")
            .map(String::as_str),
        Some("5")
    );

    // Broker resource: describe, then lower num.partitions' effect via a dynamic override.
    let r = c.send(&describe(4, "0", None), 4).await;
    assert_eq!(
        value_of(&r, "num.partitions").map(|v| v.0),
        Some("1".into())
    );
    let set = IncrementalAlterConfigsRequest {
        resources: vec![incremental_alter_configs_request::AlterConfigsResource {
            resource_type: 4,
            resource_name: "".into(),
            configs: vec![incremental_alter_configs_request::AlterableConfig {
                name: "num.partitions".into(),
                config_operation: 0,
                value: Some("3".into()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    assert_eq!(
        c.send(&set, 1).await.responses[0].error_code,
        ErrorCode::None
    );
    let r = c
        .send(&describe(4, "0", Some(vec!["num.partitions".into()])), 4)
        .await;
    assert_eq!(value_of(&r, "num.partitions"), Some(("3".into(), 2)));
    let auto3 = MetadataRequest::default().with_topics(Some(vec![
        metadata_request::MetadataRequestTopic {
            name: Some("auto3".into()),
            ..Default::default()
        },
    ]));
    // As in Kafka 4, the request that auto-creates a topic reports it as not there yet...
    let meta = c.send(&auto3, 12).await;
    assert_eq!(
        meta.topics[0].error_code,
        ErrorCode::UnknownTopicOrPartition
    );
    // ... and the next one shows it, with the overridden partition count.
    let meta = c.send(&auto3, 12).await;
    assert_eq!(meta.topics[0].error_code, ErrorCode::None);
    assert_eq!(meta.topics[0].partitions.len(), 3);
    cluster.shutdown().await;
}

#[tokio::test]
async fn delete_records_advances_the_log_start_offset() {
    let cluster = cluster(1).await;
    cluster.create_topic("dr", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    produce(&mut c, "dr", 0, &["a", "b"]).await;
    produce(&mut c, "dr", 0, &["c"]).await;
    let req = |offset| DeleteRecordsRequest {
        topics: vec![delete_records_request::DeleteRecordsTopic {
            name: "dr".into(),
            partitions: vec![delete_records_request::DeleteRecordsPartition {
                partition_index: 0,
                offset,
                ..Default::default()
            }],
            ..Default::default()
        }],
        timeout_ms: 1000,
        ..Default::default()
    };
    let r = c.send(&req(2), 2).await;
    assert_eq!(
        (
            r.topics[0].partitions[0].error_code,
            r.topics[0].partitions[0].low_watermark
        ),
        (ErrorCode::None, 2)
    );
    assert_eq!(cluster.partition_offsets("dr", 0), Some((2, 3)));
    let r = c.send(&req(10), 2).await;
    assert_eq!(
        r.topics[0].partitions[0].error_code,
        ErrorCode::OffsetOutOfRange
    );
    let f: FetchResponse = c.send(&fetch_request("dr", 0, 0, 0, 1), 12).await;
    assert_eq!(
        f.responses[0].partitions[0].error_code,
        ErrorCode::OffsetOutOfRange
    );
    let f: FetchResponse = c.send(&fetch_request("dr", 0, 2, 0, 1), 12).await;
    assert_eq!(f.responses[0].partitions[0].log_start_offset, 2);
    assert_eq!(records_of(&f).last().map(|r| r.0), Some(2));
    cluster.shutdown().await;
}

#[tokio::test]
async fn describe_cluster_and_find_coordinator() {
    let cluster = cluster(3).await;
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let r = c
        .send(
            &DescribeClusterRequest {
                endpoint_type: 1,
                ..Default::default()
            },
            1,
        )
        .await;
    assert_eq!(r.brokers.len(), 3);
    assert_eq!(r.controller_id, 0);
    let keys: Vec<String> = (0..30).map(|i| format!("group-{i}")).collect();
    let r = c
        .send(
            &FindCoordinatorRequest {
                key_type: 0,
                coordinator_keys: keys.clone().into_iter().map(Into::into).collect(),
                ..Default::default()
            },
            4,
        )
        .await;
    let mut used = std::collections::BTreeSet::new();
    for co in &r.coordinators {
        assert_eq!(co.error_code, ErrorCode::None);
        used.insert(co.node_id);
        // The same answer through v3, and stable across calls.
        let single = c
            .send(
                &FindCoordinatorRequest {
                    key: co.key.clone(),
                    ..Default::default()
                },
                3,
            )
            .await;
        assert_eq!(single.node_id, co.node_id);
    }
    assert_eq!(used.len(), 3, "30 groups spread over all 3 brokers");

    // A group request on a broker that is not the coordinator: NOT_COORDINATOR.
    let co = &r.coordinators[0];
    let other = (co.node_id.0 + 1) % 3;
    let mut wrong = Client::connect(addr(&cluster, other)).await;
    let hb = wrong
        .send(
            &HeartbeatRequest {
                group_id: co.key.clone().into(),
                generation_id: 1,
                member_id: "m".into(),
                ..Default::default()
            },
            4,
        )
        .await;
    assert_eq!(hb.error_code, ErrorCode::NotCoordinator);
    let mut right = Client::connect(addr(&cluster, co.node_id.0)).await;
    let hb = right
        .send(
            &HeartbeatRequest {
                group_id: co.key.clone().into(),
                generation_id: 1,
                member_id: "m".into(),
                ..Default::default()
            },
            4,
        )
        .await;
    assert_ne!(hb.error_code, ErrorCode::NotCoordinator);
    cluster.shutdown().await;
}

#[tokio::test]
async fn idempotent_producer_retries_are_deduplicated() {
    let cluster = cluster(1).await;
    cluster.create_topic("idem", 1, &[]).unwrap();
    let mut c = Client::connect(addr(&cluster, 0)).await;
    let init = c
        .send(
            &InitProducerIdRequest {
                transactional_id: None,
                transaction_timeout_ms: 60_000,
                producer_id: ProducerId::NONE,
                producer_epoch: -1,
                ..Default::default()
            },
            4,
        )
        .await;
    assert_eq!(init.error_code, ErrorCode::None);
    let (pid, epoch) = (init.producer_id, init.producer_epoch);
    let batch_at = |seq: i32, values: &[&str]| {
        let mut b = RecordBatchBuilder::new(Compression::None).with_producer(pid.0, epoch, seq);
        for v in values {
            b.append(0, None, Some(v.as_bytes()), &[]).unwrap();
        }
        b.build().unwrap()
    };
    let send = |records| produce_request("idem", 0, records, -1);
    let first = c.send(&send(batch_at(0, &["a", "b"])), 9).await;
    assert_eq!(first.responses[0].partition_responses[0].base_offset, 0);
    // The retry of a lost response gets the original offset and is not appended again.
    let retry = c.send(&send(batch_at(0, &["a", "b"])), 9).await;
    let p = &retry.responses[0].partition_responses[0];
    assert_eq!((p.error_code, p.base_offset), (ErrorCode::None, 0));
    assert_eq!(cluster.partition_offsets("idem", 0), Some((0, 2)));
    // A gap in the sequence is refused.
    let gap = c.send(&send(batch_at(5, &["x"])), 9).await;
    assert_eq!(
        gap.responses[0].partition_responses[0].error_code,
        ErrorCode::OutOfOrderSequenceNumber
    );
    let next = c.send(&send(batch_at(2, &["c"])), 9).await;
    assert_eq!(next.responses[0].partition_responses[0].base_offset, 2);
    cluster.shutdown().await;
}
