//! Assign mode against the bundled broker: every record read once and in order, resets,
//! seeks, and a leader move while consuming.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::{Consumer, ConsumerConfig, ConsumerError, ConsumerRecord, OffsetReset};
use kafka_protocol::TopicName;

const PARTITIONS: i32 = 4;

async fn produce(cluster: &Cluster, topic: &str, count: usize) -> BTreeMap<i32, Vec<String>> {
    common::produce(&cluster.bootstrap_servers(), topic, 0, count).await
}

fn config(cluster: &Cluster) -> ConsumerConfig {
    ConsumerConfig::new(&cluster.bootstrap_servers())
        .with_auto_offset_reset(OffsetReset::Earliest)
        .with_fetch_max_wait(Duration::from_millis(50))
        .with_client(|c| c.with_retry_backoff(Duration::from_millis(5), Duration::from_millis(50)))
}

async fn consume(consumer: &mut Consumer, count: usize) -> Vec<ConsumerRecord> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} records",
            got.len()
        );
        got.extend(consumer.poll(Duration::from_millis(200)).await.unwrap());
    }
    got
}

fn all(topic: &str) -> Vec<(TopicName, i32)> {
    (0..PARTITIONS)
        .map(|p| (TopicName::from(topic), p))
        .collect()
}

fn values_by_partition(records: &[ConsumerRecord]) -> BTreeMap<i32, Vec<String>> {
    let mut out: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for r in records {
        out.entry(r.partition)
            .or_default()
            .push(String::from_utf8(r.value.clone().unwrap_or_default().to_vec()).unwrap());
    }
    out
}

#[tokio::test]
async fn reads_every_record_once_and_in_order() {
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3))
        .await
        .unwrap();
    cluster.create_topic("assigned", PARTITIONS, &[]).unwrap();
    let expected = produce(&cluster, "assigned", 5_000).await;
    let mut consumer = Consumer::new(config(&cluster)).await.unwrap();
    consumer.assign(all("assigned"));
    let got = consume(&mut consumer, 5_000).await;
    assert_eq!(values_by_partition(&got), expected);
    // Nothing more arrives, and the positions sit at the ends.
    assert!(consumer
        .poll(Duration::from_millis(100))
        .await
        .unwrap()
        .is_empty());
    for (p, values) in &expected {
        assert_eq!(consumer.position("assigned", *p), Some(values.len() as i64));
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn latest_starts_at_the_end_and_seek_goes_back() {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    cluster.create_topic("late", 1, &[]).unwrap();
    produce(&cluster, "late", 10).await;
    let mut consumer = Consumer::new(config(&cluster).with_auto_offset_reset(OffsetReset::Latest))
        .await
        .unwrap();
    consumer.assign([(TopicName::from("late"), 0)]);
    assert!(consumer
        .poll(Duration::from_millis(200))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(consumer.position("late", 0), Some(10));
    consumer.seek("late", 0, 7);
    let got = consume(&mut consumer, 3).await;
    assert_eq!(
        got.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![7, 8, 9]
    );
    // A position past the end is out of range: reset (here to latest) rather than stuck.
    consumer.seek("late", 0, 1_000);
    assert!(consumer
        .poll(Duration::from_millis(300))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(consumer.position("late", 0), Some(10));
    cluster.shutdown().await;
}

#[tokio::test]
async fn reset_none_is_an_error() {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    cluster.create_topic("strict", 1, &[]).unwrap();
    let mut consumer = Consumer::new(config(&cluster).with_auto_offset_reset(OffsetReset::None))
        .await
        .unwrap();
    consumer.assign([(TopicName::from("strict"), 0)]);
    let err = consumer.poll(Duration::from_millis(100)).await.unwrap_err();
    assert!(
        matches!(err, ConsumerError::NoOffset { partition: 0, .. }),
        "{err}"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_leader_move_while_consuming_loses_and_repeats_nothing() {
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3))
        .await
        .unwrap();
    cluster.create_topic("moving", PARTITIONS, &[]).unwrap();
    let first = produce(&cluster, "moving", 2_000).await;
    let mut consumer = Consumer::new(config(&cluster)).await.unwrap();
    consumer.assign(all("moving"));
    let mut got = consume(&mut consumer, 2_000).await;
    for p in 0..PARTITIONS {
        let (leader, _) = cluster.partition_leader("moving", p).unwrap();
        cluster.move_leader("moving", p, (leader + 1) % 3).unwrap();
    }
    let second = produce(&cluster, "moving", 2_000).await;
    got.extend(consume(&mut consumer, 2_000).await);
    let mut expected = first;
    for (p, values) in second {
        expected.entry(p).or_default().extend(values);
    }
    assert_eq!(values_by_partition(&got), expected);
    cluster.shutdown().await;
}

#[tokio::test]
async fn paused_partitions_are_not_fetched_and_seek_to_beginning_rereads() {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    cluster.create_topic("pausing", 2, &[]).unwrap();
    let expected = produce(&cluster, "pausing", 200).await;
    let mut consumer = Consumer::new(config(&cluster)).await.unwrap();
    consumer.assign([
        (TopicName::from("pausing"), 0),
        (TopicName::from("pausing"), 1),
    ]);
    let paused = (TopicName::from("pausing"), 1);
    consumer.pause(std::slice::from_ref(&paused));
    let count0 = expected.get(&0).map_or(0, Vec::len);
    let got = consume(&mut consumer, count0).await;
    assert!(
        got.iter().all(|r| r.partition == 0),
        "nothing from the paused partition"
    );
    assert!(consumer
        .poll(Duration::from_millis(100))
        .await
        .unwrap()
        .is_empty());
    consumer.resume(std::slice::from_ref(&paused));
    let count1 = expected.get(&1).map_or(0, Vec::len);
    let rest = consume(&mut consumer, count1).await;
    assert!(rest.iter().all(|r| r.partition == 1));
    consumer
        .seek_to_beginning(&[(TopicName::from("pausing"), 0)])
        .await
        .unwrap();
    assert_eq!(consumer.position("pausing", 0), Some(0));
    let again = consume(&mut consumer, count0).await;
    assert_eq!(values_by_partition(&again).get(&0), expected.get(&0));
    consumer
        .seek_to_end(&[(TopicName::from("pausing"), 0)])
        .await
        .unwrap();
    assert_eq!(consumer.position("pausing", 0), Some(count0 as i64));
    cluster.shutdown().await;
}
