//! The send path allocates per batch, not per record: counted with an instrumented global
//! allocator while records are enqueued.
//!
//! The runtime is single-threaded and `send` does not yield while buffer space and metadata
//! are available, so nothing else (the sender task, the in-process broker) runs inside the
//! measured loop: what is counted is the send path alone.

use std::alloc::System;
use std::time::Duration;

use kafka_broker::{Cluster, ClusterConfig};
use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[tokio::test(flavor = "current_thread")]
async fn enqueueing_costs_less_than_one_allocation_per_hundred_records() {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    cluster.create_topic("alloc", 4, &[]).unwrap();
    let producer = Producer::new(
        ProducerConfig::new(&cluster.bootstrap_servers()).with_linger(Duration::from_millis(50)),
    )
    .await
    .unwrap();
    let value = bytes::Bytes::from(vec![7u8; 100]);
    let keys: Vec<bytes::Bytes> = (0..1_000).map(|i| format!("key-{i}").into()).collect();
    let make = |i: usize| {
        ProducerRecord::new("alloc")
            .with_key(keys[i % keys.len()].clone())
            .with_value(value.clone())
    };
    // Warm up: the batches' buffers come back to the pool, metadata is known.
    for round in 0..3 {
        let records: Vec<ProducerRecord> = (0..20_000).map(make).collect();
        let mut futures = Vec::with_capacity(records.len());
        let region = Region::new(GLOBAL);
        for r in records {
            futures.push(producer.send(r).await.unwrap());
        }
        let stats = region.change();
        producer.flush().await;
        for f in futures {
            f.await.unwrap();
        }
        if round == 2 {
            // 20,000 records: at most 200 allocations (one per 100 records).
            println!(
                "send path: {} allocations for 20000 records",
                stats.allocations + stats.reallocations
            );
            assert!(
                stats.allocations + stats.reallocations <= 200,
                "{} allocations and {} reallocations for 20000 records",
                stats.allocations,
                stats.reallocations
            );
        }
    }
    producer.close(Duration::from_secs(5)).await;
    cluster.shutdown().await;
}
