//! The fetch memory cap (`fetch.buffer.max.bytes`), measured on a real process: a consumer
//! reading a topic of 1 MiB records with a 64 MiB cap must keep its resident memory under the
//! cap plus a fixed overhead, with 1, 16 or 64 partitions.
//!
//! The broker holds the whole topic in memory, so the consumer runs in a child process: this
//! test binary runs itself again with `KAFKA_SDK_MEMORY_CHILD` set, and the child reports the
//! growth of its peak resident set (`VmHWM` in `/proc/self/status`) from just before its first
//! poll to after its last. The application side drops each poll's records before the next
//! poll, as a consumer loop does; records it kept would be its own memory, not the consumer's.
//!
//! Linux only (it reads `/proc`); elsewhere it prints that it skipped. It runs without the
//! libtest harness (`harness = false` in Cargo.toml) because it is a parent and a child.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset};
use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_protocol::TopicName;

const CHILD_ENV: &str = "KAFKA_SDK_MEMORY_CHILD";
const MIB: usize = 1024 * 1024;
/// The consumer's fetch memory cap.
const CAP: usize = 64 * MIB;
/// What the process may grow by beyond the cap: the response being read off the socket past
/// a fetch's `max_bytes` (KIP-74 lets one whole batch through), allocator slack, and the
/// tokio and connection buffers a first poll sets up.
const OVERHEAD: usize = 32 * MIB;
const RECORD_SIZE: usize = MIB;
/// 2.5 times the cap, so that a consumer ignoring the cap would show it.
const RECORDS: usize = 160;
/// `max.partition.fetch.bytes`, well above Java's 1 MiB default: with the default
/// `fetch.max.bytes` (50 MiB) three brokers' fetches could bring 150 MiB at once, and only the
/// cap keeps them to 64 MiB.
const PARTITION_MAX: usize = 16 * MIB;

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    if !cfg!(target_os = "linux") {
        println!("SKIPPED: the memory test reads /proc/self/status (Linux only)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(parent());
}

async fn parent() {
    let cluster = Cluster::start(
        ClusterConfig::default()
            .with_brokers(3)
            .with_message_max_bytes(4 * MIB as i32),
    )
    .await
    .expect("cluster");
    let mut failures = Vec::new();
    for partitions in [1, 16, 64] {
        let topic = format!("mem-{partitions}");
        cluster
            .create_topic(&topic, partitions, &[])
            .expect("topic");
        produce(&cluster, &topic).await;
        let spec = format!(
            "{} {topic} {partitions} {RECORDS}",
            cluster.bootstrap_servers()
        );
        let report = tokio::task::spawn_blocking(move || run_child(&spec))
            .await
            .expect("child runner");
        let grew = report.peak_kib.saturating_sub(report.baseline_kib) * 1024;
        println!(
            "memory: {partitions} partitions: read {} records ({} MiB); resident memory grew by \
             {:.1} MiB (cap {} MiB + {} MiB overhead)",
            report.records,
            report.bytes / MIB,
            grew as f64 / MIB as f64,
            CAP / MIB,
            OVERHEAD / MIB
        );
        if report.records != RECORDS || report.bytes != RECORDS * RECORD_SIZE {
            failures.push(format!("{partitions} partitions: {report:?}"));
        }
        if grew > CAP + OVERHEAD {
            failures.push(format!(
                "{partitions} partitions: grew by {grew} bytes, over {}",
                CAP + OVERHEAD
            ));
        }
    }
    cluster.shutdown().await;
    assert!(failures.is_empty(), "{failures:#?}");
    println!("test memory ... ok");
}

/// Writes `RECORDS` records of `RECORD_SIZE` bytes, spread over the topic's partitions.
async fn produce(cluster: &Cluster, topic: &str) {
    let mut config = ProducerConfig::new(&cluster.bootstrap_servers())
        .with_linger(Duration::from_millis(1))
        .with_batch_size(RECORD_SIZE);
    config.max_request_size = 4 * MIB;
    let producer = Producer::new(config).await.expect("producer");
    let value = bytes::Bytes::from(vec![b'x'; RECORD_SIZE]);
    let mut pending = Vec::new();
    for i in 0..RECORDS {
        let record = ProducerRecord::new(topic)
            .with_key(format!("k{i}"))
            .with_value(value.clone());
        pending.push(producer.send(record).await.expect("send"));
        // Bound what the producer holds (the parent's memory does not matter, its time does).
        if pending.len() == 16 {
            for f in pending.drain(..) {
                f.await.expect("delivered");
            }
        }
    }
    for f in pending {
        f.await.expect("delivered");
    }
    producer.close(Duration::from_secs(10)).await;
}

/// What the child reports.
#[derive(Debug)]
struct Report {
    baseline_kib: usize,
    peak_kib: usize,
    records: usize,
    bytes: usize,
}

/// Runs this binary as the consumer child and parses its report; a child that runs over a
/// minute is killed.
fn run_child(spec: &str) -> Report {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .env(CHILD_ENV, spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("child starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the consumer child ran over a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out).expect("child output");
    }
    assert!(status.success(), "child failed: {status}; said {out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("report "))
        .unwrap_or_else(|| panic!("no report in {out:?}"));
    let field = |name: &str| -> usize {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
    };
    Report {
        baseline_kib: field("baseline_kib"),
        peak_kib: field("peak_kib"),
        records: field("records"),
        bytes: field("bytes"),
    }
}

/// A `kB` field of `/proc/self/status`.
fn status_kib(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// The consumer side: reads `count` records from every partition of the topic and prints
/// `report baseline_kib=... peak_kib=... records=... bytes=...`.
fn child(spec: &str) {
    let parts: Vec<&str> = spec.split_whitespace().collect();
    let [bootstrap, topic, partitions, count] = parts[..] else {
        panic!("bad child spec {spec:?}");
    };
    let partitions: i32 = partitions.parse().expect("partitions");
    let count: usize = count.parse().expect("count");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let config = ConsumerConfig::new(bootstrap)
            .with_auto_offset_reset(OffsetReset::Earliest)
            .with_fetch_memory(CAP, PARTITION_MAX as i32);
        let mut consumer = Consumer::new(config).await.expect("consumer");
        consumer.assign((0..partitions).map(|p| (TopicName::from(topic), p)));
        let baseline_kib = status_kib("VmRSS");
        let (mut records, mut bytes) = (0, 0);
        let deadline = Instant::now() + Duration::from_secs(50);
        while records < count {
            assert!(Instant::now() < deadline, "read {records} of {count}");
            let polled = consumer.poll(Duration::from_millis(200)).await.expect("poll");
            records += polled.len();
            bytes += polled
                .iter()
                .map(|r| r.value.as_ref().map_or(0, |v| v.len()))
                .sum::<usize>();
            // The records (slices of the fetched buffers) go here, before the next poll,
            // after a little work: time for prefetching to fill whatever it is allowed.
            drop(polled);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let peak_kib = status_kib("VmHWM");
        consumer.close(Duration::from_secs(2)).await;
        println!("report baseline_kib={baseline_kib} peak_kib={peak_kib} records={records} bytes={bytes}");
    });
}
