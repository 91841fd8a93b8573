//! Cooperative-sticky against the bundled broker: a member that joins takes only the
//! partitions balance needs, the member that had them is told of exactly those (and commits
//! them in its revoke callback), and nothing is read twice.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::sticky::CooperativeStickyAssignor;
use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset, RebalanceListener, TopicPartition};
use kafka_protocol::TopicName;

#[derive(Debug, Default)]
struct Recorder {
    assigned: Mutex<Vec<Vec<TopicPartition>>>,
    revoked: Mutex<Vec<Vec<TopicPartition>>>,
    lost: Mutex<Vec<Vec<TopicPartition>>>,
    commits_in_revoke: Mutex<Vec<bool>>,
}

#[async_trait::async_trait]
impl RebalanceListener for Recorder {
    async fn on_partitions_revoked(&self, consumer: &mut Consumer, partitions: &[TopicPartition]) {
        let ok = consumer.commit_sync().await.is_ok();
        self.commits_in_revoke.lock().unwrap().push(ok);
        self.revoked.lock().unwrap().push(partitions.to_vec());
    }
    async fn on_partitions_assigned(&self, _: &mut Consumer, partitions: &[TopicPartition]) {
        self.assigned.lock().unwrap().push(partitions.to_vec());
    }
    async fn on_partitions_lost(&self, _: &mut Consumer, partitions: &[TopicPartition]) {
        self.lost.lock().unwrap().push(partitions.to_vec());
    }
}

fn config(cluster: &Cluster) -> ConsumerConfig {
    ConsumerConfig::new(&cluster.bootstrap_servers())
        .with_group_id("g-coop")
        .with_auto_offset_reset(OffsetReset::Earliest)
        .with_auto_commit(false, Duration::from_secs(5))
        .with_fetch_max_wait(Duration::from_millis(50))
        .with_session_timeout(Duration::from_secs(10), Duration::from_millis(100))
        .with_assignors(vec![Arc::new(CooperativeStickyAssignor)])
}

/// Polls `consumer` until `done` says so or `limit` passes, recording the values read.
async fn run(
    mut consumer: Consumer,
    seen: Arc<Mutex<Vec<String>>>,
    done: impl Fn(&Consumer) -> bool,
    limit: Duration,
) -> Consumer {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline && !done(&consumer) {
        for r in consumer.poll(Duration::from_millis(100)).await.unwrap() {
            let v = String::from_utf8(r.value.unwrap_or_default().to_vec()).unwrap();
            seen.lock().unwrap().push(v);
        }
    }
    consumer
}

#[tokio::test]
async fn a_joining_member_moves_only_what_balance_needs() {
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    cluster.create_topic("coop", 6, &[]).unwrap();
    common::produce(&cluster.bootstrap_servers(), "coop", 0, 600).await;
    let topic = TopicName::from("coop");

    let a_seen = Arc::new(Mutex::new(Vec::new()));
    let a_listener = Arc::new(Recorder::default());
    let mut a = Consumer::new(config(&cluster)).await.unwrap();
    a.subscribe_with_listener([topic.clone()], a_listener.clone())
        .unwrap();
    // Alone, A takes all six partitions and reads what is there.
    let a = run(
        a,
        a_seen.clone(),
        |c| c.assignment().len() == 6 && (0..6).all(|p| c.lag("coop", p) == Some(0)),
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(a.assignment().len(), 6);
    let before: BTreeSet<TopicPartition> = a.assignment().into_iter().collect();

    // More records, then B joins; both poll side by side.
    common::produce(&cluster.bootstrap_servers(), "coop", 600, 600).await;
    let b_seen = Arc::new(Mutex::new(Vec::new()));
    let b_listener = Arc::new(Recorder::default());
    let mut b = Consumer::new(config(&cluster)).await.unwrap();
    b.subscribe_with_listener([topic.clone()], b_listener.clone())
        .unwrap();
    let total = || a_seen.lock().unwrap().len() + b_seen.lock().unwrap().len();
    let balanced = |c: &Consumer| c.assignment().len() == 3;
    let (a, b) = tokio::join!(
        run(a, a_seen.clone(), balanced, Duration::from_secs(30)),
        run(b, b_seen.clone(), balanced, Duration::from_secs(30)),
    );
    // Drain what is left.
    let done_reading = |_: &Consumer| false;
    let (a, b) = tokio::join!(
        run(a, a_seen.clone(), done_reading, Duration::from_secs(2)),
        run(b, b_seen.clone(), done_reading, Duration::from_secs(2)),
    );

    let a_now: BTreeSet<TopicPartition> = a.assignment().into_iter().collect();
    let b_now: BTreeSet<TopicPartition> = b.assignment().into_iter().collect();
    assert_eq!(
        (a_now.len(), b_now.len()),
        (3, 3),
        "a {a_now:?} b {b_now:?}"
    );
    assert!(a_now.is_subset(&before) && a_now.is_disjoint(&b_now));

    // A was told of exactly the three partitions that moved, once, and never lost any.
    let revoked = a_listener.revoked.lock().unwrap().clone();
    assert_eq!(revoked.len(), 1, "revocations: {revoked:?}");
    let moved: BTreeSet<TopicPartition> = revoked[0].iter().cloned().collect();
    assert_eq!(moved, b_now, "only what B received was revoked from A");
    assert_eq!(
        *a_listener.commits_in_revoke.lock().unwrap(),
        vec![true],
        "commit inside revoke"
    );
    assert!(a_listener.lost.lock().unwrap().is_empty());
    // B was assigned nothing in the first rebalance (the partitions were still A's), then
    // the three.
    let b_assigned: Vec<TopicPartition> = b_listener.assigned.lock().unwrap().concat();
    assert_eq!(b_assigned.into_iter().collect::<BTreeSet<_>>(), b_now);

    // With the commit in the revoke callback, nothing was read twice: every record once.
    assert_eq!(
        total(),
        1200,
        "a read {}, b read {}",
        a_seen.lock().unwrap().len(),
        b_seen.lock().unwrap().len()
    );
    let all: BTreeSet<String> = a_seen
        .lock()
        .unwrap()
        .iter()
        .chain(b_seen.lock().unwrap().iter())
        .cloned()
        .collect();
    assert_eq!(all.len(), 1200);
    a.close(Duration::from_secs(5)).await;
    b.close(Duration::from_secs(5)).await;
}

/// Under the cooperative protocol a rebalance does not stop the members that keep their
/// partitions. The rebalance is held open on purpose: member C stops polling (its heartbeats
/// go on) when B joins, and the coordinator waits for C's JoinGroup until C polls again seven
/// seconds later. A keeps reading its partitions the whole time; under the eager protocol it
/// would have revoked everything and read nothing until C came back (and were the group to
/// share one connection for fetches and the parked JoinGroup, A would stall too).
///
/// The pause is longer than the session timeout (6 s) and shorter than the rebalance timeout
/// (max.poll.interval, 20 s): C's heartbeats keep its session alive through the rebalance, as
/// Java's do, so C is never expelled and loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_others_keep_consuming_while_the_group_rebalances() {
    use std::sync::atomic::{AtomicBool, Ordering};

    common::init_tracing();
    let cluster = Cluster::start(ClusterConfig::default()).await.unwrap();
    cluster.create_topic("coop-live", 6, &[]).unwrap();
    let topic = TopicName::from("coop-live");
    let config = || {
        let mut c = config(&cluster)
            .with_group_id("g-coop-live")
            .with_session_timeout(Duration::from_secs(6), Duration::from_millis(100));
        c.max_poll_interval = Duration::from_secs(20);
        c
    };

    // Records keep arriving on every partition throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (bootstrap, stop) = (cluster.bootstrap_servers(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                common::produce(&bootstrap, "coop-live", i, 30).await;
                i += 30;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let mut a = Consumer::new(config()).await.unwrap();
    a.subscribe([topic.clone()]).unwrap();
    let mut c = Consumer::new(config()).await.unwrap();
    let c_listener = Arc::new(Recorder::default());
    c.subscribe_with_listener([topic.clone()], c_listener.clone())
        .unwrap();
    let halves = |c: &Consumer| c.assignment().len() == 3;
    let ignore = Arc::new(Mutex::new(Vec::new()));
    let (mut a, mut c) = tokio::join!(
        run(a, ignore.clone(), halves, Duration::from_secs(30)),
        run(c, ignore.clone(), halves, Duration::from_secs(30)),
    );
    assert_eq!((a.assignment().len(), c.assignment().len()), (3, 3));

    // B joins; C goes quiet for seven seconds; A polls on, noting when it read what.
    let t0 = Instant::now();
    let mut b = Consumer::new(config()).await.unwrap();
    b.subscribe([topic.clone()]).unwrap();
    // Each member polls until all three hold two partitions (no member may stop early: one
    // that stops polling stalls the next rebalance).
    let sizes_of: [std::sync::atomic::AtomicUsize; 3] = std::array::from_fn(|_| usize::MAX.into());
    let sizes = &sizes_of;
    let settled = move || sizes.iter().all(|n| n.load(Ordering::Relaxed) == 2);
    let a_reads: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let b_first_assigned: Arc<Mutex<Option<Duration>>> = Arc::default();
    let a_task = {
        let reads = a_reads.clone();
        async move {
            let deadline = t0 + Duration::from_secs(30);
            while Instant::now() < deadline && !settled() {
                let n = a.poll(Duration::from_millis(100)).await.unwrap().len();
                sizes[0].store(a.assignment().len(), Ordering::Relaxed);
                reads
                    .lock()
                    .unwrap()
                    .extend(std::iter::repeat_n(t0.elapsed(), n));
            }
            a
        }
    };
    let b_task = {
        let first = b_first_assigned.clone();
        async move {
            let deadline = t0 + Duration::from_secs(30);
            while Instant::now() < deadline && !settled() {
                b.poll(Duration::from_millis(100)).await.unwrap();
                sizes[1].store(b.assignment().len(), Ordering::Relaxed);
                let mut f = first.lock().unwrap();
                if f.is_none() && !b.assignment().is_empty() {
                    *f = Some(t0.elapsed());
                }
            }
            b
        }
    };
    let c_task = async move {
        tokio::time::sleep(Duration::from_secs(7)).await;
        let deadline = t0 + Duration::from_secs(30);
        while Instant::now() < deadline && !settled() {
            c.poll(Duration::from_millis(100)).await.unwrap();
            sizes[2].store(c.assignment().len(), Ordering::Relaxed);
        }
        c
    };
    let (a, b, c) = tokio::join!(a_task, b_task, c_task);
    stop.store(true, Ordering::Relaxed);
    producer.await.unwrap();

    assert_eq!(
        (
            a.assignment().len(),
            b.assignment().len(),
            c.assignment().len()
        ),
        (2, 2, 2)
    );
    let b_first = b_first_assigned.lock().unwrap().expect("B was assigned");
    assert!(
        b_first >= Duration::from_millis(6_900),
        "the rebalance was held open until C polled again (B assigned at {b_first:?})"
    );
    // The window: well after B's JoinGroup started the rebalance, before C let it finish.
    let window = Duration::from_millis(1_000)..Duration::from_millis(6_800);
    let during = a_reads
        .lock()
        .unwrap()
        .iter()
        .filter(|t| window.contains(t))
        .count();
    let mut buckets = [0usize; 10];
    for t in a_reads.lock().unwrap().iter() {
        buckets[((t.as_millis() / 1000) as usize).min(9)] += 1;
    }
    eprintln!("A's reads per second since B joined: {buckets:?}");
    assert!(
        during > 0,
        "A read nothing during the rebalance ({} reads in all)",
        a_reads.lock().unwrap().len()
    );
    eprintln!(
        "A read {during} records while the rebalance was in progress; B assigned at {b_first:?}"
    );
    for consumer in [a, b, c] {
        consumer.close(Duration::from_secs(5)).await;
    }
    cluster.shutdown().await;
}
