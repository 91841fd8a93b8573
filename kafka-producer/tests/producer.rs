//! The producer against the bundled broker: partitioning, ordering, acks, faults.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use kafka_broker::{Cluster, ClusterConfig, Fault};
use kafka_producer::partitioner::partition_for_key;
use kafka_producer::{Acks, Producer, ProducerConfig, ProducerError, ProducerRecord};
use kafka_protocol::{ApiKey, ErrorCode};

async fn cluster(brokers: usize) -> Cluster {
    Cluster::start(ClusterConfig::default().with_brokers(brokers))
        .await
        .expect("bundled cluster starts")
}

fn config(cluster: &Cluster) -> ProducerConfig {
    ProducerConfig::new(&cluster.bootstrap_servers()).with_client(|c| {
        c.with_retry_backoff(Duration::from_millis(5), Duration::from_millis(50))
            .with_reconnect_backoff(Duration::from_millis(5), Duration::from_millis(50))
    })
}

/// Checks that partition `p` holds exactly the values `expected`, in order, at offsets 0..n.
async fn assert_partition(client: &kafka_client::Client, topic: &str, p: i32, expected: &[String]) {
    let got = common::read_partition(client, topic, p).await;
    let values: Vec<String> = got
        .iter()
        .map(|(_, _, v)| String::from_utf8(v.clone().unwrap_or_default().to_vec()).unwrap())
        .collect();
    assert_eq!(values.len(), expected.len(), "{topic}/{p}: record count");
    let first_bad = values.iter().zip(expected).position(|(a, b)| a != b);
    assert_eq!(first_bad, None, "{topic}/{p}: first record out of place");
    let offsets: Vec<i64> = got.iter().map(|r| r.0).collect();
    assert_eq!(offsets, (0..expected.len() as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn keyed_records_land_where_java_puts_them_in_send_order() {
    let cluster = cluster(3).await;
    cluster.create_topic("keyed", 6, &[]).unwrap();
    let producer = Producer::new(config(&cluster)).await.unwrap();
    let mut expected: HashMap<i32, Vec<String>> = HashMap::new();
    let mut futures = Vec::new();
    for i in 0..3_000 {
        let key = format!("key-{}", i % 97);
        let value = format!("v{i}");
        let p = partition_for_key(key.as_bytes(), 6);
        expected.entry(p).or_default().push(value.clone());
        futures.push((
            p,
            producer
                .send(ProducerRecord::new("keyed").with_key(key).with_value(value))
                .await
                .unwrap(),
        ));
    }
    let mut last_offset: HashMap<i32, i64> = HashMap::new();
    for (p, f) in futures {
        let md = f.await.unwrap();
        assert_eq!(md.partition, p);
        // Offsets grow in send order within a partition.
        let prev = last_offset.insert(p, md.offset);
        assert!(
            prev.is_none_or(|o| o < md.offset),
            "partition {p}: {prev:?} then {}",
            md.offset
        );
        assert!(md.timestamp > 0);
    }
    for (p, values) in &expected {
        assert_partition(producer.client(), "keyed", *p, values).await;
    }
    let m = producer.metrics();
    assert_eq!(m.records_sent, 3_000);
    assert_eq!(m.buffer_used, 0);
    assert!(m.batches_sent > 0 && m.mean_batch_bytes > 0);
    assert!((1..=100).contains(&m.mean_batch_fill_percent), "{m:?}");
    producer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn keyless_records_stick_to_a_partition_per_batch() {
    let cluster = cluster(1).await;
    cluster.create_topic("sticky", 4, &[]).unwrap();
    let producer = Producer::new(config(&cluster).with_batch_size(2_000))
        .await
        .unwrap();
    let mut partitions = Vec::new();
    for i in 0..400 {
        let f = producer
            .send(ProducerRecord::new("sticky").with_value(format!("{i:040}")))
            .await
            .unwrap();
        partitions.push(f);
    }
    let mut seen = Vec::new();
    for f in partitions {
        seen.push(f.await.unwrap().partition);
    }
    // Runs of one partition, each about a batch (2000 bytes / ~72 bytes per record).
    let switches = seen.windows(2).filter(|w| w[0] != w[1]).count();
    assert!((5..=30).contains(&switches), "{switches} switches");
    let used: std::collections::BTreeSet<i32> = seen.iter().copied().collect();
    assert!(used.len() >= 2, "{used:?}");
    producer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_million_records_through_retriable_errors_dropped_connections_and_a_leader_move_arrive_once_in_order(
) {
    let cluster = cluster(3).await;
    cluster.create_topic("faulty", 12, &[]).unwrap();
    let producer = Producer::new(
        config(&cluster)
            .with_linger(Duration::from_millis(2))
            .with_client(|c| c.with_request_timeout(Duration::from_millis(500))),
    )
    .await
    .unwrap();
    let mut expected: HashMap<i32, Vec<String>> = HashMap::new();
    let mut futures = Vec::new();
    let total = 1_000_000;
    for i in 0..total {
        match i {
            50_000 => cluster.inject(
                Fault::fail(ErrorCode::NotLeaderOrFollower)
                    .with_api(ApiKey::Produce)
                    .with_times(5),
            ),
            15_000 => cluster.inject(
                Fault::drop_after_apply()
                    .with_api(ApiKey::Produce)
                    .with_times(3),
            ),
            25_000 => cluster.inject(
                Fault::delay(Duration::from_millis(800))
                    .with_api(ApiKey::Produce)
                    .with_times(2),
            ),
            600_000 => {
                let (leader, _) = cluster.partition_leader("faulty", 3).unwrap();
                cluster.move_leader("faulty", 3, (leader + 1) % 3).unwrap();
            }
            45_000 => cluster.inject(
                Fault::drop_before_apply()
                    .with_api(ApiKey::Produce)
                    .with_times(3),
            ),
            _ => {}
        }
        let key = format!("key-{i}");
        let value = format!("v{i}");
        let p = partition_for_key(key.as_bytes(), 12);
        expected.entry(p).or_default().push(value.clone());
        futures.push(
            producer
                .send(
                    ProducerRecord::new("faulty")
                        .with_key(key)
                        .with_value(value),
                )
                .await
                .unwrap(),
        );
    }
    for f in futures {
        f.await.unwrap();
    }
    for p in 0..12 {
        assert_partition(producer.client(), "faulty", p, &expected[&p]).await;
    }
    assert!(producer.metrics().retries > 0);
    producer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn acks_zero_and_one_without_idempotence() {
    let cluster = cluster(1).await;
    cluster.create_topic("acks", 1, &[]).unwrap();
    for (acks, name) in [(Acks::None, "none"), (Acks::Leader, "leader")] {
        let producer = Producer::new(config(&cluster).with_idempotence(false).with_acks(acks))
            .await
            .unwrap();
        let f = producer
            .send(ProducerRecord::new("acks").with_value(name))
            .await
            .unwrap();
        let md = f.await.unwrap();
        if acks == Acks::None {
            assert_eq!(md.offset, -1);
        } else {
            assert!(md.offset >= 0);
        }
        producer.close(Duration::from_secs(5)).await;
    }
    let client = kafka_client::Client::connect(kafka_client::ClientConfig::new(
        &cluster.bootstrap_servers(),
    ))
    .await
    .unwrap();
    let values: Vec<Option<Bytes>> = common::read_partition(&client, "acks", 0)
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(
        values,
        vec![Some(Bytes::from("none")), Some(Bytes::from("leader"))]
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn refused_batches_fail_their_records_with_the_broker_error() {
    let cluster = cluster(1).await;
    cluster.create_topic("refused", 1, &[]).unwrap();
    let producer = Producer::new(config(&cluster)).await.unwrap();
    cluster.inject(Fault::fail(ErrorCode::InvalidRecord).with_api(ApiKey::Produce));
    let f = producer
        .send(ProducerRecord::new("refused").with_value("x"))
        .await
        .unwrap();
    let err = f.await.unwrap_err();
    assert!(
        matches!(err, ProducerError::Broker(ErrorCode::InvalidRecord)),
        "{err}"
    );
    // The next record is unaffected.
    let ok = producer
        .send(ProducerRecord::new("refused").with_value("y"))
        .await
        .unwrap();
    ok.await.unwrap();
    producer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn oversized_records_and_bad_partitions_fail_alone() {
    let cluster = cluster(1).await;
    cluster.create_topic("limits", 2, &[]).unwrap();
    let producer = Producer::new(config(&cluster)).await.unwrap();
    let big = ProducerRecord::new("limits").with_value(vec![0u8; 2 << 20]);
    assert!(matches!(
        producer.send(big).await,
        Err(ProducerError::RecordTooLarge {
            setting: "max.request.size",
            ..
        })
    ));
    let bad = ProducerRecord::new("limits")
        .with_value("x")
        .with_partition(7);
    assert!(matches!(
        producer.send(bad).await,
        Err(ProducerError::UnknownPartition { partition: 7, .. })
    ));
    let fine = producer
        .send(
            ProducerRecord::new("limits")
                .with_value("x")
                .with_partition(1),
        )
        .await
        .unwrap();
    assert_eq!(fine.await.unwrap().partition, 1);
    producer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn topics_are_auto_created_on_first_send() {
    let cluster = cluster(1).await;
    let producer = Producer::new(config(&cluster)).await.unwrap();
    let f = producer
        .send(ProducerRecord::new("fresh").with_value("x"))
        .await
        .unwrap();
    let md = f.await.unwrap();
    assert_eq!(md.offset, 0);
    producer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn flush_sends_despite_a_long_linger_and_close_fails_the_rest() {
    let cluster = cluster(1).await;
    cluster.create_topic("linger", 1, &[]).unwrap();
    let producer = Producer::new(config(&cluster).with_linger(Duration::from_secs(3_600)))
        .await
        .unwrap();
    let f = producer
        .send(ProducerRecord::new("linger").with_value("x"))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), producer.flush())
        .await
        .expect("flush returns");
    assert_eq!(f.await.unwrap().offset, 0);
    producer.close(Duration::from_secs(5)).await;
    let after = producer
        .send(ProducerRecord::new("linger").with_value("y"))
        .await;
    assert!(matches!(after, Err(ProducerError::Closed)));
    cluster.shutdown().await;
}

/// Regression: choosing a sticky partition once locked the accumulator before the metadata,
/// the reverse of the sender's order, and a busy producer deadlocked. A deadlock blocks the
/// runtime's threads, so the producer runs on its own runtime in its own thread and this test
/// waits for it with a timeout of its own.
#[test]
fn many_keyless_records_on_a_multi_threaded_runtime_all_arrive() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let cluster = cluster(3).await;
            cluster.create_topic("keyless", 6, &[]).unwrap();
            let producer = Producer::new(
                config(&cluster)
                    .with_idempotence(false)
                    .with_acks(Acks::Leader),
            )
            .await
            .unwrap();
            let mut futures = Vec::new();
            for i in 0..50_000 {
                let record = ProducerRecord::new("keyless").with_value(format!("v{i}"));
                futures.push(producer.send(record).await.unwrap());
            }
            for f in futures {
                f.await.unwrap();
            }
            let sent = producer.metrics().records_sent;
            producer.close(Duration::from_secs(5)).await;
            cluster.shutdown().await;
            let _ = done.send(sent);
        });
    });
    let sent = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("every record acknowledged within 60 s (no deadlock)");
    assert_eq!(sent, 50_000);
}

#[tokio::test]
async fn a_batch_the_broker_finds_too_large_is_split_and_every_record_arrives_in_order() {
    let cluster = cluster(1).await;
    cluster
        .create_topic("small-batches", 1, &[("max.message.bytes", "2000")])
        .unwrap();
    for idempotent in [true, false] {
        let producer = Producer::new(
            config(&cluster)
                .with_linger(Duration::from_millis(50))
                .with_idempotence(idempotent)
                .with_acks(if idempotent { Acks::All } else { Acks::Leader }),
        )
        .await
        .unwrap();
        let mut futures = Vec::new();
        for i in 0..200 {
            let value = format!("{idempotent}-{i:04}-{}", "x".repeat(280));
            futures.push(
                producer
                    .send(ProducerRecord::new("small-batches").with_value(value))
                    .await
                    .unwrap(),
            );
        }
        let mut offsets = Vec::new();
        for f in futures {
            offsets.push(
                f.await
                    .expect("every record of a split batch is delivered")
                    .offset,
            );
        }
        assert!(
            offsets.windows(2).all(|w| w[1] == w[0] + 1),
            "consecutive offsets: {offsets:?}"
        );
        assert!(producer.metrics().retries > 0, "the batch was split");
        producer.close(Duration::from_secs(5)).await;
    }
    let client = kafka_client::Client::connect(kafka_client::ClientConfig::new(
        &cluster.bootstrap_servers(),
    ))
    .await
    .unwrap();
    let values: Vec<String> = common::read_partition(&client, "small-batches", 0)
        .await
        .into_iter()
        .map(|(_, _, v)| {
            String::from_utf8(v.unwrap_or_default().to_vec()).unwrap()[..10].to_string()
        })
        .collect();
    let expected: Vec<String> = [true, false]
        .iter()
        .flat_map(|b| {
            (0..200).map(move |i| format!("{b}-{i:04}-{}", "x".repeat(280))[..10].to_string())
        })
        .collect();
    assert_eq!(values, expected);
    cluster.shutdown().await;
}
