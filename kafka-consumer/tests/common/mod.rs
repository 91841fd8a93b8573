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
