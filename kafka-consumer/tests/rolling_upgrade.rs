//! A live group is upgraded from range to cooperative-sticky by Java's two-step procedure
//! (KIP-429): every member is bounced once with `[cooperative-sticky, range]`, which keeps the
//! eager protocol while any member may still pick range, then once more with
//! `[cooperative-sticky]` alone. Records are written throughout; each member commits after
//! processing a poll and in its revoke callback. Nothing may be lost or processed twice, and at
//! the end the group must really be cooperative: a member that joins takes partitions from the
//! others without anyone else giving up everything.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::assignor::{PartitionAssignor, RangeAssignor};
use kafka_consumer::sticky::CooperativeStickyAssignor;
use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset, RebalanceListener, TopicPartition};
use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_protocol::TopicName;
use tokio::task::JoinHandle;

const TOPIC: &str = "upgraded";
const GROUP: &str = "g-upgraded";
const PARTITIONS: i32 = 6;

/// How often each (partition, offset) was processed; grows as records arrive.
#[derive(Debug, Default)]
struct Ledger {
    counts: BTreeMap<i32, Vec<u8>>,
    distinct: usize,
}

impl Ledger {
    fn mark(&mut self, partition: i32, offset: i64) {
        let counts = self.counts.entry(partition).or_default();
        let at = usize::try_from(offset).expect("offsets are not negative");
        if counts.len() <= at {
            counts.resize(at + 1, 0);
        }
        counts[at] = counts[at].saturating_add(1);
        if counts[at] == 1 {
            self.distinct += 1;
        }
    }
}

/// One listener call: which member, revoked or assigned, how many partitions.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Revoked(usize, usize),
    Assigned(usize, usize),
}

/// Commits on revoke and logs every call.
#[derive(Debug)]
struct Recorder {
    member: usize,
    calls: Arc<Mutex<Vec<Call>>>,
}

#[async_trait::async_trait]
impl RebalanceListener for Recorder {
    async fn on_partitions_revoked(&self, consumer: &mut Consumer, partitions: &[TopicPartition]) {
        if let Err(e) = consumer.commit_sync().await {
            eprintln!("member {}: commit on revoke: {e}", self.member);
        }
        self.calls
            .lock()
            .unwrap()
            .push(Call::Revoked(self.member, partitions.len()));
    }
    async fn on_partitions_assigned(&self, _: &mut Consumer, partitions: &[TopicPartition]) {
        self.calls
            .lock()
            .unwrap()
            .push(Call::Assigned(self.member, partitions.len()));
    }
}

/// A running member: its stop flag, what it processed, what it holds, and its task.
struct Member {
    stop: Arc<AtomicBool>,
    processed: Arc<AtomicUsize>,
    owned: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Member {
    async fn close(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
    }
}

fn start_member(
    bootstrap: &str,
    id: usize,
    assignors: Vec<Arc<dyn PartitionAssignor>>,
    ledger: Arc<Mutex<Ledger>>,
    calls: Arc<Mutex<Vec<Call>>>,
) -> Member {
    let config = ConsumerConfig::new(bootstrap)
        .with_group_id(GROUP)
        .with_assignors(assignors)
        .with_auto_offset_reset(OffsetReset::Earliest)
        .with_auto_commit(false, Duration::from_secs(5))
        .with_fetch_max_wait(Duration::from_millis(50))
        .with_session_timeout(Duration::from_secs(10), Duration::from_millis(300));
    let stop = Arc::new(AtomicBool::new(false));
    let processed = Arc::new(AtomicUsize::new(0));
    let owned = Arc::new(AtomicUsize::new(0));
    let task = {
        let (stop, processed, owned) = (stop.clone(), processed.clone(), owned.clone());
        tokio::spawn(async move {
            let mut consumer = Consumer::new(config).await.unwrap();
            consumer
                .subscribe_with_listener(
                    [TopicName::from(TOPIC)],
                    Arc::new(Recorder { member: id, calls }),
                )
                .unwrap();
            while !stop.load(Ordering::Relaxed) {
                let records = consumer.poll(Duration::from_millis(100)).await.unwrap();
                owned.store(consumer.assignment().len(), Ordering::Relaxed);
                if records.is_empty() {
                    continue;
                }
                {
                    let mut l = ledger.lock().unwrap();
                    for r in &records {
                        l.mark(r.partition, r.offset);
                    }
                }
                processed.fetch_add(records.len(), Ordering::Relaxed);
                // One refused during a rebalance is retried after the next poll.
                let _ = consumer.commit_sync().await;
            }
            consumer.close(Duration::from_secs(5)).await;
        })
    };
    Member {
        stop,
        processed,
        owned,
        task,
    }
}

/// Writes records until stopped; returns each partition's end offset.
fn start_producer(bootstrap: &str, stop: Arc<AtomicBool>) -> JoinHandle<BTreeMap<i32, i64>> {
    let config = ProducerConfig::new(bootstrap).with_linger(Duration::from_millis(5));
    tokio::spawn(async move {
        let producer = Producer::new(config).await.unwrap();
        let mut ends = BTreeMap::new();
        let mut i = 0usize;
        while !stop.load(Ordering::Relaxed) {
            let mut pending = Vec::with_capacity(200);
            for _ in 0..200 {
                let record = ProducerRecord::new(TOPIC)
                    .with_key(format!("k{i}"))
                    .with_value(format!("v{i}"));
                pending.push(producer.send(record).await.unwrap());
                i += 1;
            }
            for f in pending {
                let meta = f.await.unwrap();
                let end = ends.entry(meta.partition).or_insert(0);
                *end = (*end).max(meta.offset + 1);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        producer.close(Duration::from_secs(10)).await;
        ends
    })
}

/// Waits until every member holds partitions, together all of them, and each has processed
/// something since `since` (what each had processed then).
async fn until_stable(members: &[Member], since: &[usize]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let owned: Vec<usize> = members
            .iter()
            .map(|m| m.owned.load(Ordering::Relaxed))
            .collect();
        let progressed = members
            .iter()
            .zip(since)
            .all(|(m, s)| m.processed.load(Ordering::Relaxed) > *s);
        if owned.iter().all(|n| *n > 0)
            && owned.iter().sum::<usize>() == PARTITIONS as usize
            && progressed
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the group never settled: owned {owned:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn processed(members: &[Member]) -> Vec<usize> {
    members
        .iter()
        .map(|m| m.processed.load(Ordering::Relaxed))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_to_cooperative_sticky_loses_and_duplicates_nothing() {
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3))
        .await
        .unwrap();
    cluster.create_topic(TOPIC, PARTITIONS, &[]).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let ledger: Arc<Mutex<Ledger>> = Arc::default();
    let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
    let producer_stop = Arc::new(AtomicBool::new(false));
    let producer = start_producer(&bootstrap, producer_stop.clone());

    let range = || -> Vec<Arc<dyn PartitionAssignor>> { vec![Arc::new(RangeAssignor)] };
    let both = || -> Vec<Arc<dyn PartitionAssignor>> {
        vec![Arc::new(CooperativeStickyAssignor), Arc::new(RangeAssignor)]
    };
    let cooperative =
        || -> Vec<Arc<dyn PartitionAssignor>> { vec![Arc::new(CooperativeStickyAssignor)] };

    let mut next_id = 0;
    let mut members: Vec<Member> = Vec::new();
    for _ in 0..3 {
        members.push(start_member(
            &bootstrap,
            next_id,
            range(),
            ledger.clone(),
            calls.clone(),
        ));
        next_id += 1;
    }
    until_stable(&members, &[0, 0, 0]).await;

    // The two rolling bounces: each member in turn closes (committing in its revoke callback
    // and leaving) and comes back with the next step's strategies.
    for step in [both as fn() -> Vec<Arc<dyn PartitionAssignor>>, cooperative] {
        for slot in 0..members.len() {
            let replacement =
                start_member(&bootstrap, next_id, step(), ledger.clone(), calls.clone());
            next_id += 1;
            let old = std::mem::replace(&mut members[slot], replacement);
            old.close().await;
            let mut since = processed(&members);
            since[slot] = 0;
            until_stable(&members, &since).await;
        }
    }

    // Now all cooperative: a fourth member joins, and the others give up only what it takes.
    let before_join = calls.lock().unwrap().len();
    let survivors: Vec<usize> = (next_id - 3..next_id).collect();
    members.push(start_member(
        &bootstrap,
        next_id,
        cooperative(),
        ledger.clone(),
        calls.clone(),
    ));
    until_stable(&members, &processed(&members)).await;
    let joined = members[3].owned.load(Ordering::Relaxed);
    let revoked: usize = calls.lock().unwrap()[before_join..]
        .iter()
        .filter_map(|c| match c {
            Call::Revoked(m, n) if survivors.contains(m) => Some(*n),
            _ => None,
        })
        .sum();
    assert!(joined > 0);
    assert_eq!(
        revoked,
        joined,
        "cooperative: the others gave up exactly what the newcomer took ({:?})",
        &calls.lock().unwrap()[before_join..]
    );

    // Stop writing, let the group read to the end, then check the ledger.
    producer_stop.store(true, Ordering::Relaxed);
    let ends = producer.await.unwrap();
    let total: i64 = ends.values().sum();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = ledger.lock().unwrap().distinct;
        if done as i64 >= total {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "processed {done} of {total} written"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for m in members {
        m.close().await;
    }
    let counts_by_partition = std::mem::take(&mut ledger.lock().unwrap().counts);
    for (p, end) in &ends {
        let counts = &counts_by_partition[p];
        assert_eq!(counts.len() as i64, *end, "partition {p} read to its end");
        for (offset, n) in counts.iter().enumerate() {
            assert_eq!(*n, 1, "partition {p} offset {offset} processed {n} times");
        }
    }
    eprintln!(
        "rolling upgrade: {total} records over {} bounces, each processed once; {} listener calls",
        next_id - 3,
        calls.lock().unwrap().len()
    );
    cluster.shutdown().await;
}
