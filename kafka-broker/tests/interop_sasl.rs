//! Third-party clients authenticate to the bundled broker with SASL (PLAIN, SCRAM-SHA-256,
//! SCRAM-SHA-512): confluent-kafka-python (librdkafka) and kafka-python produce and consume
//! with the right password and are refused with a wrong one.
//!
//! Without the Python client libraries the tests print `SKIPPED: ...` (CI installs them).

mod interop_common;

use std::process::Command;
use std::time::Duration;

use interop_common::{python_scripts_dir, require_python_module, run, BrokerProcess};

fn scenario(client: &str, module: &str) {
    if !require_python_module(module) {
        return;
    }
    let broker = BrokerProcess::start(
        2,
        &[
            "--sasl",
            "plain",
            "--sasl",
            "scram-sha-256",
            "--sasl",
            "scram-sha-512",
            "--user",
            "alice:alice-secret",
            "--topic",
            "sasl-events:2",
        ],
    );
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        for (password, expected) in [("alice-secret", "OK"), ("wrong", "AUTH_FAILED")] {
            let out = run(
                Command::new("python3")
                    .arg(python_scripts_dir().join("sasl_clients.py"))
                    .args([
                        client,
                        broker.bootstrap.as_str(),
                        mechanism,
                        "alice",
                        password,
                        "sasl-events",
                    ])
                    .env("PYTHONUNBUFFERED", "1"),
                None,
                Duration::from_secs(90),
            );
            assert!(
                out.success() && out.stdout.lines().last().map(str::trim) == Some(expected),
                "{client} {mechanism} with {expected:?} expected\n{}\n--- broker ---\n{}",
                out.describe(),
                broker.log()
            );
        }
    }
}

#[test]
fn confluent_kafka_authenticates_with_every_mechanism() {
    scenario("confluent", "confluent_kafka");
}

#[test]
fn kafka_python_authenticates_with_every_mechanism() {
    scenario("kafka-python", "kafka");
}
