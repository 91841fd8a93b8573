//! The producer's bounds and recoveries: buffer.memory with max.block.ms, delivery.timeout.ms,
//! and the KIP-360 epoch bump after the broker loses an idempotent producer's sequence.

use std::time::Duration;

use kafka_broker::{Cluster, ClusterConfig, Fault};
use kafka_producer::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use kafka_protocol::{ApiKey, ErrorCode};

async fn cluster() -> Cluster {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    cluster.create_topic("t", 1, &[]).unwrap();
    cluster
}

fn config(cluster: &Cluster) -> ProducerConfig {
    ProducerConfig::new(&cluster.bootstrap_servers())
        .with_client(|c| c.with_retry_backoff(Duration::from_millis(5), Duration::from_millis(20)))
}

#[tokio::test]
async fn a_full_buffer_fails_send_after_max_block() {
    let cluster = cluster().await;
    let producer = Producer::new(
        config(&cluster)
            .with_buffer_memory(4_000)
            .with_max_block(Duration::from_millis(200)),
    )
    .await
    .unwrap();
    // The broker sits on every Produce, so nothing frees the buffer.
    cluster.inject(
        Fault::delay(Duration::from_secs(1))
            .with_api(ApiKey::Produce)
            .with_no_limit(),
    );
    let mut held = Vec::new();
    let err = loop {
        match producer
            .send(ProducerRecord::new("t").with_value(vec![0u8; 500]))
            .await
        {
            Ok(f) => held.push(f),
            Err(e) => break e,
        }
        assert!(held.len() < 100, "the buffer never filled");
    };
    assert!(matches!(err, ProducerError::BufferExhausted(200)), "{err}");
    assert!(!held.is_empty());
    cluster.clear_faults();
    producer.close(Duration::from_secs(10)).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn records_not_acknowledged_within_the_delivery_timeout_fail() {
    let cluster = cluster().await;
    let producer = Producer::new(
        config(&cluster)
            .with_delivery_timeout(Duration::from_millis(300))
            .with_client(|c| c.with_request_timeout(Duration::from_millis(100))),
    )
    .await
    .unwrap();
    cluster.inject(
        Fault::fail(ErrorCode::NotEnoughReplicas)
            .with_api(ApiKey::Produce)
            .with_no_limit(),
    );
    let f = producer
        .send(ProducerRecord::new("t").with_value("late"))
        .await
        .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("settled")
        .unwrap_err();
    assert!(matches!(err, ProducerError::DeliveryTimeout(300)), "{err}");
    cluster.clear_faults();
    let ok = producer
        .send(ProducerRecord::new("t").with_value("on time"))
        .await
        .unwrap();
    ok.await.unwrap();
    producer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_lost_sequence_bumps_the_epoch_and_the_records_still_arrive() {
    let cluster = cluster().await;
    let producer = Producer::new(config(&cluster)).await.unwrap();
    let first = producer
        .send(ProducerRecord::new("t").with_value("a"))
        .await
        .unwrap();
    first.await.unwrap();
    cluster.clear_request_log();
    cluster.inject(
        Fault::fail(ErrorCode::OutOfOrderSequenceNumber)
            .with_api(ApiKey::Produce)
            .with_times(1),
    );
    let second = producer
        .send(ProducerRecord::new("t").with_value("b"))
        .await
        .unwrap();
    let written = second.await.expect("delivered after the epoch bump");
    assert_eq!(written.offset, 1);
    let init_calls = cluster
        .request_log()
        .iter()
        .filter(|e| e.api_key == ApiKey::InitProducerId.key())
        .count();
    assert_eq!(
        init_calls, 1,
        "one InitProducerId to bump the epoch (KIP-360)"
    );
    producer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}
