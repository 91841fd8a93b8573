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
