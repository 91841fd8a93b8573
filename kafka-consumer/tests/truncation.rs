//! Log truncation detection (KIP-320) against the bundled broker: an unclean leader election
//! cuts a partition's log behind a consumer's position, new records are written from the cut,
//! and the consumer must resume at the cut (reading the new records, none of the old ones
//! again), or, with `auto.offset.reset=none`, report the truncation.
//!
//! Without validation the consumer's next fetch, past the new log end, would be
//! OFFSET_OUT_OF_RANGE: `latest` would then skip the records written at the cut, `earliest`
//! would read the whole log again.

mod common;

use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::{Consumer, ConsumerConfig, ConsumerError, ConsumerRecord, OffsetReset};
use kafka_protocol::TopicName;

const TOPIC: &str = "cut";
const FIRST: usize = 100;
const AFTER: usize = 20;

fn config(cluster: &Cluster, reset: OffsetReset) -> ConsumerConfig {
    ConsumerConfig::new(&cluster.bootstrap_servers())
        .with_auto_offset_reset(reset)
        .with_fetch_max_wait(Duration::from_millis(50))
        .with_client(|c| c.with_retry_backoff(Duration::from_millis(5), Duration::from_millis(50)))
}

/// A two-broker cluster with `FIRST` records in partition 0 of `TOPIC`.
async fn cluster_with_records() -> Cluster {
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(2))
        .await
        .unwrap();
    cluster.create_topic(TOPIC, 1, &[]).unwrap();
    // Ten producers' worth, so that the log holds several batches to cut between.
    for from in (0..FIRST).step_by(10) {
        common::produce(&cluster.bootstrap_servers(), TOPIC, from, 10).await;
    }
    cluster
}

async fn read(consumer: &mut Consumer, count: usize) -> Vec<ConsumerRecord> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < count {
        assert!(Instant::now() < deadline, "only {} of {count}", got.len());
        got.extend(consumer.poll(Duration::from_millis(100)).await.unwrap());
    }
    got
}

fn value(r: &ConsumerRecord) -> String {
    String::from_utf8(r.value.clone().unwrap_or_default().to_vec()).unwrap()
}

/// Cuts the log to about `at` on the other broker, then writes `AFTER` new records
/// (`v1000`...); returns where the log was cut.
async fn cut_and_write(cluster: &Cluster, at: i64) -> i64 {
    let (leader, epoch) = cluster.partition_leader(TOPIC, 0).unwrap();
    let (new_epoch, cut) = cluster
        .elect_unclean_leader(TOPIC, 0, 1 - leader, at)
        .unwrap();
    assert_eq!(new_epoch, epoch + 1);
    assert!(cut <= at && cut > 0, "cut at {cut}");
    common::produce(&cluster.bootstrap_servers(), TOPIC, 1000, AFTER).await;
    cut
}

/// Reads on after the cut: the records must be exactly the new ones, from the cut on.
async fn assert_resumes_at_the_cut(consumer: &mut Consumer, cut: i64) {
    let got = read(consumer, AFTER).await;
    let offsets: Vec<i64> = got.iter().map(|r| r.offset).collect();
    let expected: Vec<i64> = (cut..cut + AFTER as i64).collect();
    assert_eq!(offsets, expected, "resumed at the cut, nothing read twice");
    let values: Vec<String> = got.iter().map(value).collect();
    let new: Vec<String> = (1000..1000 + AFTER).map(|i| format!("v{i}")).collect();
    assert_eq!(values, new);
    // And nothing else arrives.
    let more = consumer.poll(Duration::from_millis(300)).await.unwrap();
    assert!(more.is_empty(), "{} more records", more.len());
}

#[tokio::test]
async fn a_consumer_past_the_cut_resumes_there_instead_of_skipping_to_the_end() {
    let cluster = cluster_with_records().await;
    // `latest` is the policy that would lose the new records without validation.
    let mut consumer = Consumer::new(config(&cluster, OffsetReset::Latest))
        .await
        .unwrap();
    consumer.assign([(TopicName::from(TOPIC), 0)]);
    consumer.seek(TOPIC, 0, 0);
    let first = read(&mut consumer, FIRST).await;
    assert_eq!(first.last().map(|r| r.offset), Some(FIRST as i64 - 1));
    assert!(first.iter().all(|r| r.leader_epoch == Some(0)));

    let cut = cut_and_write(&cluster, 60).await;
    assert_resumes_at_the_cut(&mut consumer, cut).await;
    consumer.close(Duration::from_secs(2)).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn with_no_reset_policy_the_truncation_is_reported_and_a_seek_recovers() {
    let cluster = cluster_with_records().await;
    let mut consumer = Consumer::new(config(&cluster, OffsetReset::None))
        .await
        .unwrap();
    consumer.assign([(TopicName::from(TOPIC), 0)]);
    consumer.seek(TOPIC, 0, 0);
    read(&mut consumer, FIRST).await;

    let cut = cut_and_write(&cluster, 40).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let error = loop {
        assert!(Instant::now() < deadline, "no truncation reported");
        match consumer.poll(Duration::from_millis(100)).await {
            Ok(records) => assert!(records.is_empty(), "read {} records", records.len()),
            Err(e) => break e,
        }
    };
    match error {
        ConsumerError::LogTruncation {
            topic,
            partition,
            position,
            divergent_offset,
        } => {
            assert_eq!((topic.as_str(), partition), (TOPIC, 0));
            assert_eq!((position, divergent_offset), (FIRST as i64, cut));
        }
        other => panic!("expected a log truncation, got {other}"),
    }
    // The application chooses: here, the divergent offset.
    consumer.seek(TOPIC, 0, cut);
    assert_resumes_at_the_cut(&mut consumer, cut).await;
    consumer.close(Duration::from_secs(2)).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_committed_position_past_the_cut_is_validated_before_the_first_fetch() {
    let cluster = cluster_with_records().await;
    let group_config = |reset| config(&cluster, reset).with_group_id("g-cut");
    let mut first = Consumer::new(group_config(OffsetReset::Earliest))
        .await
        .unwrap();
    first.subscribe([TopicName::from(TOPIC)]).unwrap();
    read(&mut first, FIRST).await;
    first.commit_sync().await.unwrap();
    let committed = first
        .committed(&[(TopicName::from(TOPIC), 0)])
        .await
        .unwrap();
    let at = committed.values().next().unwrap();
    assert_eq!(at.offset, FIRST as i64);
    assert!(
        at.leader_epoch.is_some(),
        "the commit carries the offset epoch"
    );
    first.close(Duration::from_secs(5)).await;

    let cut = cut_and_write(&cluster, 50).await;
    // `earliest` would read the whole log again if the commit were not validated.
    let mut second = Consumer::new(group_config(OffsetReset::Earliest))
        .await
        .unwrap();
    second.subscribe([TopicName::from(TOPIC)]).unwrap();
    assert_resumes_at_the_cut(&mut second, cut).await;
    second.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}
