//! A mixed group on the bundled broker: our consumer and a kcat `-G` member (librdkafka, range
//! assignor) split a topic's partitions and together consume every record once.
//!
//! Needs kcat (`.ci/run` installs it); without it the test prints SKIPPED.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset};
use kafka_protocol::TopicName;
use kafka_testkit::peers;
use kafka_testkit::process::Spawned;

const TOPIC: &str = "mixed";
const GROUP: &str = "g-mixed";
const PARTITIONS: i32 = 4;
const RECORDS: usize = 2_000;

/// kcat logs `% Group G rebalanced (memberid M): assigned: t [0], t [1]` on stderr.
fn kcat_assignment(stderr: &str) -> Option<BTreeSet<i32>> {
    let last = stderr.lines().rfind(|l| l.contains(" rebalanced "))?;
    let (_, partitions) = last.split_once("assigned: ")?;
    let prefix = format!("{TOPIC} [");
    partitions
        .split(", ")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.trim()
                .strip_prefix(&prefix)?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ours_and_a_kcat_member_split_the_partitions_and_read_every_record_once() {
    if !peers::require_kcat() {
        return;
    }
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3))
        .await
        .unwrap();
    cluster.create_topic(TOPIC, PARTITIONS, &[]).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let mut kcat = Spawned::spawn(
        Command::new("kcat")
            .args(["-b", &bootstrap, "-u", "-G", GROUP, TOPIC])
            .args([
                "-X",
                "auto.offset.reset=earliest",
                "-X",
                "session.timeout.ms=10000",
            ])
            .args(["-X", "partition.assignment.strategy=range"])
            .args(["-f", "%p\t%o\t%s\n"]),
        None,
    );

    // Our member: polls in its own task, recording what it reads and its assignment.
    let ours_read: Arc<Mutex<Vec<String>>> = Arc::default();
    let ours_assigned: Arc<Mutex<BTreeSet<i32>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let member = {
        let (read, assigned, stop) = (
            Arc::clone(&ours_read),
            Arc::clone(&ours_assigned),
            Arc::clone(&stop),
        );
        let config = ConsumerConfig::new(&bootstrap)
            .with_group_id(GROUP)
            .with_auto_offset_reset(OffsetReset::Earliest)
            .with_fetch_max_wait(Duration::from_millis(100))
            .with_session_timeout(Duration::from_secs(10), Duration::from_millis(200));
        tokio::spawn(async move {
            let mut consumer = Consumer::new(config).await.unwrap();
            consumer.subscribe([TopicName::from(TOPIC)]).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                let records = consumer.poll(Duration::from_millis(200)).await.unwrap();
                *assigned.lock().unwrap() = consumer.assignment().iter().map(|(_, p)| *p).collect();
                read.lock().unwrap().extend(records.iter().map(|r| {
                    String::from_utf8(r.value.clone().unwrap_or_default().to_vec()).unwrap()
                }));
                let _ = consumer.commit_sync().await;
            }
            consumer.close(Duration::from_secs(5)).await;
        })
    };

    // Wait until the two members hold disjoint shares covering every partition.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let theirs = kcat_assignment(&kcat.stderr());
        let ours = ours_assigned.lock().unwrap().clone();
        if let Some(theirs) = theirs {
            let all: BTreeSet<i32> = theirs.union(&ours).copied().collect();
            if !theirs.is_empty()
                && !ours.is_empty()
                && theirs.is_disjoint(&ours)
                && all.len() == PARTITIONS as usize
            {
                break;
            }
        }
        assert!(
            Instant::now() < deadline && !kcat.exited(),
            "the members never split the partitions; ours {ours:?}\n--- kcat ---\n{}",
            kcat.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    common::produce(&bootstrap, TOPIC, 0, RECORDS).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let counts = loop {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let theirs = kcat.stdout();
        for line in theirs.lines() {
            if let Some(value) = line.split('\t').nth(2) {
                *counts.entry(value.to_string()).or_default() += 1;
            }
        }
        for v in ours_read.lock().unwrap().iter() {
            *counts.entry(v.clone()).or_default() += 1;
        }
        if counts.len() == RECORDS || Instant::now() >= deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.store(true, std::sync::atomic::Ordering::Release);
    member.await.unwrap();
    let kcat_out = kcat.kill();
    assert_eq!(
        counts.len(),
        RECORDS,
        "every record read by one member or the other\n{}",
        kcat_out.describe()
    );
    let twice: Vec<&String> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(v, _)| v)
        .collect();
    assert!(twice.is_empty(), "read twice in a stable group: {twice:?}");
    assert!(
        !ours_read.lock().unwrap().is_empty(),
        "our member read its share"
    );
    cluster.shutdown().await;
}
