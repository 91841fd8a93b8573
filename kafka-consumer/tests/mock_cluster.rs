//! The consumer reads a whole topic from librdkafka's mock cluster (3 brokers, started by
//! confluent-kafka in a Python process), written there by our producer.
//!
//! Needs python3 with confluent-kafka (`.ci/run` installs it); without it the test prints
//! SKIPPED.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use kafka_consumer::{Consumer, ConsumerConfig, OffsetReset};
use kafka_protocol::TopicName;
use kafka_testkit::peers;
use tokio::io::AsyncBufReadExt;

const TOPIC: &str = "mock-read";
const RECORDS: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_a_whole_topic_from_librdkafkas_mock_cluster() {
    if !peers::require_python_module("confluent_kafka") {
        return;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../kafka-producer/tests/interop/mock_cluster.py"
    );
    let mut mock = tokio::process::Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 starts");
    let mut lines = tokio::io::BufReader::new(mock.stdout.take().expect("stdout")).lines();
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

    let expected = common::produce(&bootstrap, TOPIC, 0, RECORDS).await;

    let mut consumer = Consumer::new(
        ConsumerConfig::new(&bootstrap)
            .with_auto_offset_reset(OffsetReset::Earliest)
            .with_fetch_max_wait(Duration::from_millis(100)),
    )
    .await
    .unwrap();
    consumer
        .client()
        .refresh_metadata(&[TOPIC.into()], false)
        .await
        .unwrap();
    let partitions = consumer
        .client()
        .metadata()
        .topic(TOPIC)
        .map_or(0, |t| t.partitions.len() as i32);
    assert!(partitions > 0);
    consumer.assign((0..partitions).map(|p| (TopicName::from(TOPIC), p)));
    let mut got: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut total = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while total < RECORDS {
        assert!(Instant::now() < deadline, "read {total} of {RECORDS}");
        for r in consumer.poll(Duration::from_millis(200)).await.unwrap() {
            let v = String::from_utf8(r.value.unwrap_or_default().to_vec()).unwrap();
            got.entry(r.partition).or_default().push(v);
            total += 1;
        }
    }
    assert_eq!(got, expected, "every record, in order per partition");
    drop(mock.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(5), mock.wait()).await;
}
