//! The bundled broker's produce and fetch path with no client: prebuilt Produce and Fetch frames
//! written to an in-memory connection ([`Cluster::serve_connection`]) and the answers read back,
//! so the figures are the broker's own (framing, decoding, validation, the log, encoding).
//!
//! Produce: 100 B and 1 KiB values, uncompressed and lz4, one partition and 64 per request,
//! acks=1. Fetch: one partition, 1 MiB per response. Criterion reports time per record
//! (`Throughput::Elements`); before the timed runs each case prints its heap allocations per
//! record, counted by a global allocator.
//!
//! Run briefly with
//! `cargo bench -p kafka-broker --bench broker_path -- --warm-up-time 1 --measurement-time 3`.

use std::alloc::System;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kafka_broker::{Cluster, ClusterConfig};
use kafka_protocol::frame;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{FetchRequest, ProduceRequest};
use kafka_protocol::records::{Compression, RecordBatchBuilder};
use kafka_protocol::{ApiKey, Request};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Counts heap allocations, to report them per record.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations (and reallocations) so far.
fn allocations() -> u64 {
    let stats = GLOBAL.stats();
    (stats.allocations + stats.reallocations) as u64
}

/// Record batch size the cases aim at (the producer's default `batch.size`).
const BATCH_BYTES: usize = 16 * 1024;

/// One client connection to broker 0, in memory.
struct Conn {
    stream: DuplexStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(cluster: &Arc<Cluster>) -> Conn {
        let (client, server) = tokio::io::duplex(4 << 20);
        let cluster = Arc::clone(cluster);
        // The connection task runs for as long as the client end is open.
        tokio::spawn(async move {
            let _ = cluster.serve_connection(0, server).await;
        });
        Conn {
            stream: client,
            buf: Vec::with_capacity(2 << 20),
        }
    }

    /// Writes a request frame and reads its response frame; returns the response's size.
    async fn round_trip(&mut self, request: &[u8]) -> usize {
        self.stream.write_all(request).await.expect("write");
        let mut prefix = [0u8; 4];
        self.stream.read_exact(&mut prefix).await.expect("size");
        let size = u32::from_be_bytes(prefix) as usize;
        self.buf.resize(size, 0);
        self.stream.read_exact(&mut self.buf).await.expect("body");
        size
    }
}

fn frame_of<R: Request>(request: &R, version: i16) -> Bytes {
    let mut buf = BytesMut::new();
    frame::encode_request(&mut buf, 1, Some("bench"), request, version).expect("encode");
    buf.freeze()
}

/// A batch of `count` records of `value_len` bytes (JSON-like, so lz4 has work to do).
fn batch(count: usize, value_len: usize, compression: Compression) -> Bytes {
    let mut builder = RecordBatchBuilder::new(compression);
    for i in 0..count {
        let mut value = format!("{{\"order\":{i},\"amount\":{},\"note\":\"", i * 7 % 1000);
        while value.len() < value_len - 2 {
            value.push_str("abcdefghij");
        }
        value.truncate(value_len - 2);
        value.push_str("\"}");
        builder
            .append(
                1_700_000_000_000 + i as i64,
                Some(format!("key-{i}").as_bytes()),
                Some(value.as_bytes()),
                &[],
            )
            .expect("append");
    }
    builder.build().expect("build")
}

/// A Produce request (acks=1, by name at v9) with one batch for each of `partitions`.
fn produce_frame(topic: &str, partitions: i32, batch: &Bytes) -> Bytes {
    let request = ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic.to_string())
            .with_partition_data(
                (0..partitions)
                    .map(|p| {
                        PartitionProduceData::default()
                            .with_index(p)
                            .with_records(Some(batch.clone()))
                    })
                    .collect(),
            )]);
    frame_of(&request, 9)
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cluster = Arc::new(
        runtime
            .block_on(Cluster::start(ClusterConfig::default()))
            .expect("cluster"),
    );
    // Retention keeps the log (and the process) small however long criterion runs.
    for (topic, partitions) in [("bench-1", 1), ("bench-64", 64)] {
        cluster
            .create_topic(topic, partitions, &[("retention.bytes", "4194304")])
            .expect("topic");
    }
    cluster.create_topic("bench-fetch", 1, &[]).expect("topic");
    let mut conn = runtime.block_on(Conn::open(&cluster));

    let mut group = c.benchmark_group("broker_produce");
    for value_len in [100usize, 1024] {
        let count = BATCH_BYTES / (value_len + 20);
        for compression in [Compression::None, Compression::Lz4] {
            let batch = batch(count, value_len, compression);
            for (topic, partitions) in [("bench-1", 1), ("bench-64", 64)] {
                let request = produce_frame(topic, partitions, &batch);
                let records = count as u64 * partitions as u64;
                let name = format!("{value_len}B/{compression:?}/{partitions}p");
                let before = allocations();
                runtime.block_on(async {
                    for _ in 0..20 {
                        conn.round_trip(&request).await;
                    }
                });
                let allocations = allocations() - before;
                println!(
                    "allocations {name}: {:.3} per record ({} per request)",
                    allocations as f64 / (20 * records) as f64,
                    allocations / 20
                );
                group.throughput(Throughput::Elements(records));
                group.bench_function(BenchmarkId::new("produce", &name), |b| {
                    b.iter(|| runtime.block_on(conn.round_trip(&request)))
                });
            }
        }
    }
    group.finish();

    // Fetch: a prefilled partition read from the start, 1 MiB per response.
    let fill = batch(BATCH_BYTES / 120, 100, Compression::None);
    let fill_request = produce_frame("bench-fetch", 1, &fill);
    runtime.block_on(async {
        for _ in 0..128 {
            conn.round_trip(&fill_request).await;
        }
    });
    let topic_id = cluster.topic_id("bench-fetch").expect("topic id");
    let fetch = FetchRequest::default()
        .with_replica_id(kafka_protocol::BrokerId(-1))
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic_id(topic_id)
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(0)
                .with_partition_max_bytes(1 << 20)])]);
    let fetch_frame = frame_of(&fetch, ApiKey::Fetch.max_stable_version().min(16));
    let response_bytes = runtime.block_on(conn.round_trip(&fetch_frame));
    let records = (response_bytes / fill.len()) as u64 * (BATCH_BYTES / 120) as u64;
    let before = allocations();
    runtime.block_on(async {
        for _ in 0..20 {
            conn.round_trip(&fetch_frame).await;
        }
    });
    println!(
        "allocations fetch 100B/None/1p: {:.3} per record ({} per request)",
        (allocations() - before) as f64 / (20 * records.max(1)) as f64,
        (allocations() - before) / 20
    );
    let mut group = c.benchmark_group("broker_fetch");
    group.throughput(Throughput::Elements(records.max(1)));
    group.bench_function("fetch/100B/None/1p", |b| {
        b.iter(|| runtime.block_on(conn.round_trip(&fetch_frame)))
    });
    group.finish();
    drop(conn);
}

criterion_group!(benches, bench);
criterion_main!(benches);
