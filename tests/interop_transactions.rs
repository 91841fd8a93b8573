//! Transactions across clients on the bundled broker: Apache Kafka's Java producer and
//! consumer (`tools/java-peer/JavaPeer.java`) and confluent-kafka-python (librdkafka) against
//! our producer and consumer.
//!
//! - The Java transactional producer commits and aborts; our read_committed consumer sees
//!   exactly the committed records, our read_uncommitted one all of them.
//! - Our transactional producer commits and aborts; Java's and librdkafka's read_committed
//!   consumers see exactly the committed records.
//! - Fencing both ways: our producer's `init_transactions` fences a Java producer holding an
//!   open transaction (its commit fails with ProducerFencedException), and a Java producer
//!   with our transactional id fences ours (`ProducerError::Fenced`).
//!
//! Without Java (or confluent-kafka) each test prints `SKIPPED: ...` and returns; CI installs
//! them and requires them.

use std::collections::BTreeSet;
use std::time::Duration;

use kafka_sdk::admin::{AdminClient, AdminConfig};
use kafka_sdk::broker::{Cluster, ClusterConfig};
use kafka_sdk::consumer::{Consumer, ConsumerConfig, IsolationLevel, OffsetReset};
use kafka_sdk::producer::{Producer, ProducerConfig, ProducerError, ProducerRecord};
use kafka_sdk::protocol::{ApiKey, TopicName};
use kafka_testkit::process::Spawned;
use kafka_testkit::{peers, JavaPeer};

/// Bound on one peer run.
const PEER_TIMEOUT: Duration = Duration::from_secs(180);
const PARTITIONS: i32 = 3;

async fn cluster() -> Cluster {
    Cluster::start(
        ClusterConfig::default()
            .with_brokers(3)
            .with_group_initial_rebalance_delay_ms(0),
    )
    .await
    .expect("bundled cluster starts")
}

fn producer_config(cluster: &Cluster, transactional_id: &str) -> ProducerConfig {
    ProducerConfig::new(&cluster.bootstrap_servers())
        .with_transactional_id(transactional_id)
        .with_max_block(Duration::from_secs(15))
}

/// Builds the Java peer off the async threads (it may compile), or `None` after SKIPPED.
async fn java() -> Option<JavaPeer> {
    tokio::task::spawn_blocking(JavaPeer::build)
        .await
        .expect("build task")
}

/// Runs the Java peer to completion on a blocking thread and returns its stdout.
async fn run_java(java: &JavaPeer, args: Vec<String>) -> String {
    let java = java.clone();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        java.run(&args, None, PEER_TIMEOUT)
    })
    .await
    .expect("peer task");
    assert!(out.success(), "JavaPeer failed\n{}", out.describe());
    out.stdout
}

/// Every value of `topic`, read by our consumer with `isolation` until each partition's end
/// (the last stable offset under read_committed).
async fn read_ours(cluster: &Cluster, topic: &str, isolation: IsolationLevel) -> Vec<String> {
    let mut consumer = Consumer::new(
        ConsumerConfig::new(&cluster.bootstrap_servers())
            .with_isolation_level(isolation)
            .with_auto_offset_reset(OffsetReset::Earliest),
    )
    .await
    .unwrap();
    let tps: Vec<(TopicName, i32)> = (0..PARTITIONS)
        .map(|p| (TopicName::from(topic), p))
        .collect();
    consumer.assign(tps.clone());
    let ends = consumer.end_offsets(&tps).await.unwrap();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tps
        .iter()
        .any(|tp| consumer.position(tp.0.as_str(), tp.1) < ends.get(tp).copied())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reading {topic} timed out"
        );
        for r in consumer.poll(Duration::from_millis(200)).await.unwrap() {
            out.push(String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into());
        }
    }
    consumer.close(Duration::from_secs(1)).await;
    out.sort();
    out
}

fn sorted(values: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = values.into_iter().collect();
    v.sort();
    v
}

/// The values the Java peer's `transact` writes for plan step `step` of `n` records.
fn java_values(id: &str, step: usize, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{id}-{step}-{i}")).collect()
}

#[tokio::test]
async fn java_transactions_are_read_by_our_consumers_as_committed_or_not() {
    let Some(java) = java().await else { return };
    let cluster = cluster().await;
    cluster.create_topic("java-txn", PARTITIONS, &[]).unwrap();
    let stdout = run_java(
        &java,
        [
            "transact",
            "--bootstrap",
            &cluster.bootstrap_servers(),
            "--topic",
            "java-txn",
            "--transactional-id",
            "jtx",
            "--plan",
            "c:40,a:25,c:15,a:5,c:7",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    assert_eq!(JavaPeer::events(&stdout, "committed").len(), 3, "{stdout}");
    assert_eq!(JavaPeer::events(&stdout, "aborted").len(), 2, "{stdout}");

    // The Java 4 client speaks transactions v2 to the bundled broker (KIP-890 part 2): it
    // adds no partitions itself (the leader does, at Produce v12+), ends each transaction
    // with EndTxn v5+, and the coordinator bumps the epoch at each of the five ends.
    let log = cluster.request_log();
    let from_java = |api: ApiKey| {
        log.iter()
            .filter(|e| e.api_key == api as i16)
            .filter(|e| e.client_id.as_deref().is_some_and(|c| c.contains("jtx")))
            .map(|e| e.api_version)
            .collect::<Vec<_>>()
    };
    assert!(from_java(ApiKey::AddPartitionsToTxn).is_empty(), "{log:?}");
    let ends = from_java(ApiKey::EndTxn);
    assert!(
        ends.len() >= 5 && ends.iter().all(|v| *v >= 5),
        "EndTxn versions {ends:?}"
    );
    let admin = AdminClient::connect(AdminConfig::new(&cluster.bootstrap_servers()))
        .await
        .unwrap();
    let described = admin
        .describe_transactions(&["jtx".to_string()])
        .await
        .unwrap();
    let jtx = described["jtx"].clone().unwrap();
    assert_eq!(
        jtx.producer_epoch, 5,
        "one bump per commit or abort: {jtx:?}"
    );

    let committed = sorted(
        [(0, 40), (2, 15), (4, 7)]
            .into_iter()
            .flat_map(|(s, n)| java_values("jtx", s, n)),
    );
    let all = sorted(
        [(0, 40), (1, 25), (2, 15), (3, 5), (4, 7)]
            .into_iter()
            .flat_map(|(s, n)| java_values("jtx", s, n)),
    );
    assert_eq!(
        read_ours(&cluster, "java-txn", IsolationLevel::ReadCommitted).await,
        committed
    );
    assert_eq!(
        read_ours(&cluster, "java-txn", IsolationLevel::ReadUncommitted).await,
        all
    );
}

/// Writes three transactions with our producer: 30 committed, 20 aborted, 10 committed.
async fn write_ours(cluster: &Cluster, topic: &str) -> (Vec<String>, Vec<String>) {
    let producer = Producer::new(producer_config(cluster, "ours-txn"))
        .await
        .unwrap();
    producer.init_transactions().await.unwrap();
    let mut committed = Vec::new();
    let mut aborted = Vec::new();
    for (step, n, commit) in [(0, 30, true), (1, 20, false), (2, 10, true)] {
        producer.begin_transaction().unwrap();
        let mut deliveries = Vec::new();
        for i in 0..n {
            let value = format!("ours-{step}-{i}");
            deliveries.push(
                producer
                    .send(ProducerRecord::new(topic).with_value(value.clone()))
                    .await
                    .unwrap(),
            );
            if commit {
                committed.push(value);
            } else {
                aborted.push(value);
            }
        }
        for d in deliveries {
            d.await.unwrap();
        }
        if commit {
            producer.commit_transaction().await.unwrap();
        } else {
            producer.abort_transaction().await.unwrap();
        }
    }
    producer.close(Duration::from_secs(5)).await;
    (sorted(committed), sorted(aborted))
}

#[tokio::test]
async fn java_read_committed_consumer_sees_exactly_our_committed_records() {
    let Some(java) = java().await else { return };
    let cluster = cluster().await;
    cluster
        .create_topic("ours-for-java", PARTITIONS, &[])
        .unwrap();
    let (committed, aborted) = write_ours(&cluster, "ours-for-java").await;
    let read = |isolation: &str, max: usize| {
        [
            "consume",
            "--bootstrap",
            &cluster.bootstrap_servers(),
            "--topic",
            "ours-for-java",
            "--group",
            &format!("java-{isolation}"),
            "--from-beginning",
            "--isolation",
            isolation,
            "--max-records",
            &max.to_string(),
            // Java stops at max records or after this: more than max would show as extras
            // only if they arrived in the same polls, so the count is checked at the end too.
            "--timeout-ms",
            "8000",
        ]
        .map(String::from)
        .to_vec()
    };
    // Ask for one more than expected: Java runs to its timeout and returns what exists.
    let stdout = run_java(&java, read("read_committed", committed.len() + 1)).await;
    let got = sorted(
        JavaPeer::events(&stdout, "record")
            .iter()
            .map(|e| e["value"].as_str().unwrap_or_default().to_string()),
    );
    assert_eq!(got, committed, "Java read_committed");
    let stdout = run_java(
        &java,
        read("read_uncommitted", committed.len() + aborted.len()),
    )
    .await;
    let got: BTreeSet<String> = JavaPeer::events(&stdout, "record")
        .iter()
        .map(|e| e["value"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        aborted.iter().all(|v| got.contains(v)),
        "Java read_uncommitted sees aborted records"
    );
}

#[tokio::test]
async fn librdkafka_read_committed_consumer_sees_exactly_our_committed_records() {
    if !peers::require_python_module("confluent_kafka") {
        return;
    }
    let cluster = cluster().await;
    cluster
        .create_topic("ours-for-rdkafka", PARTITIONS, &[])
        .unwrap();
    let (committed, aborted) = write_ours(&cluster, "ours-for-rdkafka").await;
    let script = peers::repo_root().join("tests/interop/confluent_read.py");
    for (isolation, expected) in [
        ("read_committed", committed.clone()),
        (
            "read_uncommitted",
            sorted(committed.iter().chain(&aborted).cloned()),
        ),
    ] {
        let bootstrap = cluster.bootstrap_servers();
        let script = script.clone();
        let out = tokio::task::spawn_blocking(move || {
            kafka_testkit::process::run(
                std::process::Command::new("python3")
                    .arg(&script)
                    .arg(&bootstrap)
                    .arg("ours-for-rdkafka")
                    .arg(isolation),
                None,
                PEER_TIMEOUT,
            )
        })
        .await
        .unwrap();
        assert!(out.success(), "confluent_read.py\n{}", out.describe());
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(
            lines.last().copied(),
            Some(&*format!("END {}", expected.len()) as &str)
        );
        let got = sorted(lines[..lines.len() - 1].iter().map(|s| s.to_string()));
        assert_eq!(got, expected, "librdkafka {isolation}");
    }
}

#[tokio::test]
async fn our_producer_fences_a_java_producer_and_a_java_producer_fences_ours() {
    let Some(java) = java().await else { return };
    let cluster = cluster().await;
    cluster.create_topic("fence-x", PARTITIONS, &[]).unwrap();
    let bootstrap = cluster.bootstrap_servers();

    // Java holds an open transaction; our init_transactions with its id fences it and aborts
    // the transaction.
    let args = [
        "transact",
        "--bootstrap",
        &bootstrap,
        "--topic",
        "fence-x",
        "--transactional-id",
        "shared-id",
        "--plan",
        "c:12",
        "--hold",
    ]
    .map(String::from)
    .to_vec();
    let peer = java.clone();
    let mut held: Spawned = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut held = peer.spawn(&args);
        let holding = held.wait_for(PEER_TIMEOUT, |out, _| out.contains("\"holding\""));
        assert!(
            holding,
            "Java never held its transaction\n{}",
            held.stderr()
        );
        held
    })
    .await
    .unwrap();
    let ours = Producer::new(producer_config(&cluster, "shared-id"))
        .await
        .unwrap();
    ours.init_transactions().await.unwrap();
    // Let Java try to commit.
    let out = tokio::task::spawn_blocking(move || {
        held.close_stdin();
        held.wait(PEER_TIMEOUT)
    })
    .await
    .unwrap();
    let failed = JavaPeer::events(&out.stdout, "commit_failed");
    assert_eq!(
        failed.len(),
        1,
        "Java's commit after the fence\n{}",
        out.describe()
    );
    let kind = failed[0]["type"].as_str().unwrap_or_default();
    assert!(
        kind.ends_with("ProducerFencedException")
            || kind.ends_with("InvalidProducerEpochException"),
        "Java failed with {kind}"
    );

    // Now ours holds an open transaction, and a Java producer with the same id fences it.
    ours.begin_transaction().unwrap();
    ours.send(ProducerRecord::new("fence-x").with_value("ours-zombie"))
        .await
        .unwrap()
        .await
        .unwrap();
    let stdout = run_java(
        &java,
        [
            "transact",
            "--bootstrap",
            &bootstrap,
            "--topic",
            "fence-x",
            "--transactional-id",
            "shared-id",
            "--plan",
            "c:5",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    assert_eq!(JavaPeer::events(&stdout, "committed").len(), 1, "{stdout}");
    let err = ours.commit_transaction().await.unwrap_err();
    assert!(
        matches!(err, ProducerError::Fenced(_)),
        "ours failed with {err:?}"
    );
    ours.close(Duration::from_secs(1)).await;

    // Only the last Java transaction is visible to read_committed.
    assert_eq!(
        read_ours(&cluster, "fence-x", IsolationLevel::ReadCommitted).await,
        sorted(java_values("shared-id", 0, 5))
    );
}
