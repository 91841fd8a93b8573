//! Mixed groups: our consumer and a member from another client share one group, split the
//! topic's partitions and together consume every record exactly once (the group is stable
//! before anything is written, so nothing is read twice).
//!
//! Peers: a kcat `-G` member (librdkafka, range) and the Java consumer (range, and
//! cooperative-sticky), each on the bundled broker and on a real Apache Kafka node.
//!
//! Needs kcat and Java (`.ci/run` installs both); without one, its tests print SKIPPED.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_consumer::assignor::{PartitionAssignor, RangeAssignor};
use kafka_consumer::sticky::CooperativeStickyAssignor;
use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset};
use kafka_protocol::TopicName;
use kafka_testkit::process::Spawned;
use kafka_testkit::serde_json::{self, Value};
use kafka_testkit::{peers, JavaPeer, RealKafka};

const PARTITIONS: i32 = 4;
const RECORDS: usize = 2_000;

/// The other client in the group.
#[derive(Debug, Clone, Copy)]
enum Peer {
    /// kcat (librdkafka 2.0) with the range assignor.
    Kcat,
    /// The Java consumer with the named assignor (`range`, `cooperative-sticky`).
    Java(&'static str),
}

impl Peer {
    fn name(self) -> String {
        match self {
            Peer::Kcat => "kcat-range".into(),
            Peer::Java(a) => format!("java-{a}"),
        }
    }

    /// Our assignor: the same strategy, so that the group has a protocol in common.
    fn our_assignor(self) -> Arc<dyn PartitionAssignor> {
        match self {
            Peer::Kcat | Peer::Java("range") => Arc::new(RangeAssignor),
            Peer::Java("cooperative-sticky") => Arc::new(CooperativeStickyAssignor),
            Peer::Java(other) => panic!("no test assignor for {other}"),
        }
    }

    /// The peer's process, or `None` (after a SKIPPED line) when the peer is missing.
    async fn spawn(self, bootstrap: &str, topic: &str, group: &str) -> Option<PeerMember> {
        match self {
            Peer::Kcat => {
                if !peers::require_kcat() {
                    return None;
                }
                let process = Spawned::spawn(
                    Command::new("kcat")
                        .args(["-b", bootstrap, "-u", "-G", group, topic])
                        .args(["-X", "auto.offset.reset=earliest"])
                        .args(["-X", "session.timeout.ms=10000"])
                        .args(["-X", "partition.assignment.strategy=range"])
                        .args(["-f", "%p\t%o\t%s\n"]),
                    None,
                );
                Some(PeerMember {
                    peer: self,
                    topic: topic.to_string(),
                    process,
                })
            }
            Peer::Java(assignor) => {
                let java = tokio::task::spawn_blocking(JavaPeer::build)
                    .await
                    .unwrap()?;
                let process = java.spawn(&[
                    "consume",
                    "--bootstrap",
                    bootstrap,
                    "--topic",
                    topic,
                    "--group",
                    group,
                    "--assignor",
                    assignor,
                    "--from-beginning",
                    "--timeout-ms",
                    "180000",
                    "--stop-on-eof",
                ]);
                Some(PeerMember {
                    peer: self,
                    topic: topic.to_string(),
                    process,
                })
            }
        }
    }
}

/// A running peer member and how to read what it did from its output.
struct PeerMember {
    peer: Peer,
    topic: String,
    process: Spawned,
}

impl PeerMember {
    /// The partitions the peer holds now, once it has been assigned at least once.
    fn assignment(&self) -> Option<BTreeSet<i32>> {
        match self.peer {
            // kcat logs `% Group G rebalanced (memberid M): assigned: t [0], t [1]` on stderr.
            Peer::Kcat => {
                let stderr = self.process.stderr();
                let last = stderr.lines().rfind(|l| l.contains(" rebalanced "))?;
                let (_, partitions) = last.split_once("assigned: ")?;
                let prefix = format!("{} [", self.topic);
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
            // The Java peer reports each listener call; replaying them gives the assignment
            // under both protocols (cooperative calls carry only what moved).
            Peer::Java(_) => {
                let mut owned = None::<BTreeSet<i32>>;
                for line in self.process.stdout().lines() {
                    let Ok(v) = serde_json::from_str::<Value>(line) else {
                        continue;
                    };
                    let parts = v["partitions"]
                        .as_array()
                        .map(|ps| {
                            ps.iter()
                                .filter_map(|p| p["partition"].as_i64())
                                .filter_map(|p| i32::try_from(p).ok())
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default();
                    match v["event"].as_str() {
                        Some("assigned") => owned.get_or_insert_default().extend(parts),
                        Some("revoked") | Some("lost") => {
                            for p in parts {
                                owned.get_or_insert_default().remove(&p);
                            }
                        }
                        _ => {}
                    }
                }
                owned
            }
        }
    }

    /// The values the peer has read so far, in order.
    fn values(&self) -> Vec<String> {
        let stdout = self.process.stdout();
        match self.peer {
            Peer::Kcat => stdout
                .lines()
                .filter_map(|l| l.split('\t').nth(2))
                .map(str::to_string)
                .collect(),
            Peer::Java(_) => JavaPeer::events(&stdout, "record")
                .iter()
                .filter_map(|v| v["value"].as_str().map(str::to_string))
                .collect(),
        }
    }
}

/// Runs our member and `peer` in `group` on `bootstrap`, where `topic` exists with
/// [`PARTITIONS`] partitions and no records; asserts they split the partitions and read all of
/// [`RECORDS`] once between them.
async fn ours_and_peer_read_every_record_once(
    peer: Peer,
    bootstrap: String,
    topic: &str,
    group: &str,
) {
    let Some(mut other) = peer.spawn(&bootstrap, topic, group).await else {
        return;
    };

    // Our member polls in its own task, recording what it reads and its assignment, and
    // commits after each poll.
    let ours_read: Arc<Mutex<Vec<String>>> = Arc::default();
    let ours_assigned: Arc<Mutex<BTreeSet<i32>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let member = {
        let (read, assigned, stop) = (
            Arc::clone(&ours_read),
            Arc::clone(&ours_assigned),
            Arc::clone(&stop),
        );
        let config = ConsumerConfig::new(&bootstrap)
            .with_group_id(group)
            .with_assignors(vec![peer.our_assignor()])
            .with_auto_offset_reset(OffsetReset::Earliest)
            .with_fetch_max_wait(Duration::from_millis(100))
            .with_session_timeout(Duration::from_secs(10), Duration::from_millis(200));
        let topic = TopicName::from(topic);
        tokio::spawn(async move {
            let mut consumer = Consumer::new(config).await.unwrap();
            consumer.subscribe([topic]).unwrap();
            while !stop.load(Ordering::Acquire) {
                let records = consumer.poll(Duration::from_millis(200)).await.unwrap();
                *assigned.lock().unwrap() = consumer.assignment().iter().map(|(_, p)| *p).collect();
                read.lock().unwrap().extend(records.iter().map(|r| {
                    String::from_utf8(r.value.clone().unwrap_or_default().to_vec()).unwrap()
                }));
                // A commit refused mid-rebalance is retried after the next poll.
                let _ = consumer.commit_sync().await;
            }
            consumer.close(Duration::from_secs(5)).await;
        })
    };

    // Wait until the two members hold disjoint shares covering every partition.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let theirs = other.assignment();
        let ours = ours_assigned.lock().unwrap().clone();
        if let Some(theirs) = &theirs {
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
            Instant::now() < deadline && !other.process.exited(),
            "the members never split the partitions; ours {ours:?}, {} {theirs:?}\n\
             --- stdout ---\n{}\n--- stderr ---\n{}",
            peer.name(),
            other.process.stdout(),
            other.process.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    common::produce(&bootstrap, topic, 0, RECORDS).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let (counts, theirs_n) = loop {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let theirs = other.values();
        let theirs_n = theirs.len();
        for v in theirs
            .into_iter()
            .chain(ours_read.lock().unwrap().iter().cloned())
        {
            *counts.entry(v).or_default() += 1;
        }
        if counts.len() == RECORDS || Instant::now() >= deadline {
            break (counts, theirs_n);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.store(true, Ordering::Release);
    member.await.unwrap();
    let out = other.process.kill();
    assert_eq!(
        counts.len(),
        RECORDS,
        "every record read by one member or the other\n{}",
        out.describe()
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
    assert!(theirs_n > 0, "{} read its share", peer.name());
    println!(
        "{}: ours read {}, the peer {theirs_n}",
        peer.name(),
        ours_read.lock().unwrap().len()
    );
}

async fn on_the_bundled_broker(peer: Peer) {
    let cluster = Cluster::start(ClusterConfig::default().with_brokers(3))
        .await
        .unwrap();
    let topic = format!("mixed-{}", peer.name());
    cluster.create_topic(&topic, PARTITIONS, &[]).unwrap();
    let group = format!("g-{topic}");
    ours_and_peer_read_every_record_once(peer, cluster.bootstrap_servers(), &topic, &group).await;
    cluster.shutdown().await;
}

async fn on_real_kafka(peer: Peer) {
    let Some(kafka) = tokio::task::spawn_blocking(RealKafka::shared)
        .await
        .unwrap()
    else {
        return;
    };
    let bootstrap = kafka.bootstrap();
    let topic = format!("mixed-{}", peer.name());
    common::create_topic(&bootstrap, &topic, PARTITIONS, 1).await;
    let group = format!("g-{topic}");
    ours_and_peer_read_every_record_once(peer, bootstrap, &topic, &group).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_kcat_range_on_the_bundled_broker() {
    on_the_bundled_broker(Peer::Kcat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_java_range_on_the_bundled_broker() {
    on_the_bundled_broker(Peer::Java("range")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_java_cooperative_sticky_on_the_bundled_broker() {
    on_the_bundled_broker(Peer::Java("cooperative-sticky")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_kcat_range_on_real_kafka() {
    on_real_kafka(Peer::Kcat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_java_range_on_real_kafka() {
    on_real_kafka(Peer::Java("range")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_java_cooperative_sticky_on_real_kafka() {
    on_real_kafka(Peer::Java("cooperative-sticky")).await;
}
