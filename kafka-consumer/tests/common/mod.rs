//! What the consumer tests share: writing records with our producer and remembering where each
//! went.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_producer::{Producer, ProducerConfig, ProducerRecord};

/// Produces records `k{i}` = `v{i}` for `i` in `from..from + count` to `topic` through
/// `bootstrap`, and returns each partition's values in the order they were written.
pub async fn produce(
    bootstrap: &str,
    topic: &str,
    from: usize,
    count: usize,
) -> BTreeMap<i32, Vec<String>> {
    let producer = Producer::new(ProducerConfig::new(bootstrap)).await.unwrap();
    let mut futures = Vec::with_capacity(count);
    for i in from..from + count {
        let record = ProducerRecord::new(topic)
            .with_key(format!("k{i}"))
            .with_value(format!("v{i}"));
        futures.push((format!("v{i}"), producer.send(record).await.unwrap()));
    }
    let mut by_partition: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for (value, f) in futures {
        by_partition
            .entry(f.await.unwrap().partition)
            .or_default()
            .push(value);
    }
    producer.close(Duration::from_secs(10)).await;
    by_partition
}

/// Creates `topic` with `partitions` partitions and `replication` replicas through `bootstrap`
/// (for real Kafka; the bundled broker's tests create topics directly).
#[allow(dead_code)]
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32, replication: i16) {
    use kafka_client::{Client, ClientConfig};
    use kafka_protocol::messages::create_topics_request::CreatableTopic;
    use kafka_protocol::messages::CreateTopicsRequest;
    use kafka_protocol::ErrorCode;

    let client = Client::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let create = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic)
            .with_num_partitions(partitions)
            .with_replication_factor(replication)]);
    let created = client
        .any_connection()
        .await
        .unwrap()
        .send(&create)
        .await
        .unwrap();
    assert_eq!(created.topics[0].error_code, ErrorCode::None, "{created:?}");
    // Wait until the leaders are known, so that the first produce finds them.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let _ = client.refresh_metadata(&[topic.into()], false).await;
        let ready = {
            let md = client.metadata();
            (0..partitions).all(|p| md.leader(topic, p).is_some())
        };
        if ready {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no leaders for {topic}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Logs through `tracing` to stderr when `RUST_LOG` is set (e.g.
/// `RUST_LOG=kafka_consumer=debug,kafka_broker=debug`), for reading a failed run.
#[allow(dead_code)]
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}
