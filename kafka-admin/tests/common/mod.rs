//! The admin checks, written once and run against the bundled broker (`bundled.rs`) and a
//! three-node Apache Kafka (`real_kafka.rs`). Each takes a name prefix so that runs sharing a
//! cluster do not collide, and waits where Kafka is eventually consistent (metadata reaches the
//! other brokers a moment after the controller answers).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use kafka_admin::cluster::UpgradeType;
use kafka_admin::groups::CommittedOffset;
use kafka_admin::topics::AclOperation;
use kafka_admin::{
    AdminClient, AlterConfigOp, ConfigResource, ConfigSource, ElectionType, NewPartitions,
    NewTopic, OffsetSpec, OffsetSpecForReset, QuotaAlteration, QuotaFilter,
};
use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset};
use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_protocol::{ErrorCode, TopicName};
use tokio::time::Instant;

/// Polls `check` until it returns `Some`, for up to 20 s.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The error code of a per-item error.
pub fn code<T: std::fmt::Debug>(r: &kafka_admin::Result<T>) -> Option<ErrorCode> {
    r.as_ref().err().and_then(|e| e.code())
}

/// Produces `count` records to `topic`'s `partition`, timestamps `base + i`.
pub async fn produce(bootstrap: &str, topic: &str, partition: i32, count: usize, base: i64) {
    let producer = Producer::new(ProducerConfig::new(bootstrap)).await.unwrap();
    let mut futures = Vec::new();
    for i in 0..count {
        let record = ProducerRecord::new(topic)
            .with_partition(partition)
            .with_value(format!("v{i}"))
            .with_timestamp(base + i64::try_from(i).unwrap());
        futures.push(producer.send(record).await.unwrap());
    }
    for f in futures {
        f.await.unwrap();
    }
    producer.close(Duration::from_secs(10)).await;
}

/// Creates, validates, lists, describes, grows and deletes topics.
pub async fn topics(admin: &AdminClient, brokers: &[i32], prefix: &str) {
    let (a, b, bad, c) = (
        format!("{prefix}-a"),
        format!("{prefix}-b"),
        format!("{prefix}-bad"),
        format!("{prefix}-c"),
    );
    let (b0, b1, b2) = (brokers[0], brokers[1], brokers[2]);
    let created = admin
        .create_topics(vec![
            NewTopic::new(&a, 3, 2).with_config("retention.ms", "123456"),
            NewTopic::with_replica_assignment(&b, vec![vec![b0, b1], vec![b1, b2]]),
            NewTopic::new(&bad, 0, 1),
        ])
        .await
        .unwrap();
    let made = created[&a].as_ref().expect("a is created");
    assert_eq!((made.partitions, made.replication_factor), (3, 2));
    assert!(!made.topic_id.is_zero());
    assert!(created[&b].is_ok(), "{:?}", created[&b]);
    assert_eq!(
        code(&created[&bad]),
        Some(ErrorCode::InvalidPartitions),
        "one topic's failure fails only it"
    );

    let again = admin
        .create_topics(vec![NewTopic::new(&a, 3, 2)])
        .await
        .unwrap();
    assert_eq!(code(&again[&a]), Some(ErrorCode::TopicAlreadyExists));
    let checked = admin
        .validate_only()
        .create_topics(vec![NewTopic::new(&c, 2, 1)])
        .await
        .unwrap();
    assert!(checked[&c].is_ok(), "{:?}", checked[&c]);

    let listed = eventually("both topics listed", || async {
        let l = admin.list_topics(false).await.unwrap();
        let names: Vec<&str> = l.iter().map(|t| t.name.as_str()).collect();
        (names.contains(&a.as_str()) && names.contains(&b.as_str())).then_some(l)
    })
    .await;
    assert!(
        listed.iter().all(|t| !t.is_internal),
        "internal topics are listed only on request"
    );
    assert!(
        !listed.iter().any(|t| t.name == c),
        "a validated topic is not created"
    );
    let with_internal = admin.list_topics(true).await.unwrap();
    assert!(with_internal.len() >= listed.len());

    let missing = format!("{prefix}-missing");
    let described = eventually("both topics described", || async {
        let d = admin
            .describe_topics(&[a.clone(), b.clone(), missing.clone()])
            .await
            .unwrap();
        (d[&a].is_ok() && d[&b].is_ok()).then_some(d)
    })
    .await;
    let da = described[&a].as_ref().unwrap();
    assert_eq!(da.partitions.len(), 3);
    assert_eq!(da.topic_id, made.topic_id);
    for p in &da.partitions {
        assert_eq!(p.replicas.len(), 2, "{p:?}");
        assert!(p.leader.is_some_and(|l| p.replicas.contains(&l)), "{p:?}");
        let mut isr = p.isr.clone();
        isr.sort_unstable();
        let mut replicas = p.replicas.clone();
        replicas.sort_unstable();
        assert_eq!(isr, replicas, "every replica in sync: {p:?}");
        assert!(p.offline_replicas.is_empty());
    }
    let ops = da
        .authorized_operations
        .clone()
        .expect("DescribeTopicPartitions reports them");
    for op in [
        AclOperation::Read,
        AclOperation::Write,
        AclOperation::Describe,
    ] {
        assert!(ops.contains(&op), "{op:?} in {ops:?}");
    }
    let db = described[&b].as_ref().unwrap();
    assert_eq!(db.partitions[0].replicas, vec![b0, b1]);
    assert_eq!(db.partitions[1].replicas, vec![b1, b2]);
    assert_eq!(db.partitions[0].leader, Some(b0), "the first replica leads");
    assert_eq!(
        code(&described[&missing]),
        Some(ErrorCode::UnknownTopicOrPartition)
    );

    let grown = admin
        .create_partitions(BTreeMap::from([
            (a.clone(), NewPartitions::increase_to(5)),
            (b.clone(), NewPartitions::increase_to(1)),
        ]))
        .await
        .unwrap();
    assert!(grown[&a].is_ok(), "{:?}", grown[&a]);
    assert_eq!(
        code(&grown[&b]),
        Some(ErrorCode::InvalidPartitions),
        "partitions never shrink"
    );
    eventually("five partitions", || async {
        let d = admin
            .describe_topics(std::slice::from_ref(&a))
            .await
            .unwrap();
        d[&a]
            .as_ref()
            .ok()
            .filter(|t| t.partitions.len() == 5)
            .map(|_| ())
    })
    .await;

    let deleted = admin
        .delete_topics(&[a.clone(), missing.clone()])
        .await
        .unwrap();
    assert!(deleted[&a].is_ok(), "{:?}", deleted[&a]);
    assert_eq!(
        code(&deleted[&missing]),
        Some(ErrorCode::UnknownTopicOrPartition)
    );
    let by_id = admin.delete_topics_by_id(&[db.topic_id]).await.unwrap();
    assert!(by_id[&db.topic_id].is_ok(), "{:?}", by_id[&db.topic_id]);
    eventually("both topics gone", || async {
        let l = admin.list_topics(false).await.unwrap();
        (!l.iter().any(|t| t.name == a || t.name == b)).then_some(())
    })
    .await;
}

/// Describes, alters incrementally and alters whole config sets.
pub async fn configs(admin: &AdminClient, brokers: &[i32], prefix: &str) {
    let t = format!("{prefix}-cfg");
    let created = admin
        .create_topics(vec![
            NewTopic::new(&t, 1, 1).with_config("cleanup.policy", "compact")
        ])
        .await
        .unwrap();
    assert!(created[&t].is_ok(), "{:?}", created[&t]);
    let topic = ConfigResource::topic(&t);
    let broker = ConfigResource::broker(brokers[0]);
    let missing = ConfigResource::topic(format!("{prefix}-nothing"));
    let value = |entries: &[kafka_admin::ConfigEntry], key: &str| {
        entries
            .iter()
            .find(|e| e.name == key)
            .cloned()
            .unwrap_or_else(|| panic!("{key} described"))
    };
    let described = eventually("topic configs", || async {
        let d = admin
            .describe_configs(&[topic.clone(), broker.clone(), missing.clone()])
            .await
            .unwrap();
        d[&topic].is_ok().then_some(d)
    })
    .await;
    let entries = described[&topic].as_ref().unwrap();
    let policy = value(entries, "cleanup.policy");
    assert_eq!(policy.value.as_deref(), Some("compact"));
    assert_eq!(policy.source, ConfigSource::DynamicTopicConfig);
    assert!(!policy.synonyms.is_empty(), "synonyms were asked for");
    assert!(value(entries, "retention.ms").is_default());
    let broker_entries = described[&broker].as_ref().expect("broker configs");
    assert!(!broker_entries.is_empty());
    assert_eq!(
        code(&described[&missing]),
        Some(ErrorCode::UnknownTopicOrPartition)
    );

    let changes = BTreeMap::from([(
        topic.clone(),
        vec![
            AlterConfigOp::Set("retention.ms".into(), "1000".into()),
            AlterConfigOp::Append("cleanup.policy".into(), "delete".into()),
        ],
    )]);
    let checked = admin
        .validate_only()
        .incremental_alter_configs(changes.clone())
        .await
        .unwrap();
    assert!(checked[&topic].is_ok(), "{:?}", checked[&topic]);
    let altered = admin.incremental_alter_configs(changes).await.unwrap();
    assert!(altered[&topic].is_ok(), "{:?}", altered[&topic]);
    eventually("incremental changes applied", || async {
        let d = admin
            .describe_configs(std::slice::from_ref(&topic))
            .await
            .unwrap();
        let e = d[&topic].as_ref().ok()?;
        (value(e, "retention.ms").value.as_deref() == Some("1000")
            && value(e, "cleanup.policy").value.as_deref() == Some("compact,delete"))
        .then_some(())
    })
    .await;
    let bad = admin
        .incremental_alter_configs(BTreeMap::from([(
            topic.clone(),
            vec![AlterConfigOp::Set("no.such.config".into(), "1".into())],
        )]))
        .await
        .unwrap();
    assert!(bad[&topic].is_err(), "an unknown key is refused");

    let whole = admin
        .alter_configs(BTreeMap::from([(
            topic.clone(),
            BTreeMap::from([("max.message.bytes".to_string(), "2000".to_string())]),
        )]))
        .await
        .unwrap();
    assert!(whole[&topic].is_ok(), "{:?}", whole[&topic]);
    eventually("the whole set replaced", || async {
        let d = admin
            .describe_configs(std::slice::from_ref(&topic))
            .await
            .unwrap();
        let e = d[&topic].as_ref().ok()?;
        (value(e, "max.message.bytes").value.as_deref() == Some("2000")
            && value(e, "cleanup.policy").is_default()
            && value(e, "retention.ms").is_default())
        .then_some(())
    })
    .await;

    // A group's configs (KIP-848): broker defaults until the group overrides them.
    let group = ConfigResource::group(format!("{prefix}-cfg-group"));
    let d = admin
        .describe_configs(std::slice::from_ref(&group))
        .await
        .unwrap();
    let session = value(d[&group].as_ref().unwrap(), "consumer.session.timeout.ms");
    assert_eq!(
        (session.value.as_deref(), session.source),
        (Some("45000"), ConfigSource::DefaultConfig)
    );
    let set = admin
        .incremental_alter_configs(BTreeMap::from([(
            group.clone(),
            vec![AlterConfigOp::Set(
                "consumer.session.timeout.ms".into(),
                "50000".into(),
            )],
        )]))
        .await
        .unwrap();
    assert!(set[&group].is_ok(), "{:?}", set[&group]);
    eventually("the group override", || async {
        let d = admin
            .describe_configs(std::slice::from_ref(&group))
            .await
            .unwrap();
        let e = value(d[&group].as_ref().ok()?, "consumer.session.timeout.ms");
        (e.value.as_deref() == Some("50000") && e.source == ConfigSource::GroupConfig).then_some(())
    })
    .await;
    let _ = admin.delete_topics(&[t]).await;
}

fn consumer_config(bootstrap: &str, group: &str) -> ConsumerConfig {
    ConsumerConfig::new(bootstrap)
        .with_group_id(group)
        .with_auto_offset_reset(OffsetReset::Earliest)
        .with_auto_commit(false, Duration::from_secs(5))
        .with_fetch_max_wait(Duration::from_millis(50))
        .with_session_timeout(Duration::from_secs(10), Duration::from_millis(200))
}

/// Lists, describes, resets and deletes a group and its offsets, and removes a static member.
pub async fn groups(admin: &AdminClient, bootstrap: &str, prefix: &str) {
    let t = format!("{prefix}-gt");
    let group = format!("{prefix}-group");
    let created = admin
        .create_topics(vec![NewTopic::new(&t, 3, 1)])
        .await
        .unwrap();
    assert!(created[&t].is_ok(), "{:?}", created[&t]);
    for p in 0..3 {
        produce(bootstrap, &t, p, 10, 1_000_000 + i64::from(p) * 100).await;
    }
    let mut consumer = Consumer::new(consumer_config(bootstrap, &group))
        .await
        .unwrap();
    consumer.subscribe([TopicName::from(t.as_str())]).unwrap();
    let mut read = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while read < 30 {
        assert!(Instant::now() < deadline, "read {read} of 30");
        read += consumer
            .poll(Duration::from_millis(200))
            .await
            .unwrap()
            .len();
    }
    consumer.commit_sync().await.unwrap();

    let listed = admin.list_groups(&[], &[]).await.unwrap();
    let mine = listed
        .iter()
        .find(|g| g.group_id == group)
        .expect("the group is listed");
    assert_eq!(mine.protocol_type, "consumer");
    assert_eq!(mine.state.as_deref(), Some("Stable"));
    let empty_only = admin.list_groups(&["Empty"], &[]).await.unwrap();
    assert!(
        !empty_only.iter().any(|g| g.group_id == group),
        "a state filter leaves it out"
    );
    let missing = format!("{prefix}-no-group");
    let described = admin
        .describe_groups(&[group.clone(), missing.clone()])
        .await
        .unwrap();
    let g = described[&group].as_ref().unwrap();
    assert_eq!(
        (g.state.as_str(), g.protocol_type.as_str()),
        ("Stable", "consumer")
    );
    assert!(!g.protocol.is_empty(), "the assignor is named");
    assert_eq!(g.members.len(), 1);
    let mut assigned = g.members[0].assignment.clone();
    assigned.sort();
    assert_eq!(
        assigned,
        (0..3)
            .map(|p| (TopicName::from(t.as_str()), p))
            .collect::<Vec<_>>()
    );
    assert_eq!(g.members[0].subscription, vec![t.clone()]);
    match &described[&missing] {
        Ok(d) => assert_eq!(d.state, "Dead"),
        Err(e) => assert_eq!(e.code(), Some(ErrorCode::GroupIdNotFound)),
    }
    let busy = admin
        .reset_group_offsets(&group, OffsetSpecForReset::Earliest, None)
        .await;
    assert!(
        matches!(busy, Err(kafka_admin::AdminError::GroupNotEmpty { .. })),
        "{busy:?}"
    );
    let not_deleted = admin
        .delete_groups(std::slice::from_ref(&group))
        .await
        .unwrap();
    assert_eq!(code(&not_deleted[&group]), Some(ErrorCode::NonEmptyGroup));
    consumer.close(Duration::from_secs(5)).await;

    let tp = |p: i32| (TopicName::from(t.as_str()), p);
    let committed = admin.list_group_offsets(&group, None).await.unwrap();
    assert_eq!(committed.len(), 3);
    assert_eq!(committed.values().map(|o| o.offset).sum::<i64>(), 30);
    let some = admin
        .list_group_offsets(&group, Some(&[tp(1)]))
        .await
        .unwrap();
    assert_eq!(some.keys().cloned().collect::<Vec<_>>(), vec![tp(1)]);

    let planned = admin
        .validate_only()
        .reset_group_offsets(&group, OffsetSpecForReset::Earliest, None)
        .await
        .unwrap();
    assert_eq!(planned, (0..3).map(|p| (tp(p), 0)).collect());
    let unchanged = admin.list_group_offsets(&group, None).await.unwrap();
    assert_eq!(
        unchanged.values().map(|o| o.offset).sum::<i64>(),
        30,
        "a dry run commits nothing"
    );
    admin
        .reset_group_offsets(&group, OffsetSpecForReset::Earliest, None)
        .await
        .unwrap();
    let reset = admin.list_group_offsets(&group, None).await.unwrap();
    assert!(reset.values().all(|o| o.offset == 0), "{reset:?}");
    admin
        .reset_group_offsets(
            &group,
            OffsetSpecForReset::Timestamp(1_000_000 + 104),
            Some(vec![tp(1)]),
        )
        .await
        .unwrap();
    assert_eq!(
        admin
            .list_group_offsets(&group, Some(&[tp(1)]))
            .await
            .unwrap()[&tp(1)]
            .offset,
        4
    );
    admin
        .reset_group_offsets(
            &group,
            OffsetSpecForReset::Timestamp(i64::MAX / 2),
            Some(vec![tp(2)]),
        )
        .await
        .unwrap();
    assert_eq!(
        admin
            .list_group_offsets(&group, Some(&[tp(2)]))
            .await
            .unwrap()[&tp(2)]
            .offset,
        10,
        "past the last record: the end"
    );
    admin
        .reset_group_offsets(
            &group,
            OffsetSpecForReset::Offsets(BTreeMap::from([(tp(0), 5)])),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        admin
            .list_group_offsets(&group, Some(&[tp(0)]))
            .await
            .unwrap()[&tp(0)]
            .offset,
        5
    );
    admin
        .reset_group_offsets(&group, OffsetSpecForReset::Latest, None)
        .await
        .unwrap();
    assert!(admin
        .list_group_offsets(&group, None)
        .await
        .unwrap()
        .values()
        .all(|o| o.offset == 10));

    let altered = admin
        .alter_group_offsets(&group, BTreeMap::from([(tp(1), CommittedOffset::new(7))]))
        .await
        .unwrap();
    assert!(altered[&tp(1)].is_ok(), "{:?}", altered[&tp(1)]);
    let removed = admin.delete_group_offsets(&group, &[tp(2)]).await.unwrap();
    assert!(removed[&tp(2)].is_ok(), "{:?}", removed[&tp(2)]);
    let after = admin.list_group_offsets(&group, None).await.unwrap();
    assert_eq!(after[&tp(1)].offset, 7);
    assert!(!after.contains_key(&tp(2)));

    let deleted = admin
        .delete_groups(std::slice::from_ref(&group))
        .await
        .unwrap();
    assert!(deleted[&group].is_ok(), "{:?}", deleted[&group]);
    assert!(!admin
        .list_groups(&[], &[])
        .await
        .unwrap()
        .iter()
        .any(|g| g.group_id == group));

    // A static member stays in the group after its process goes away; the admin removes it.
    let static_group = format!("{prefix}-static");
    let mut member = Consumer::new(
        consumer_config(bootstrap, &static_group).with_group_instance_id("instance-1"),
    )
    .await
    .unwrap();
    member.subscribe([TopicName::from(t.as_str())]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while member.assignment().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the static member never got partitions"
        );
        let _ = member.poll(Duration::from_millis(100)).await;
    }
    member.close(Duration::from_secs(5)).await;
    let before = admin
        .describe_groups(std::slice::from_ref(&static_group))
        .await
        .unwrap();
    assert_eq!(
        before[&static_group].as_ref().unwrap().members.len(),
        1,
        "closing a static member leaves it in"
    );
    let out = admin
        .remove_members(
            &static_group,
            Some(&["instance-1".to_string(), "instance-9".to_string()]),
        )
        .await
        .unwrap();
    assert!(out["instance-1"].is_ok(), "{:?}", out["instance-1"]);
    assert_eq!(code(&out["instance-9"]), Some(ErrorCode::UnknownMemberId));
    let gone = admin
        .describe_groups(std::slice::from_ref(&static_group))
        .await
        .unwrap();
    assert!(gone[&static_group].as_ref().unwrap().members.is_empty());
    let _ = admin.delete_topics(&[t]).await;
}

/// Lists offsets, deletes records and describes producers.
pub async fn offsets(admin: &AdminClient, bootstrap: &str, prefix: &str) {
    let t = format!("{prefix}-off");
    let created = admin
        .create_topics(vec![NewTopic::new(&t, 2, 1)])
        .await
        .unwrap();
    assert!(created[&t].is_ok(), "{:?}", created[&t]);
    produce(bootstrap, &t, 0, 10, 5_000).await;
    let tp = |p: i32| (TopicName::from(t.as_str()), p);
    let listed = admin
        .list_offsets(BTreeMap::from([
            (tp(0), OffsetSpec::Earliest),
            (tp(1), OffsetSpec::Latest),
            ((TopicName::from(t.as_str()), 9), OffsetSpec::Latest),
        ]))
        .await
        .unwrap();
    assert_eq!(listed[&tp(0)].as_ref().unwrap().offset, 0);
    assert_eq!(
        listed[&tp(1)].as_ref().unwrap().offset,
        0,
        "nothing in partition 1"
    );
    assert_eq!(
        code(&listed[&(TopicName::from(t.as_str()), 9)]),
        Some(ErrorCode::UnknownTopicOrPartition)
    );
    let at = |spec| {
        let admin = admin.clone();
        let key = tp(0);
        async move {
            admin
                .list_offsets(BTreeMap::from([(key.clone(), spec)]))
                .await
                .unwrap()
                .remove(&key)
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(at(OffsetSpec::Latest).await.offset, 10);
    let max = at(OffsetSpec::MaxTimestamp).await;
    assert_eq!((max.offset, max.timestamp), (9, 5_009));
    assert_eq!(at(OffsetSpec::Timestamp(5_004)).await.offset, 4);
    assert_eq!(
        at(OffsetSpec::Timestamp(9_999_999)).await.offset,
        -1,
        "no record that late"
    );

    let deleted = admin
        .delete_records(BTreeMap::from([(tp(0), 4), (tp(1), 3)]))
        .await
        .unwrap();
    assert_eq!(*deleted[&tp(0)].as_ref().unwrap(), 4);
    assert_eq!(code(&deleted[&tp(1)]), Some(ErrorCode::OffsetOutOfRange));
    assert_eq!(at(OffsetSpec::Earliest).await.offset, 4);

    let producers = admin.describe_producers(&[tp(0)]).await.unwrap();
    let states = producers[&tp(0)].as_ref().unwrap();
    assert_eq!(states.len(), 1, "one idempotent producer wrote");
    assert_eq!(states[0].last_sequence, 9);
    let _ = admin.delete_topics(&[t]).await;
}

/// Describes the cluster, its log dirs and features; validates feature updates.
pub async fn cluster(admin: &AdminClient, brokers: &[i32], bootstrap: &str, prefix: &str) {
    let d = admin.describe_cluster().await.unwrap();
    assert_eq!(d.brokers.iter().map(|b| b.id).collect::<Vec<_>>(), brokers);
    assert!(d.controller.is_some_and(|c| brokers.contains(&c)), "{d:?}");
    assert!(d.cluster_id.as_deref().is_some_and(|c| !c.is_empty()));

    let t = format!("{prefix}-dirs");
    let created = admin
        .create_topics(vec![NewTopic::new(&t, 1, 1)])
        .await
        .unwrap();
    assert!(created[&t].is_ok(), "{:?}", created[&t]);
    produce(bootstrap, &t, 0, 5, 1).await;
    let dirs = admin.describe_log_dirs(brokers).await.unwrap();
    assert_eq!(dirs.len(), brokers.len());
    let tp = (TopicName::from(t.as_str()), 0);
    let holding: Vec<i64> = dirs
        .values()
        .flat_map(|r| r.as_ref().unwrap().values())
        .filter_map(|dir| dir.replicas.get(&tp).map(|r| r.size))
        .collect();
    assert_eq!(holding.len(), 1, "one replica of the partition, in one dir");
    assert!(holding[0] > 0, "it holds the records");

    let features = admin.describe_features().await.unwrap();
    let (_, level) = features.finalized["metadata.version"];
    let (min, max) = features.supported["metadata.version"];
    assert!(min <= level && level <= max, "{features:?}");
    let same = admin
        .validate_only()
        .update_features(BTreeMap::from([(
            "metadata.version".to_string(),
            (level, UpgradeType::Upgrade),
        )]))
        .await
        .unwrap();
    assert!(same["metadata.version"].is_ok(), "{same:?}");
    let too_high = admin
        .validate_only()
        .update_features(BTreeMap::from([(
            "metadata.version".to_string(),
            (10_000, UpgradeType::Upgrade),
        )]))
        .await
        .unwrap();
    assert_eq!(
        code(&too_high["metadata.version"]),
        Some(ErrorCode::InvalidUpdateVersion)
    );
    let _ = admin.delete_topics(&[t]).await;
}

/// Elects leaders and reassigns a partition to other brokers.
pub async fn replicas(admin: &AdminClient, brokers: &[i32], prefix: &str) {
    let (b0, b1, b2) = (brokers[0], brokers[1], brokers[2]);
    let t = format!("{prefix}-moves");
    let created = admin
        .create_topics(vec![NewTopic::with_replica_assignment(
            &t,
            vec![vec![b0, b1]],
        )])
        .await
        .unwrap();
    assert!(created[&t].is_ok(), "{:?}", created[&t]);
    let tp = (TopicName::from(t.as_str()), 0);
    let leader = |admin: &AdminClient| {
        let admin = admin.clone();
        let t = t.clone();
        async move {
            let d = admin
                .describe_topics(std::slice::from_ref(&t))
                .await
                .unwrap();
            d[&t]
                .as_ref()
                .ok()
                .map(|d| (d.partitions[0].leader, d.partitions[0].replicas.clone()))
        }
    };
    eventually("a leader", || async {
        leader(admin).await.filter(|(l, _)| l.is_some())
    })
    .await;
    let elected = admin
        .elect_leaders(ElectionType::Preferred, Some(std::slice::from_ref(&tp)))
        .await
        .unwrap();
    assert_eq!(code(&elected[&tp]), Some(ErrorCode::ElectionNotNeeded));
    let unclean = admin
        .elect_leaders(ElectionType::Unclean, Some(std::slice::from_ref(&tp)))
        .await
        .unwrap();
    assert_eq!(
        code(&unclean[&tp]),
        Some(ErrorCode::ElectionNotNeeded),
        "the leader is alive"
    );

    let moved = admin
        .alter_partition_reassignments(BTreeMap::from([(tp.clone(), Some(vec![b2, b1]))]))
        .await
        .unwrap();
    assert!(moved[&tp].is_ok(), "{:?}", moved[&tp]);
    eventually("the reassignment completes", || async {
        let ongoing = admin.list_partition_reassignments(None).await.unwrap();
        let (l, replicas) = leader(admin).await?;
        (!ongoing.contains_key(&tp) && replicas == vec![b2, b1] && l.is_some()).then_some(())
    })
    .await;
    // b2 is now preferred: an election moves leadership there if it is not already.
    let elected = admin
        .elect_leaders(ElectionType::Preferred, Some(std::slice::from_ref(&tp)))
        .await
        .unwrap();
    assert!(
        elected[&tp].is_ok() || code(&elected[&tp]) == Some(ErrorCode::ElectionNotNeeded),
        "{elected:?}"
    );
    eventually("the preferred replica leads", || async {
        leader(admin).await.filter(|(l, _)| *l == Some(b2))
    })
    .await;

    let nothing = admin
        .alter_partition_reassignments(BTreeMap::from([(tp.clone(), None)]))
        .await
        .unwrap();
    assert_eq!(
        code(&nothing[&tp]),
        Some(ErrorCode::NoReassignmentInProgress)
    );
    let unknown = admin
        .alter_partition_reassignments(BTreeMap::from([(tp.clone(), Some(vec![b0, 9_999]))]))
        .await
        .unwrap();
    assert_eq!(
        code(&unknown[&tp]),
        Some(ErrorCode::InvalidReplicaAssignment)
    );
    let _ = admin.delete_topics(&[t]).await;
}

/// Sets, describes and removes client quotas.
pub async fn quotas(admin: &AdminClient, prefix: &str) {
    let user = format!("{prefix}-user");
    let entity = |t: &str, n: Option<&str>| BTreeMap::from([(t.to_string(), n.map(String::from))]);
    let altered = admin
        .alter_client_quotas(vec![
            QuotaAlteration {
                entity: entity("user", Some(&user)),
                ops: BTreeMap::from([("producer_byte_rate".to_string(), Some(1024.0))]),
            },
            QuotaAlteration {
                entity: entity("client-id", Some("bad")),
                ops: BTreeMap::from([("no_such_quota".to_string(), Some(1.0))]),
            },
        ])
        .await
        .unwrap();
    assert!(altered[&entity("user", Some(&user))].is_ok());
    assert_eq!(
        code(&altered[&entity("client-id", Some("bad"))]),
        Some(ErrorCode::InvalidRequest)
    );
    let filter = [QuotaFilter::Exact("user".into(), user.clone())];
    let found = eventually("the quota", || async {
        let d = admin.describe_client_quotas(&filter, false).await.unwrap();
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, entity("user", Some(&user)));
    assert_eq!(found[0].1["producer_byte_rate"], 1024.0);
    let removed = admin
        .alter_client_quotas(vec![QuotaAlteration {
            entity: entity("user", Some(&user)),
            ops: BTreeMap::from([("producer_byte_rate".to_string(), None)]),
        }])
        .await
        .unwrap();
    assert!(removed[&entity("user", Some(&user))].is_ok());
    eventually("the quota removed", || async {
        admin
            .describe_client_quotas(&filter, false)
            .await
            .unwrap()
            .is_empty()
            .then_some(())
    })
    .await;
}
