//! The send path, ours against rust-rdkafka's (librdkafka) in the same run: how long enqueueing
//! one record takes (partitioning, appending to its partition's batch), with 100-byte and
//! 1 KiB values and keyed records.
//!
//! Both producers talk to the same bundled broker, started in this process; batches are sent
//! and acknowledged outside the measured loop (after each sample), so the figures are the
//! enqueue cost the caller pays. Run with `cargo bench` in this folder.

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kafka_broker::{Cluster, ClusterConfig};
use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_protocol::TopicName;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};

const TOPIC: &str = "bench";
const PARTITIONS: i32 = 12;

fn send(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cluster = rt.block_on(async {
        let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
        cluster.create_topic(TOPIC, PARTITIONS, &[]).unwrap();
        cluster
    });
    let bootstrap = cluster.bootstrap_servers();
    let ours = rt.block_on(async {
        Producer::new(
            ProducerConfig::new(&bootstrap)
                .with_linger(Duration::from_millis(5))
                .with_buffer_memory(1 << 30),
        )
        .await
        .unwrap()
    });
    let theirs: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("linger.ms", "5")
        .set("enable.idempotence", "true")
        .set("queue.buffering.max.messages", "10000000")
        .set("queue.buffering.max.kbytes", "1048576")
        .create()
        .unwrap();
    let keys: Vec<Bytes> = (0..10_000)
        .map(|i| Bytes::from(format!("key-{i}")))
        .collect();
    // Made once and cloned into each record (a reference count, no allocation), as rdkafka's
    // records borrow their topic.
    let topic = TopicName::from_static(TOPIC);

    let mut group = c.benchmark_group("send");
    group.measurement_time(Duration::from_secs(5));
    for size in [100usize, 1024] {
        let value = Bytes::from(vec![b'x'; size]);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("kafka-producer", size), &size, |b, _| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut futures = Vec::with_capacity(iters as usize);
                    let start = Instant::now();
                    for i in 0..iters as usize {
                        let record = ProducerRecord::new(topic.clone())
                            .with_key(keys[i % keys.len()].clone())
                            .with_value(value.clone());
                        futures.push(ours.send(record).await.unwrap());
                    }
                    let elapsed = start.elapsed();
                    ours.flush().await;
                    drop(futures);
                    elapsed
                })
            })
        });
        group.bench_with_input(BenchmarkId::new("rdkafka", size), &size, |b, _| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for i in 0..iters as usize {
                    let key = &keys[i % keys.len()];
                    let record = BaseRecord::to(TOPIC).key(&key[..]).payload(&value[..]);
                    if let Err((e, _)) = theirs.send(record) {
                        panic!("rdkafka send: {e}");
                    }
                }
                let elapsed = start.elapsed();
                theirs.flush(Duration::from_secs(60)).unwrap();
                elapsed
            })
        });
    }
    group.finish();
    rt.block_on(async {
        ours.close(Duration::from_secs(5)).await;
        cluster.shutdown().await;
    });
}

criterion_group!(benches, send);
criterion_main!(benches);
