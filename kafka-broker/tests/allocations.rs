//! Producing and fetching through the broker allocates per batch, not per record: 10,000
//! records in batches of 100, written as Produce frames to an in-memory connection and read
//! back with Fetch, counted with an instrumented global allocator.
//!
//! One test in its own binary, on a current-thread runtime, so that the count is this traffic
//! and nothing else.

use std::alloc::System;

use bytes::{Bytes, BytesMut};
use kafka_broker::{Cluster, ClusterConfig};
use kafka_protocol::frame;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{FetchRequest, ProduceRequest};
use kafka_protocol::records::{Compression, RecordBatchBuilder, RecordHeader};
use kafka_protocol::Request;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const BATCHES: usize = 100;
const PER_BATCH: usize = 100;

fn frame_of<R: Request>(request: &R, version: i16) -> Bytes {
    let mut buf = BytesMut::new();
    frame::encode_request(&mut buf, 1, Some("alloc"), request, version).unwrap();
    buf.freeze()
}

async fn round_trip(stream: &mut tokio::io::DuplexStream, request: &[u8], buf: &mut Vec<u8>) {
    stream.write_all(request).await.unwrap();
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).await.unwrap();
    buf.resize(u32::from_be_bytes(prefix) as usize, 0);
    stream.read_exact(buf).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn produce_and_fetch_allocate_per_batch_not_per_record() {
    let cluster = std::sync::Arc::new(Cluster::start(ClusterConfig::default()).await.unwrap());
    cluster.create_topic("alloc", 1, &[]).unwrap();
    let (mut client, server) = tokio::io::duplex(4 << 20);
    let serving = std::sync::Arc::clone(&cluster);
    tokio::spawn(async move {
        let _ = serving.serve_connection(0, server).await;
    });
    // Each record has a header: a decoder that materialised records would allocate for it.
    let mut builder = RecordBatchBuilder::new(Compression::None);
    let header = [RecordHeader::new("trace", Some(Bytes::from_static(b"abc")))];
    for i in 0..PER_BATCH {
        let key = format!("key-{i}");
        builder
            .append(i as i64, Some(key.as_bytes()), Some(&[7u8; 100]), &header)
            .unwrap();
    }
    let batch = builder.build().unwrap();
    let produce = frame_of(
        &ProduceRequest::default()
            .with_acks(1)
            .with_timeout_ms(10_000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name("alloc".to_string())
                .with_partition_data(vec![PartitionProduceData::default()
                    .with_index(0)
                    .with_records(Some(batch))])]),
        9,
    );
    let mut buf = Vec::with_capacity(4 << 20);
    // Warm up: the connection's buffers, the partition's structures.
    round_trip(&mut client, &produce, &mut buf).await;

    let region = Region::new(GLOBAL);
    for _ in 0..BATCHES {
        round_trip(&mut client, &produce, &mut buf).await;
    }
    let produced = region.change();
    let produce_allocations = produced.allocations + produced.reallocations;

    let id = cluster.topic_id("alloc").unwrap();
    let fetch = frame_of(
        &FetchRequest::default()
            .with_replica_id(kafka_protocol::BrokerId(-1))
            .with_max_wait_ms(0)
            .with_min_bytes(1)
            .with_max_bytes(64 << 20)
            .with_topics(vec![FetchTopic::default()
                .with_topic_id(id)
                .with_partitions(vec![FetchPartition::default()
                    .with_partition(0)
                    .with_fetch_offset(0)
                    .with_partition_max_bytes(64 << 20)])]),
        16,
    );
    let region = Region::new(GLOBAL);
    round_trip(&mut client, &fetch, &mut buf).await;
    let fetched = region.change();
    let fetch_allocations = fetched.allocations + fetched.reallocations;
    // Every batch came back.
    assert!(
        buf.len() > (BATCHES + 1) * PER_BATCH * 100,
        "{} bytes",
        buf.len()
    );

    let records = BATCHES * PER_BATCH;
    println!(
        "produce: {produce_allocations} allocations for {records} records ({} per batch); fetch: {fetch_allocations}",
        produce_allocations / BATCHES
    );
    // Per batch, a bounded handful; per record, none.
    assert!(
        produce_allocations <= 20 * BATCHES,
        "produce: {produce_allocations} allocations for {BATCHES} batches of {PER_BATCH}"
    );
    assert!(
        fetch_allocations <= 2 * (BATCHES + 1) + 50,
        "fetch: {fetch_allocations} allocations for {} batches",
        BATCHES + 1
    );
}
