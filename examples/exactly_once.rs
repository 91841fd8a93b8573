//! Exactly-once consume-transform-produce, with no Kafka installed.
//!
//! Starts a 3-broker cluster in this process, fills an input topic, then runs the classic
//! exactly-once loop: a consumer in a group polls a batch, a transactional producer writes the
//! transformed records to the output topic *and* the consumer's next offsets in one
//! transaction, and commits. Either both land or neither does, so a crash anywhere in the loop
//! can neither lose an input record nor write its output twice (for read_committed readers).
//!
//! To show what an abort means, the loop aborts its third transaction and processes the same
//! records again: read_committed readers never see the aborted copies, read_uncommitted ones do.
//!
//! Run it with `cargo run --example exactly_once`.

use std::collections::BTreeMap;
use std::error::Error;
use std::time::{Duration, Instant};

use kafka_sdk::broker::{Cluster, ClusterConfig};
use kafka_sdk::consumer::{Consumer, ConsumerConfig, IsolationLevel, OffsetReset};
use kafka_sdk::producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_sdk::protocol::TopicName;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const INPUT: &str = "orders";
const OUTPUT: &str = "orders-enriched";
const GROUP: &str = "enricher";
const RECORDS: usize = 1_000;
const PARTITIONS: i32 = 3;
/// Every wait in this example is bounded.
const TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::main]
async fn main() -> Result<()> {
    let cluster = Cluster::start(
        ClusterConfig::default()
            .with_brokers(3)
            .with_group_initial_rebalance_delay_ms(0),
    )
    .await?;
    let bootstrap = cluster.bootstrap_servers();
    cluster.create_topic(INPUT, PARTITIONS, &[])?;
    cluster.create_topic(OUTPUT, PARTITIONS, &[])?;
    println!("started 3 brokers at {bootstrap}; topics {INPUT} and {OUTPUT}");

    // The input: RECORDS plain (non-transactional) records.
    let plain = Producer::new(ProducerConfig::new(&bootstrap)).await?;
    let mut deliveries = Vec::new();
    for i in 0..RECORDS {
        let record = ProducerRecord::new(INPUT)
            .with_key(format!("customer-{}", i % 50))
            .with_value(format!("order {i}"));
        deliveries.push(plain.send(record).await?);
    }
    for d in deliveries {
        d.await?;
    }
    plain.close(TIMEOUT).await;
    println!("produced {RECORDS} input records to {INPUT}");

    // The pipeline. The consumer reads committed data only (the input could itself be written
    // transactionally) and never commits on its own: offsets go through the producer.
    let mut consumer = Consumer::new(
        ConsumerConfig::new(&bootstrap)
            .with_group_id(GROUP)
            .with_isolation_level(IsolationLevel::ReadCommitted)
            .with_auto_offset_reset(OffsetReset::Earliest)
            .with_auto_commit(false, Duration::from_secs(5))
            .with_max_poll_records(200),
    )
    .await?;
    consumer.subscribe([TopicName::from(INPUT)])?;
    // A transactional.id names this pipeline instance: a restarted instance with the same id
    // fences the old one and aborts whatever it left open.
    let producer =
        Producer::new(ProducerConfig::new(&bootstrap).with_transactional_id("enricher-0")).await?;
    producer.init_transactions().await?;

    let (mut transactions, mut committed_records, mut aborted_records) = (0, 0, 0);
    let deadline = Instant::now() + TIMEOUT;
    while committed_records < RECORDS && Instant::now() < deadline {
        let records = consumer.poll(Duration::from_millis(200)).await?;
        if records.is_empty() {
            continue;
        }
        producer.begin_transaction()?;
        transactions += 1;
        let mut next_offsets: BTreeMap<i32, i64> = BTreeMap::new();
        let mut sent = Vec::new();
        for r in &records {
            let value = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default());
            let mut record = ProducerRecord::new(OUTPUT).with_value(value.to_uppercase());
            if let Some(key) = &r.key {
                record = record.with_key(key.clone());
            }
            sent.push(producer.send(record).await?);
            next_offsets.insert(r.partition, r.offset + 1);
        }
        if transactions == 3 {
            // Pretend processing failed: abort, and rewind the consumer to what the group has
            // committed, so the same input is processed again in the next transaction.
            producer.abort_transaction().await?;
            aborted_records += records.len();
            for &p in next_offsets.keys() {
                let tp = (TopicName::from(INPUT), p);
                let committed = consumer.committed(std::slice::from_ref(&tp)).await?;
                let offset = committed.get(&tp).map_or(0, |o| o.offset);
                consumer.seek(INPUT, p, offset);
            }
            println!(
                "transaction {transactions}: aborted {} records",
                records.len()
            );
            continue;
        }
        let offsets: Vec<(String, i32, i64)> = next_offsets
            .iter()
            .map(|(&p, &o)| (INPUT.to_string(), p, o))
            .collect();
        let group = consumer
            .group_metadata()
            .ok_or("the consumer is not in its group")?;
        producer
            .send_offsets_to_transaction(&offsets, &group)
            .await?;
        producer.commit_transaction().await?;
        for d in sent {
            d.await?;
        }
        committed_records += records.len();
        println!(
            "transaction {transactions}: committed {} records and offsets {:?}",
            records.len(),
            next_offsets
        );
    }
    producer.close(TIMEOUT).await;
    consumer.close(TIMEOUT).await;

    // What readers of the output see.
    let committed_view = count(&bootstrap, IsolationLevel::ReadCommitted, RECORDS).await?;
    let uncommitted_view = count(
        &bootstrap,
        IsolationLevel::ReadUncommitted,
        RECORDS + aborted_records,
    )
    .await?;
    println!(
        "{transactions} transactions: {committed_records} records committed, {aborted_records} aborted"
    );
    println!("read_committed reads {committed_view} records from {OUTPUT} (each input once)");
    println!("read_uncommitted reads {uncommitted_view} (the aborted copies too)");
    if committed_view != RECORDS {
        return Err(format!("expected {RECORDS} committed records, read {committed_view}").into());
    }
    cluster.shutdown().await;
    Ok(())
}

/// Counts the output records a reader with `isolation` sees, reading until `expected` came in
/// and a further poll brought nothing (or the timeout).
async fn count(bootstrap: &str, isolation: IsolationLevel, expected: usize) -> Result<usize> {
    let mut reader = Consumer::new(
        ConsumerConfig::new(bootstrap)
            .with_isolation_level(isolation)
            .with_auto_offset_reset(OffsetReset::Earliest),
    )
    .await?;
    reader.assign((0..PARTITIONS).map(|p| (TopicName::from(OUTPUT), p)));
    let mut n = 0;
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        let got = reader.poll(Duration::from_millis(300)).await?.len();
        n += got;
        if got == 0 && n >= expected {
            break;
        }
    }
    reader.close(Duration::from_secs(1)).await;
    Ok(n)
}
