//! A million records, three members, and faults, against the bundled broker (3 brokers, 12
//! partitions). Each member commits after it has processed what a poll returned, and commits
//! again in its revoke callback, so:
//!
//! * with members joining, leaving and one killed without leaving, every record is processed
//!   at least once (a killed member's uncommitted work is redone by the next owner);
//! * with no faults (members join, then all read to the end), every record is processed exactly
//!   once, rebalances included;
//! * in both, the group's committed offsets, watched from outside the group, never go backwards.

#[allow(dead_code)]
mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset, RebalanceListener, TopicPartition};
use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_protocol::TopicName;
use tokio::task::JoinHandle;
use tracing::Instrument;

const TOPIC: &str = "million";
const PARTITIONS: i32 = 12;
const RECORDS: usize = 1_000_000;

/// How many times each offset of each partition was processed.
#[derive(Debug)]
struct Ledger {
    counts: Vec<Vec<u8>>,
    /// Distinct (partition, offset) pairs processed at least once.
    distinct: AtomicUsize,
}

impl Ledger {
    fn new(ends: &[usize]) -> Ledger {
        Ledger {
            counts: ends.iter().map(|n| vec![0; *n]).collect(),
            distinct: AtomicUsize::new(0),
        }
    }
}

type SharedLedger = Arc<Mutex<Ledger>>;

/// Commits the position of what is being taken away, while the generation still stands.
#[derive(Debug)]
struct CommitOnRevoke;

#[async_trait::async_trait]
impl RebalanceListener for CommitOnRevoke {
    async fn on_partitions_revoked(&self, consumer: &mut Consumer, _: &[TopicPartition]) {
        let _ = consumer.commit_sync().await;
    }
    async fn on_partitions_assigned(&self, _: &mut Consumer, _: &[TopicPartition]) {}
}

fn config(cluster: &Cluster) -> ConsumerConfig {
    let mut config = ConsumerConfig::new(&cluster.bootstrap_servers())
        .with_group_id("g-million")
        .with_auto_offset_reset(OffsetReset::Earliest)
        .with_auto_commit(false, Duration::from_secs(5))
        .with_fetch_max_wait(Duration::from_millis(50))
        .with_session_timeout(Duration::from_secs(6), Duration::from_millis(500));
    // The rebalance timeout: a member killed mid-rebalance holds the join up at most this long.
    config.max_poll_interval = Duration::from_secs(20);
    config
}

/// Writes the records (`k{i}` = `v{i}`) and returns how many landed in each partition.
async fn produce(cluster: &Cluster) -> Vec<usize> {
    let producer = Producer::new(
        ProducerConfig::new(&cluster.bootstrap_servers()).with_linger(Duration::from_millis(5)),
    )
    .await
    .unwrap();
    let mut ends = vec![0; PARTITIONS as usize];
    let mut pending = Vec::with_capacity(10_000);
    for i in 0..RECORDS {
        let record = ProducerRecord::new(TOPIC)
            .with_key(format!("k{i}"))
            .with_value(format!("v{i}"));
        pending.push(producer.send(record).await.unwrap());
        if pending.len() == 10_000 || i + 1 == RECORDS {
            for f in pending.drain(..) {
                let meta = f.await.unwrap();
                ends[meta.partition as usize] += 1;
            }
        }
    }
    producer.close(Duration::from_secs(10)).await;
    ends
}

/// One member: polls, marks what it processed, commits, until `stop` (then closes) or until
/// everything was processed. A member whose task is aborted is killed: it never leaves.
fn member(
    name: &'static str,
    cluster: &Cluster,
    ledger: SharedLedger,
    stop: Arc<AtomicBool>,
    processed: Arc<AtomicUsize>,
) -> JoinHandle<()> {
    let config = config(cluster);
    // Its logs carry its name (RUST_LOG=kafka_consumer=debug,million=info).
    let span = tracing::info_span!("member", name);
    tokio::spawn(
        async move {
            let mut consumer = Consumer::new(config).await.unwrap();
            consumer
                .subscribe_with_listener([TopicName::from(TOPIC)], Arc::new(CommitOnRevoke))
                .unwrap();
            while !stop.load(Ordering::Relaxed) {
                let records = consumer.poll(Duration::from_millis(100)).await.unwrap();
                if records.is_empty() {
                    continue;
                }
                processed.fetch_add(records.len(), Ordering::Relaxed);
                {
                    let mut l = ledger.lock().unwrap();
                    for r in &records {
                        let slot = &mut l.counts[r.partition as usize][r.offset as usize];
                        *slot = slot.saturating_add(1);
                        if *slot == 1 {
                            l.distinct.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                // Processing takes a little while: without it the first members drain whole
                // partitions before a late joiner's first fetch, and the faults test nothing.
                tokio::time::sleep(Duration::from_millis(5)).await;
                // Commit after processing; one refused during a rebalance is retried by the next.
                let _ = consumer.commit_sync().await;
            }
            consumer.close(Duration::from_secs(5)).await;
        }
        .instrument(span),
    )
}

/// Watches the group's committed offsets from outside the group: returns how often an offset
/// was seen to go backwards, and the last offsets seen.
fn watch_commits(cluster: &Cluster, stop: Arc<AtomicBool>) -> JoinHandle<(usize, Vec<i64>)> {
    let config = config(cluster);
    tokio::spawn(async move {
        // Never subscribes: it only reads the group's commits (OffsetFetch).
        let mut watcher = Consumer::new(config).await.unwrap();
        let partitions: Vec<TopicPartition> = (0..PARTITIONS)
            .map(|p| (TopicName::from(TOPIC), p))
            .collect();
        let mut last = vec![-1i64; PARTITIONS as usize];
        let mut backwards = 0;
        loop {
            let stopping = stop.load(Ordering::Relaxed);
            match watcher.committed(&partitions).await {
                Err(e) => eprintln!("watcher: {e}"),
                Ok(committed) => {
                    for ((_, p), o) in committed {
                        let slot = &mut last[p as usize];
                        if o.offset < *slot {
                            backwards += 1;
                        }
                        *slot = (*slot).max(o.offset);
                    }
                }
            }
            if stopping {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        watcher.close(Duration::from_secs(2)).await;
        (backwards, last)
    })
}

/// Waits until `n` distinct records were processed, and each member in `members` has
/// processed some, up to `limit`. (Waiting for the members too keeps the faults meaningful on a
/// loaded machine: a member that joined late could otherwise leave before its first fetch
/// answered.)
async fn until_processed(
    ledger: &SharedLedger,
    n: usize,
    members: &[&Arc<AtomicUsize>],
    limit: Duration,
) {
    let deadline = Instant::now() + limit;
    loop {
        let done = ledger.lock().unwrap().distinct.load(Ordering::Relaxed);
        let idle = members
            .iter()
            .filter(|m| m.load(Ordering::Relaxed) == 0)
            .count();
        assert!(
            Instant::now() < deadline,
            "processed {done} of the {n} awaited; {idle} members still without a record"
        );
        if done >= n && idle == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn cluster_with_records() -> (Cluster, Vec<usize>) {
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3))
        .await
        .unwrap();
    cluster.create_topic(TOPIC, PARTITIONS, &[]).unwrap();
    let ends = produce(&cluster).await;
    assert_eq!(ends.iter().sum::<usize>(), RECORDS);
    (cluster, ends)
}

/// Checks the ledger: every record processed, at most `max_times` each, and returns how many
/// were processed more than once.
fn check(ledger: &SharedLedger, max_times: u8) -> usize {
    let l = ledger.lock().unwrap();
    let mut twice = 0;
    for (p, counts) in l.counts.iter().enumerate() {
        for (offset, n) in counts.iter().enumerate() {
            assert!(*n >= 1, "partition {p} offset {offset} was never processed");
            assert!(
                *n <= max_times,
                "partition {p} offset {offset} processed {n} times"
            );
            if *n > 1 {
                twice += 1;
            }
        }
    }
    twice
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_leaves_and_a_kill_lose_nothing() {
    common::init_tracing();
    let (cluster, ends) = cluster_with_records().await;
    let ledger: SharedLedger = Arc::new(Mutex::new(Ledger::new(&ends)));
    let watcher_stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_commits(&cluster, watcher_stop.clone());
    let limit = Duration::from_secs(240);

    // What each of A, B, C and D processed: each must have had a share for the faults to mean
    // anything.
    let processed: Vec<Arc<AtomicUsize>> = (0..4).map(|_| Arc::default()).collect();
    let a_stop = Arc::new(AtomicBool::new(false));
    let a = member(
        "A",
        &cluster,
        ledger.clone(),
        a_stop.clone(),
        processed[0].clone(),
    );
    let b_stop = Arc::new(AtomicBool::new(false));
    let b = member(
        "B",
        &cluster,
        ledger.clone(),
        b_stop.clone(),
        processed[1].clone(),
    );
    until_processed(&ledger, RECORDS / 8, &[&processed[0], &processed[1]], limit).await;
    // A third member joins.
    let c_stop = Arc::new(AtomicBool::new(false));
    let c = member(
        "C",
        &cluster,
        ledger.clone(),
        c_stop.clone(),
        processed[2].clone(),
    );
    until_processed(&ledger, RECORDS * 3 / 8, &[&processed[2]], limit).await;
    // B leaves (LeaveGroup), D takes its place.
    b_stop.store(true, Ordering::Relaxed);
    b.await.unwrap();
    let d_stop = Arc::new(AtomicBool::new(false));
    let d = member(
        "D",
        &cluster,
        ledger.clone(),
        d_stop.clone(),
        processed[3].clone(),
    );
    until_processed(&ledger, RECORDS * 5 / 8, &[&processed[3]], limit).await;
    // A is killed: no LeaveGroup, no more heartbeats; the group notices after the session
    // timeout and its partitions resume from A's last commits.
    a.abort();
    let _ = a.await;
    until_processed(&ledger, RECORDS, &[], limit).await;

    for (stop, task) in [(c_stop, c), (d_stop, d)] {
        stop.store(true, Ordering::Relaxed);
        task.await.unwrap();
    }
    let _ = a_stop;
    watcher_stop.store(true, Ordering::Relaxed);
    let (backwards, last) = watcher.await.unwrap();

    // At least once: every record processed (the kill may repeat up to a poll's worth per
    // partition, and a leave's revoke commits first).
    let twice = check(&ledger, 3);
    let shares: Vec<usize> = processed
        .iter()
        .map(|n| n.load(Ordering::Relaxed))
        .collect();
    eprintln!("faults: processed by A, B, C, D {shares:?}; {twice} processed more than once");
    assert!(
        shares.iter().all(|n| *n > 0),
        "every member had a share: {shares:?}"
    );
    assert_eq!(backwards, 0, "a committed offset went backwards");
    let ends: Vec<i64> = ends.iter().map(|n| *n as i64).collect();
    assert_eq!(last, ends, "the group committed every partition's end");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_every_record_is_processed_exactly_once() {
    let (cluster, ends) = cluster_with_records().await;
    let ledger: SharedLedger = Arc::new(Mutex::new(Ledger::new(&ends)));
    let watcher_stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_commits(&cluster, watcher_stop.clone());
    let stop = Arc::new(AtomicBool::new(false));
    // Members join one after another while the first ones read: rebalances, but no faults.
    let mut members = Vec::new();
    for _ in 0..3 {
        members.push(member(
            "M",
            &cluster,
            ledger.clone(),
            stop.clone(),
            Arc::default(),
        ));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    until_processed(&ledger, RECORDS, &[], Duration::from_secs(240)).await;
    stop.store(true, Ordering::Relaxed);
    for m in members {
        m.await.unwrap();
    }
    watcher_stop.store(true, Ordering::Relaxed);
    let (backwards, last) = watcher.await.unwrap();

    assert_eq!(check(&ledger, 1), 0, "no record processed twice");
    assert_eq!(backwards, 0, "a committed offset went backwards");
    let ends: Vec<i64> = ends.iter().map(|n| *n as i64).collect();
    assert_eq!(last, ends);
    cluster.shutdown().await;
}
