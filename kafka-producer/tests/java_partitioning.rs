//! The same keys, sent to one topic by the Java client's producer (tools/java-peer, built
//! against kafka-clients from Maven Central) and by ours, sit on the same partitions.
//!
//! Without Java and Maven the test prints `SKIPPED: ...` (CI installs them and requires them).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kafka_broker::{Cluster, ClusterConfig};
use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_testkit::{peers, JavaPeer};

const TOPIC: &str = "shared-keys";
const PARTITIONS: i32 = 7;
const KEYS: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_and_rust_producers_put_each_key_on_the_same_partition() {
    if !peers::require_java() {
        return;
    }
    let Some(java) = tokio::task::spawn_blocking(JavaPeer::build).await.unwrap() else {
        return;
    };
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3))
        .await
        .unwrap();
    cluster.create_topic(TOPIC, PARTITIONS, &[]).unwrap();
    let bootstrap = cluster.bootstrap_servers();

    let java_run = {
        let bootstrap = bootstrap.clone();
        tokio::task::spawn_blocking(move || {
            java.run(
                &[
                    "produce",
                    "--bootstrap",
                    &bootstrap,
                    "--topic",
                    TOPIC,
                    "--count",
                    &KEYS.to_string(),
                    "--keyed",
                    "--report-records",
                ],
                None,
                Duration::from_secs(240),
            )
        })
    };
    let producer = Producer::new(ProducerConfig::new(&bootstrap))
        .await
        .unwrap();
    let mut ours = BTreeMap::new();
    let mut futures = Vec::new();
    for i in 0..KEYS {
        let key = format!("key-{i}");
        let record = ProducerRecord::new(TOPIC)
            .with_key(key.clone())
            .with_value(format!("rust-{i}"));
        futures.push((key, producer.send(record).await.unwrap()));
    }
    for (key, f) in futures {
        ours.insert(key, f.await.unwrap().partition);
    }
    producer.close(Duration::from_secs(5)).await;
    let out = java_run.await.unwrap();
    assert!(out.success(), "Java producer failed\n{}", out.describe());
    let theirs: BTreeMap<String, i32> = JavaPeer::events(&out.stdout, "produced")
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap_or_default().to_string(),
                e["partition"].as_i64().unwrap_or(-1) as i32,
            )
        })
        .collect();
    assert_eq!(theirs.len(), KEYS, "Java reported every record");
    assert_eq!(ours, theirs, "each key's partition, ours vs Java's");

    // And in the log: each key's two records (one from each producer) share a partition.
    let client = kafka_client::Client::connect(kafka_client::ClientConfig::new(&bootstrap))
        .await
        .unwrap();
    let mut partitions_of: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
    let mut total = 0;
    for p in 0..PARTITIONS {
        for (_, key, _) in common::read_partition(&client, TOPIC, p).await {
            let key = String::from_utf8(key.unwrap_or_default().to_vec()).unwrap();
            partitions_of.entry(key).or_default().insert(p);
            total += 1;
        }
    }
    assert_eq!(total, 2 * KEYS);
    let split: Vec<&String> = partitions_of
        .iter()
        .filter(|(_, ps)| ps.len() != 1)
        .map(|(k, _)| k)
        .collect();
    assert!(split.is_empty(), "keys on two partitions: {split:?}");
    cluster.shutdown().await;
}
