//! Subscribe mode against the bundled broker: a group splits partitions between members, and
//! committed offsets carry a group's progress to its next member.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::{Consumer, ConsumerConfig, ConsumerRecord, OffsetReset};
use kafka_protocol::TopicName;

async fn produce(cluster: &Cluster, topic: &str, from: usize, count: usize) {
    common::produce(&cluster.bootstrap_servers(), topic, from, count).await;
}

fn config(cluster: &Cluster, group: &str) -> ConsumerConfig {
    ConsumerConfig::new(&cluster.bootstrap_servers())
        .with_group_id(group)
        .with_auto_offset_reset(OffsetReset::Earliest)
        .with_fetch_max_wait(Duration::from_millis(50))
        .with_session_timeout(Duration::from_secs(10), Duration::from_millis(100))
}

fn value(r: &ConsumerRecord) -> String {
    String::from_utf8(r.value.clone().unwrap_or_default().to_vec()).unwrap()
}

#[tokio::test]
async fn committed_offsets_carry_progress_to_the_next_member() {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    cluster.create_topic("progress", 3, &[]).unwrap();
    produce(&cluster, "progress", 0, 300).await;
    let mut first = Consumer::new(config(&cluster, "g-progress")).await.unwrap();
    first.subscribe([TopicName::from("progress")]).unwrap();
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < 300 {
        assert!(
            Instant::now() < deadline,
            "first member read {} of 300",
            seen.len()
        );
        for r in first.poll(Duration::from_millis(200)).await.unwrap() {
            assert!(seen.insert(value(&r)), "read twice: {}", value(&r));
        }
    }
    assert_eq!(first.assignment().len(), 3, "alone, it has every partition");
    first.commit_sync().await.unwrap();
    let committed = first
        .committed(
            &(0..3)
                .map(|p| (TopicName::from("progress"), p))
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    assert_eq!(committed.values().map(|o| o.offset).sum::<i64>(), 300);
    first.close(Duration::from_secs(5)).await;

    produce(&cluster, "progress", 300, 30).await;
    let mut second = Consumer::new(config(&cluster, "g-progress")).await.unwrap();
    second.subscribe([TopicName::from("progress")]).unwrap();
    let mut later = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while later.len() < 30 {
        assert!(
            Instant::now() < deadline,
            "second member read {} of 30",
            later.len()
        );
        for r in second.poll(Duration::from_millis(200)).await.unwrap() {
            let v = value(&r);
            assert!(
                !seen.contains(&v),
                "{v} was committed by the first member but read again"
            );
            later.insert(v);
        }
    }
    second.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_split_the_partitions_and_read_everything_at_least_once() {
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3))
        .await
        .unwrap();
    cluster.create_topic("shared", 6, &[]).unwrap();
    produce(&cluster, "shared", 0, 3_000).await;
    let run = |name: &'static str| {
        let config = config(&cluster, "g-shared");
        tokio::spawn(async move {
            let mut consumer = Consumer::new(config).await.unwrap();
            consumer.subscribe([TopicName::from("shared")]).unwrap();
            let mut read: Vec<(i32, i64, String)> = Vec::new();
            // The assignment this member held in each generation it saw.
            let mut generations: BTreeMap<i32, Vec<(TopicName, i32)>> = BTreeMap::new();
            let mut quiet = 0;
            let deadline = Instant::now() + Duration::from_secs(40);
            // Read until nothing has arrived for a while after both joined.
            while quiet < 15 && Instant::now() < deadline {
                let batch = consumer.poll(Duration::from_millis(200)).await.unwrap();
                if batch.is_empty() {
                    quiet += 1;
                } else {
                    quiet = 0;
                }
                read.extend(batch.iter().map(|r| (r.partition, r.offset, value(r))));
                // Under the eager protocol a member gives everything up when the next
                // rebalance starts, before its generation changes: keep what it held.
                let held = consumer.assignment();
                if !held.is_empty() {
                    generations.entry(consumer.generation()).or_insert(held);
                }
                // Commit as it goes, so partitions that move carry on where they stopped.
                let _ = consumer.commit_sync().await;
            }
            consumer.close(Duration::from_secs(5)).await;
            (name, generations, read)
        })
    };
    let a = run("a");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = run("b");
    let (_, gens_a, read_a) = a.await.unwrap();
    let (_, gens_b, read_b) = b.await.unwrap();
    // In a generation both members were in, they split the six partitions between them.
    let shared_generation = gens_a
        .keys()
        .filter(|g| gens_b.contains_key(g))
        .find(|g| !gens_a[g].is_empty() && !gens_b[g].is_empty())
        .copied()
        .unwrap_or_else(|| panic!("no generation with both members: {gens_a:?} / {gens_b:?}"));
    let mut all: Vec<(TopicName, i32)> = gens_a[&shared_generation]
        .iter()
        .chain(&gens_b[&shared_generation])
        .cloned()
        .collect();
    all.sort();
    assert_eq!(
        all,
        (0..6)
            .map(|p| (TopicName::from("shared"), p))
            .collect::<Vec<_>>()
    );
    // Every record was read.
    let mut values: BTreeMap<String, usize> = BTreeMap::new();
    for (_, _, v) in read_a.iter().chain(&read_b) {
        *values.entry(v.clone()).or_default() += 1;
    }
    // At least once: records fetched after the last commit before a rebalance may be read
    // again by the partition's next owner.
    assert_eq!(values.len(), 3_000, "every record read");
    cluster.shutdown().await;
}

#[tokio::test]
async fn auto_commit_commits_what_poll_returned_and_close_commits_the_rest() {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    cluster.create_topic("auto", 2, &[]).unwrap();
    produce(&cluster, "auto", 0, 100).await;
    let mut consumer = Consumer::new(
        config(&cluster, "g-auto")
            .with_auto_commit(true, Duration::from_millis(100))
            .with_group_instance_id("static-1"),
    )
    .await
    .unwrap();
    consumer.subscribe([TopicName::from("auto")]).unwrap();
    let mut read = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while read < 100 {
        assert!(Instant::now() < deadline, "read {read} of 100");
        read += consumer
            .poll(Duration::from_millis(200))
            .await
            .unwrap()
            .len();
    }
    // No explicit commit: close commits the positions.
    consumer.close(Duration::from_secs(5)).await;
    let mut reader = Consumer::new(config(&cluster, "g-auto")).await.unwrap();
    reader.subscribe([TopicName::from("auto")]).unwrap();
    assert!(
        reader
            .poll(Duration::from_millis(500))
            .await
            .unwrap()
            .is_empty(),
        "all committed"
    );
    let committed = reader
        .committed(&[(TopicName::from("auto"), 0), (TopicName::from("auto"), 1)])
        .await
        .unwrap();
    assert_eq!(committed.values().map(|o| o.offset).sum::<i64>(), 100);
    reader.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}
