//! Real Kafka as a test peer: a node starts and answers, a three-node cluster survives killing
//! and restarting a node, an older 3.9 broker negotiates lower versions, and no JVM outlives
//! the process that started it.
//!
//! Without Java and Maven each test prints `SKIPPED: ...` and returns (CI installs them).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest};
use kafka_protocol::ApiKey;
use kafka_testkit::wire::Connection;
use kafka_testkit::{peers, RealKafka, RealKafkaConfig};

const TIMEOUT: Duration = Duration::from_secs(10);

fn brokers_seen_by(address: &str) -> usize {
    let mut conn = Connection::connect(address, TIMEOUT).expect("connect");
    let metadata = conn
        .send(&MetadataRequest::default().with_topics(Some(Vec::new())), 9)
        .expect("Metadata");
    metadata.brokers.len()
}

fn api_versions(address: &str) -> Vec<(i16, i16, i16)> {
    let mut conn = Connection::connect(address, TIMEOUT).expect("connect");
    let request = ApiVersionsRequest::default()
        .with_client_software_name("kafka-testkit")
        .with_client_software_version("0.1.0");
    conn.send(&request, 3)
        .expect("ApiVersions")
        .api_keys
        .iter()
        .map(|k| (k.api_key, k.min_version, k.max_version))
        .collect()
}

fn is_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"))
}

#[test]
fn a_node_starts_answers_and_stops_with_its_handle() {
    let Some(kafka) = RealKafka::start() else {
        return;
    };
    let address = kafka.bootstrap();
    assert_eq!(brokers_seen_by(&address), 1);
    assert_eq!(kafka.cluster_id().len(), 22);
    let pids = kafka.pids();
    assert_eq!(pids.len(), 1);
    drop(kafka);
    assert!(
        pids.iter().all(|p| !is_alive(*p)),
        "the JVM outlived its handle"
    );
    assert!(Connection::connect(&address, Duration::from_secs(2)).is_err());
}

#[test]
fn a_three_node_cluster_survives_a_killed_node() {
    let Some(kafka) = RealKafka::cluster(3) else {
        return;
    };
    let nodes = kafka.nodes();
    assert_eq!(nodes.len(), 3);
    let first = nodes[0].1.clone();
    assert_eq!(brokers_seen_by(&first), 3);
    kafka.kill(3);
    let deadline = Instant::now() + Duration::from_secs(60);
    // The controller fences the dead broker once its session times out.
    while brokers_seen_by(&first) != 2 {
        assert!(
            Instant::now() < deadline,
            "node 3 still listed after its death"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    kafka.restart(3);
    assert_eq!(brokers_seen_by(&first), 3);
    assert_eq!(kafka.pids().len(), 3);
}

#[test]
fn an_older_broker_advertises_lower_versions() {
    if !peers::require_java() {
        return;
    }
    // Kafka 3.9 is the last 3.x line; if Maven Central stops serving it, say so plainly.
    let config = RealKafkaConfig::new(1).with_version("3.9.2");
    let kafka = match RealKafka::launch(config) {
        Ok(kafka) => kafka,
        Err(e) => panic!("Kafka 3.9.2 did not start: {e}"),
    };
    let versions = api_versions(&kafka.bootstrap());
    let fetch = versions
        .iter()
        .find(|(k, _, _)| *k == ApiKey::Fetch.key())
        .copied()
        .expect("Fetch advertised");
    // Kafka 3.9 still serves the old Fetch versions and stops at v17.
    assert_eq!((fetch.1, fetch.2), (0, 17));
    let ours = ApiKey::Fetch.versions();
    let theirs = kafka_protocol::VersionRange {
        min: fetch.1,
        max: fetch.2,
    };
    assert_eq!(ours.highest_common(theirs), Some(17));
}

#[test]
fn nodes_die_with_the_process_that_started_them() {
    if !peers::require_java() {
        return;
    }
    let mut tool = Command::new(env!("CARGO_BIN_EXE_real-kafka"))
        .args(["--version", &kafka_testkit::real_kafka::pinned_version()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start real-kafka");
    let stdout = tool.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read bootstrap line");
    let address = line
        .trim()
        .strip_prefix("bootstrap: ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert_eq!(brokers_seen_by(&address), 1);
    // SIGKILL: the tool gets no chance to stop its node; the node must notice on its own.
    tool.kill().expect("kill real-kafka");
    let _ = tool.wait();
    let deadline = Instant::now() + Duration::from_secs(45);
    while Connection::connect(&address, Duration::from_secs(1)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the Kafka node outlived the process that started it"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
