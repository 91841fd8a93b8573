//! Interop with the Python clients confluent-kafka-python (librdkafka) and kafka-python (pure
//! Python): admin create/list/delete of topics, and produce, group consume, commit and offset fetch.
//!
//! The scenarios live in `tests/interop/*.py`; each test starts its own in-process cluster of three
//! brokers (so group coordinators and partition leaders are spread) and runs one scenario with a
//! time bound. When the client library is not installed the test prints `SKIPPED: ...` and
//! returns; CI installs them (`.ci/install-peers.sh`).

mod interop_common;

use std::process::Command;
use std::time::Duration;

use interop_common::{python_scripts_dir, require_python_module, run, TestCluster};

/// Bound on one scenario; the scripts' own watchdog fires a little earlier with a stack dump.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(180);

fn run_scenario(module: &str, script: &str, scenario: &str) {
    if !require_python_module(module) {
        return;
    }
    let cluster = TestCluster::start(3);
    let out = run(
        Command::new("python3")
            .arg(python_scripts_dir().join(script))
            .args([cluster.bootstrap().as_str(), scenario])
            .env("PYTHONUNBUFFERED", "1"),
        None,
        SCENARIO_TIMEOUT,
    );
    let last = out
        .stdout
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert!(
        out.success() && last == format!("OK {scenario}"),
        "{script} {scenario} failed\n{}\n--- broker ---\n{}",
        out.describe(),
        cluster.log()
    );
}

#[test]
fn confluent_kafka_admin_creates_lists_and_deletes_topics() {
    run_scenario("confluent_kafka", "confluent_client.py", "admin");
}

#[test]
fn confluent_kafka_produces_consumes_in_a_group_and_commits() {
    run_scenario("confluent_kafka", "confluent_client.py", "group");
}

#[test]
fn kafka_python_admin_creates_lists_and_deletes_topics() {
    run_scenario("kafka", "kafka_python_client.py", "admin");
}

#[test]
fn kafka_python_produces_consumes_in_a_group_and_commits() {
    run_scenario("kafka", "kafka_python_client.py", "group");
}
