//! The producer against librdkafka's mock cluster (3 brokers, started by confluent-kafka in a
//! Python process): a second broker implementation, which among other things answers
//! ApiVersions above v2 with a non-standard error body. Every record is delivered, and kcat
//! (librdkafka's CLI) reads them all back.
//!
//! Needs python3 with confluent-kafka, and kcat (`.ci/run` installs both); without them the
//! test prints SKIPPED.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_testkit::peers;
use tokio::io::AsyncBufReadExt;

const TOPIC: &str = "mocked";
const RECORDS: usize = 5_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_reaches_librdkafkas_mock_cluster_and_kcat_reads_them() {
    if !peers::require_python_module("confluent_kafka") || !peers::require_kcat() {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/mock_cluster.py");
    // Killed on drop (kill_on_drop), and it also exits when our end of its stdin closes.
    let mut mock = tokio::process::Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 starts");
    let stdout = mock.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the mock cluster starts within 30 s")
        .expect("read its output")
        .unwrap_or_default();
    let bootstrap = line
        .trim()
        .strip_prefix("bootstrap: ")
        .expect("the mock cluster prints its bootstrap servers")
        .to_string();

    let producer = Producer::new(ProducerConfig::new(&bootstrap))
        .await
        .unwrap();
    let mut futures = Vec::new();
    for i in 0..RECORDS {
        let record = ProducerRecord::new(TOPIC)
            .with_key(format!("k{i}"))
            .with_value(format!("v{i}"));
        futures.push(producer.send(record).await.unwrap());
    }
    let mut offsets: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for f in futures {
        let md = f.await.expect("delivered to the mock cluster");
        offsets.entry(md.partition).or_default().push(md.offset);
    }
    producer.close(Duration::from_secs(5)).await;
    for (p, o) in &offsets {
        assert_eq!(
            o,
            &(0..o.len() as i64).collect::<Vec<_>>(),
            "partition {p} offsets"
        );
    }

    // kcat consumes every partition from the beginning and exits at the end (-e).
    let out = tokio::task::spawn_blocking(move || {
        Command::new("timeout")
            .args([
                "60",
                "kcat",
                "-C",
                "-b",
                &bootstrap,
                "-t",
                TOPIC,
                "-o",
                "beginning",
                "-e",
                "-q",
            ])
            .args(["-f", "%k=%s\n"])
            .output()
    })
    .await
    .unwrap()
    .expect("kcat runs");
    assert!(
        out.status.success(),
        "kcat: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut read: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    read.sort();
    let mut sent: Vec<String> = (0..RECORDS).map(|i| format!("k{i}=v{i}")).collect();
    sent.sort();
    assert_eq!(read, sent);
    drop(mock.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(5), mock.wait()).await;
}
