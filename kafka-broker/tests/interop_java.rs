//! Interop with Apache Kafka's Java client (`tools/java-peer/JavaPeer.java`, built against
//! `kafka-clients` from Maven Central): its producer, its consumer in a group of two, its
//! partitioner and its AdminClient against the bundled broker.
//!
//! Without Java and Maven each test prints `SKIPPED: ...` and returns; CI installs them. kcat,
//! used to read back what the Java producer wrote, is required the same way.

mod interop_common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use interop_common::{require_java, require_kcat, run, TestCluster};
use kafka_testkit::serde_json::Value;
use kafka_testkit::JavaPeer;

/// Bound on one Java peer run.
const PEER_TIMEOUT: Duration = Duration::from_secs(240);

fn java() -> Option<JavaPeer> {
    if !require_java() {
        return None;
    }
    JavaPeer::build()
}

/// Java's default partition for each key, computed by the Java client's own partitioner.
fn java_partitions(java: &JavaPeer, keys: &[String], partitions: usize) -> BTreeMap<String, i64> {
    let input = keys.join("\n") + "\n";
    let out = java.run(
        &["partition", "--partitions", &partitions.to_string()],
        Some(input.into_bytes()),
        PEER_TIMEOUT,
    );
    assert!(
        out.success(),
        "JavaPeer partition failed\n{}",
        out.describe()
    );
    JavaPeer::events(&out.stdout, "partition")
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap_or_default().to_string(),
                e["partition"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

#[test]
fn java_producer_writes_100000_keyed_lz4_records_where_java_partitions_them() {
    const COUNT: usize = 100_000;
    const PARTITIONS: usize = 6;
    let Some(java) = java() else { return };
    if !require_kcat() {
        return;
    }
    let cluster = TestCluster::start(3);
    cluster.create_topic("java-keyed", PARTITIONS as i32);
    let out = java.run(
        &[
            "produce",
            "--bootstrap",
            &cluster.bootstrap(),
            "--topic",
            "java-keyed",
            "--count",
            &COUNT.to_string(),
            "--keyed",
            "--compression",
            "lz4",
            "--acks",
            "all",
            "--report-records",
        ],
        None,
        PEER_TIMEOUT,
    );
    assert!(
        out.success(),
        "Java producer failed\n{}\n{}",
        out.describe(),
        cluster.log()
    );
    let summary = JavaPeer::events(&out.stdout, "summary");
    assert_eq!(summary[0]["acked"], COUNT as u64, "{}", out.describe());
    let placed: BTreeMap<String, i64> = JavaPeer::events(&out.stdout, "produced")
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap_or_default().to_string(),
                e["partition"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(placed.len(), COUNT, "one acknowledgement per key");

    let keys: Vec<String> = (0..COUNT).map(|i| format!("key-{i}")).collect();
    let expected = java_partitions(&java, &keys, PARTITIONS);
    assert_eq!(expected.len(), COUNT);
    assert_eq!(
        placed, expected,
        "the Java producer placed keys where Java's partitioner says"
    );

    // kcat (librdkafka) reads the topic back: every key once, on the partition Java chose.
    let read = run(
        Command::new("kcat").args([
            "-b",
            &cluster.bootstrap(),
            "-C",
            "-t",
            "java-keyed",
            "-o",
            "beginning",
            "-e",
            "-q",
            "-f",
            "%p %k\\n",
        ]),
        None,
        PEER_TIMEOUT,
    );
    assert!(read.success(), "kcat failed\n{}", read.describe());
    let mut seen: BTreeMap<String, i64> = BTreeMap::new();
    for line in read.stdout.lines() {
        let (partition, key) = line.split_once(' ').expect("partition and key");
        let partition: i64 = partition.parse().expect("partition number");
        assert!(
            seen.insert(key.to_string(), partition).is_none(),
            "key {key} read twice"
        );
    }
    assert_eq!(seen.len(), COUNT, "kcat read every record");
    assert_eq!(seen, expected, "kcat found each key on Java's partition");
}

/// Runs two Java consumers of `group` with `assignor` until together they have consumed what the
/// Java producer writes after both are assigned; every record must arrive exactly once.
fn group_of_two_consumes_every_record_once(assignor: &str) {
    const PARTITIONS: usize = 4;
    const COUNT: usize = 2_000;
    let Some(java) = java() else { return };
    let cluster = TestCluster::start(3);
    let topic = format!("java-group-{assignor}");
    cluster.create_topic(&topic, PARTITIONS as i32);
    let group = format!("java-group-{assignor}");
    let consumer = || {
        java.spawn(&[
            "consume",
            "--bootstrap",
            &cluster.bootstrap(),
            "--topic",
            &topic,
            "--group",
            &group,
            "--assignor",
            assignor,
            "--from-beginning",
            "--timeout-ms",
            "180000",
            "--stop-on-eof",
        ])
    };
    let mut a = consumer();
    let mut b = consumer();
    // Current assignment of a consumer: replayed from its assigned/revoked/lost events.
    let assignment = |stdout: &str| {
        let mut owned: BTreeSet<i64> = BTreeSet::new();
        for line in stdout.lines() {
            let Ok(v) = kafka_testkit::serde_json::from_str::<Value>(line) else {
                continue;
            };
            let parts: Vec<i64> = v["partitions"]
                .as_array()
                .map(|ps| ps.iter().filter_map(|p| p["partition"].as_i64()).collect())
                .unwrap_or_default();
            match v["event"].as_str() {
                Some("assigned") => owned.extend(parts),
                Some("revoked") | Some("lost") => {
                    for p in parts {
                        owned.remove(&p);
                    }
                }
                _ => {}
            }
        }
        owned
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (sa, sb) = (assignment(&a.stdout()), assignment(&b.stdout()));
        let union: BTreeSet<i64> = sa.union(&sb).copied().collect();
        if !sa.is_empty() && !sb.is_empty() && sa.is_disjoint(&sb) && union.len() == PARTITIONS {
            break;
        }
        assert!(
            !a.exited() && !b.exited(),
            "a consumer exited early\n--- a ---\n{}{}\n--- b ---\n{}{}",
            a.stdout(),
            a.stderr(),
            b.stdout(),
            b.stderr()
        );
        assert!(
            Instant::now() < deadline,
            "the group of two never split the partitions: {sa:?} / {sb:?}\n--- a ---\n{}\n--- b ---\n{}\n{}",
            a.stderr(),
            b.stderr(),
            cluster.log()
        );
        thread::sleep(Duration::from_millis(100));
    }
    let out = java.run(
        &[
            "produce",
            "--bootstrap",
            &cluster.bootstrap(),
            "--topic",
            &topic,
            "--count",
            &COUNT.to_string(),
            "--keyed",
        ],
        None,
        PEER_TIMEOUT,
    );
    assert!(out.success(), "Java producer failed\n{}", out.describe());
    let records = |stdout: &str| JavaPeer::events(stdout, "record");
    let deadline = Instant::now() + Duration::from_secs(120);
    while records(&a.stdout()).len() + records(&b.stdout()).len() < COUNT {
        assert!(
            Instant::now() < deadline,
            "the group consumed {} of {COUNT} records",
            records(&a.stdout()).len() + records(&b.stdout()).len()
        );
        thread::sleep(Duration::from_millis(100));
    }
    a.close_stdin();
    b.close_stdin();
    let (a, b) = (
        a.wait(Duration::from_secs(60)),
        b.wait(Duration::from_secs(60)),
    );
    assert!(
        a.success() && b.success(),
        "{}\n{}",
        a.describe(),
        b.describe()
    );
    let mut seen = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for r in records(&a.stdout).iter().chain(records(&b.stdout).iter()) {
        let at = (r["partition"].as_i64(), r["offset"].as_i64());
        assert!(seen.insert(at), "record {at:?} consumed twice");
        keys.insert(r["key"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(seen.len(), COUNT, "every record consumed once");
    assert_eq!(keys.len(), COUNT, "every key consumed");
    assert!(
        !records(&a.stdout).is_empty() && !records(&b.stdout).is_empty(),
        "both members consumed"
    );
}

#[test]
fn java_group_of_two_with_range_consumes_every_record_once() {
    group_of_two_consumes_every_record_once("range");
}

#[test]
fn java_group_of_two_with_cooperative_sticky_consumes_every_record_once() {
    group_of_two_consumes_every_record_once("cooperative-sticky");
}

fn admin(java: &JavaPeer, cluster: &TestCluster, op: &str, args: &[&str]) -> Vec<Value> {
    let bootstrap = cluster.bootstrap();
    let mut all = vec!["admin", op, "--bootstrap", bootstrap.as_str()];
    all.extend_from_slice(args);
    let out = java.run(&all, None, PEER_TIMEOUT);
    assert!(
        out.success(),
        "AdminClient {op} failed\n{}\n{}",
        out.describe(),
        cluster.log()
    );
    out.stdout
        .lines()
        .filter_map(|l| kafka_testkit::serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn java_admin_client_manages_topics_configs_groups_and_offsets() {
    let Some(java) = java() else { return };
    let cluster = TestCluster::start(3);

    let created = admin(
        &java,
        &cluster,
        "create-topic",
        &[
            "--topic",
            "admin-t",
            "--partitions",
            "3",
            "--config",
            "retention.ms=3600000",
            "--config",
            "cleanup.policy=compact",
        ],
    );
    assert_eq!(created[0]["event"], "created");

    let topics = admin(&java, &cluster, "list-topics", &[]);
    let names = topics[0]["names"].as_array().cloned().unwrap_or_default();
    assert!(names.iter().any(|n| n == "admin-t"), "{names:?}");

    let described = admin(&java, &cluster, "describe-topics", &["--topic", "admin-t"]);
    let parts = described[0]["partitions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(parts.len(), 3);
    let brokers: BTreeSet<i64> = parts.iter().filter_map(|p| p["leader"].as_i64()).collect();
    assert_eq!(
        brokers.len(),
        3,
        "leaders spread over the brokers: {parts:?}"
    );
    assert_eq!(
        described[0]["topic_id"]
            .as_str()
            .map(|id| cluster.cluster().topic_id("admin-t").is_some() && id.len() == 22),
        Some(true),
        "the topic id, as Kafka prints it: {described:?}"
    );

    let configs = admin(&java, &cluster, "describe-configs", &["--topic", "admin-t"]);
    let c = &configs[0]["configs"];
    assert_eq!(c["retention.ms"]["value"], "3600000");
    assert_eq!(c["retention.ms"]["source"], "DYNAMIC_TOPIC_CONFIG");
    assert_eq!(c["cleanup.policy"]["value"], "compact");
    assert_eq!(c["segment.bytes"]["source"], "DEFAULT_CONFIG");

    // A consumer group with committed offsets, for the group and offset operations.
    let produced = java.run(
        &[
            "produce",
            "--bootstrap",
            &cluster.bootstrap(),
            "--topic",
            "admin-t",
            "--count",
            "30",
            "--keyed",
        ],
        None,
        PEER_TIMEOUT,
    );
    assert!(produced.success(), "{}", produced.describe());
    let consumed = java.run(
        &[
            "consume",
            "--bootstrap",
            &cluster.bootstrap(),
            "--topic",
            "admin-t",
            "--group",
            "admin-g",
            "--from-beginning",
            "--max-records",
            "30",
            "--timeout-ms",
            "60000",
        ],
        None,
        PEER_TIMEOUT,
    );
    assert!(consumed.success(), "{}", consumed.describe());
    assert_eq!(JavaPeer::events(&consumed.stdout, "record").len(), 30);

    let offsets = admin(&java, &cluster, "list-offsets", &["--topic", "admin-t"]);
    assert_eq!(offsets.len(), 3);
    let latest: i64 = offsets.iter().filter_map(|o| o["latest"].as_i64()).sum();
    assert_eq!(latest, 30, "{offsets:?}");
    assert!(offsets.iter().all(|o| o["earliest"] == 0));

    let groups = admin(&java, &cluster, "list-groups", &[]);
    let listed = groups[0]["groups"].as_array().cloned().unwrap_or_default();
    let g = listed
        .iter()
        .find(|g| g["group_id"] == "admin-g")
        .unwrap_or_else(|| panic!("admin-g listed: {listed:?}"));
    assert_eq!(g["state"], "Empty", "{g:?}");
    assert_eq!(g["protocol"], "consumer", "{g:?}");

    let described = admin(&java, &cluster, "describe-groups", &["--group", "admin-g"]);
    assert_eq!(described[0]["state"], "Empty", "{described:?}");

    let group_offsets = admin(
        &java,
        &cluster,
        "list-group-offsets",
        &["--group", "admin-g"],
    );
    let committed: i64 = group_offsets[0]["offsets"]
        .as_object()
        .map(|o| o.values().filter_map(Value::as_i64).sum())
        .unwrap_or(0);
    assert_eq!(committed, 30, "{group_offsets:?}");

    let cluster_info = admin(&java, &cluster, "describe-cluster", &[]);
    assert_eq!(
        cluster_info[0]["nodes"].as_array().map(Vec::len),
        Some(3),
        "{cluster_info:?}"
    );

    admin(&java, &cluster, "delete-topic", &["--topic", "admin-t"]);
    let topics = admin(&java, &cluster, "list-topics", &[]);
    let names = topics[0]["names"].as_array().cloned().unwrap_or_default();
    assert!(!names.iter().any(|n| n == "admin-t"), "{names:?}");
}
