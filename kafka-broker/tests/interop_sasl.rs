//! Third-party clients authenticate to the bundled broker with SASL (PLAIN, SCRAM-SHA-256,
//! SCRAM-SHA-512), over plain TCP and over TLS: confluent-kafka-python (librdkafka),
//! kafka-python and kcat produce and consume (or list metadata) with the right password and are
//! refused with a wrong one.
//!
//! Without the Python client libraries or kcat the tests print `SKIPPED: ...` (CI installs them).

mod interop_common;

use std::process::Command;
use std::time::Duration;

use interop_common::{python_scripts_dir, require_python_module, run, BrokerProcess};

/// A CA and a broker certificate for 127.0.0.1 it signed, written to files in a fresh
/// directory: (directory, CA file, certificate file, key file).
fn tls_files() -> (std::path::PathBuf, String, String, String) {
    let ca = kafka_testkit::tls::TestCa::new("interop CA");
    let (cert, key) = ca.issue(&["127.0.0.1", "localhost"]);
    let dir = std::env::temp_dir().join(format!(
        "kafka-sdk-interop-tls-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let ca_file = write("ca.pem", ca.pem());
    let cert_file = write("broker.pem", cert);
    let key_file = write("broker.key", key);
    (dir, ca_file, cert_file, key_file)
}

const SASL_FLAGS: &[&str] = &[
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
];

fn scenario(client: &str, module: &str, tls: bool) {
    if !require_python_module(module) {
        return;
    }
    let files = tls.then(tls_files);
    let mut flags: Vec<&str> = SASL_FLAGS.to_vec();
    if let Some((_, _, cert, key)) = &files {
        flags.extend(["--tls-cert", cert.as_str(), "--tls-key", key.as_str()]);
    }
    let broker = BrokerProcess::start(2, &flags);
    let ca = files.as_ref().map(|f| f.1.clone());
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        // A refusal takes the client's own timeout to show; one mechanism shows it (the
        // broker's refusal does not depend on the mechanism, and kafka-client's tests cover
        // every one).
        let cases: &[(&str, &str)] = if mechanism == "SCRAM-SHA-256" {
            &[("alice-secret", "OK"), ("wrong", "AUTH_FAILED")]
        } else {
            &[("alice-secret", "OK")]
        };
        for (password, expected) in cases.iter().copied() {
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
                    .args(ca.iter())
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
    scenario("confluent", "confluent_kafka", false);
}

#[test]
fn kafka_python_authenticates_with_every_mechanism() {
    scenario("kafka-python", "kafka", false);
}

#[test]
fn confluent_kafka_authenticates_over_tls() {
    scenario("confluent", "confluent_kafka", true);
}

#[test]
fn kafka_python_authenticates_over_tls() {
    scenario("kafka-python", "kafka", true);
}

#[test]
fn kcat_lists_metadata_over_sasl_ssl_and_is_refused_with_a_wrong_password() {
    if !kafka_testkit::peers::require_kcat() {
        return;
    }
    let (dir, ca, cert, key) = tls_files();
    let mut flags: Vec<&str> = SASL_FLAGS.to_vec();
    flags.extend(["--tls-cert", cert.as_str(), "--tls-key", key.as_str()]);
    let broker = BrokerProcess::start(1, &flags);
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        for (password, ok) in [("alice-secret", true), ("wrong", false)] {
            let out = run(
                Command::new("kcat").args([
                    "-b",
                    broker.bootstrap.as_str(),
                    "-L",
                    "-m",
                    "5",
                    "-X",
                    "security.protocol=SASL_SSL",
                    "-X",
                    &format!("sasl.mechanisms={mechanism}"),
                    "-X",
                    "sasl.username=alice",
                    "-X",
                    &format!("sasl.password={password}"),
                    "-X",
                    &format!("ssl.ca.location={ca}"),
                ]),
                None,
                Duration::from_secs(30),
            );
            if ok {
                assert!(
                    out.success() && out.stdout.contains("sasl-events"),
                    "{mechanism}\n{}",
                    out.describe()
                );
            } else {
                assert!(
                    !out.success(),
                    "{mechanism}: a wrong password must fail\n{}",
                    out.describe()
                );
                assert!(
                    out.stderr.contains("Authentication failed")
                        || out.stdout.contains("Authentication failed"),
                    "{mechanism}\n{}",
                    out.describe()
                );
            }
        }
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_java_client_authenticates_over_sasl_ssl_and_is_refused_with_a_wrong_password() {
    let Some(java) = kafka_testkit::JavaPeer::build() else {
        return;
    };
    let (dir, ca, cert, key) = tls_files();
    let mut flags: Vec<&str> = SASL_FLAGS.to_vec();
    flags.extend(["--tls-cert", cert.as_str(), "--tls-key", key.as_str()]);
    let broker = BrokerProcess::start(2, &flags);
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let module = if mechanism == "PLAIN" {
            "plain.PlainLoginModule"
        } else {
            "scram.ScramLoginModule"
        };
        let props = |password: &str| {
            vec![
                "security.protocol=SASL_SSL".to_string(),
                format!("sasl.mechanism={mechanism}"),
                format!("sasl.jaas.config=org.apache.kafka.common.security.{module} required username=\"alice\" password=\"{password}\";"),
                "ssl.truststore.type=PEM".to_string(),
                format!("ssl.truststore.location={ca}"),
                "max.block.ms=5000".to_string(),
            ]
        };
        let args = |command: &str, password: &str, extra: &[&str]| {
            let mut a: Vec<String> = vec![
                command.into(),
                "--bootstrap".into(),
                broker.bootstrap.clone(),
                "--topic".into(),
                "sasl-events".into(),
            ];
            a.extend(extra.iter().map(|s| s.to_string()));
            for p in props(password) {
                a.push("--property".into());
                a.push(p);
            }
            a
        };
        let produce = args("produce", "alice-secret", &["--count", "5"]);
        let out = java.run(
            &produce.iter().map(String::as_str).collect::<Vec<_>>(),
            None,
            Duration::from_secs(90),
        );
        let summary = kafka_testkit::JavaPeer::events(&out.stdout, "summary");
        assert!(
            out.success() && summary.first().is_some_and(|s| s["acked"] == 5),
            "{mechanism}\n{}\n{}",
            out.describe(),
            broker.log()
        );
        let group = format!("java-sasl-{}", mechanism.to_lowercase());
        let consume = args(
            "consume",
            "alice-secret",
            &[
                "--group",
                &group,
                "--from-beginning",
                "--max-records",
                "5",
                "--timeout-ms",
                "60000",
            ],
        );
        let out = java.run(
            &consume.iter().map(String::as_str).collect::<Vec<_>>(),
            None,
            Duration::from_secs(90),
        );
        // Each mechanism's run adds five records; a new group reads from the start.
        assert!(
            kafka_testkit::JavaPeer::events(&out.stdout, "record").len() >= 5,
            "{mechanism}\n{}",
            out.describe()
        );
        if mechanism != "SCRAM-SHA-512" {
            continue;
        }
        let refused = args("produce", "wrong", &["--count", "1"]);
        let out = java.run(
            &refused.iter().map(String::as_str).collect::<Vec<_>>(),
            None,
            Duration::from_secs(90),
        );
        let acked = kafka_testkit::JavaPeer::events(&out.stdout, "summary")
            .first()
            .map(|s| s["acked"].clone());
        assert!(
            acked != Some(1.into()),
            "{mechanism}: a wrong password must not write\n{}",
            out.describe()
        );
        assert!(
            out.stdout.contains("Authentication failed")
                || out.stderr.contains("Authentication failed")
                || out.stdout.contains("SaslAuthenticationException"),
            "{mechanism}: the refusal is reported\n{}",
            out.describe()
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn confluent_kafka_authenticates_with_oauthbearer_unsecured_tokens() {
    if !require_python_module("confluent_kafka") {
        return;
    }
    let broker = BrokerProcess::start(1, &["--sasl", "oauthbearer", "--topic", "sasl-events:1"]);
    let out = run(
        Command::new("python3")
            .arg(python_scripts_dir().join("sasl_clients.py"))
            .args([
                "confluent",
                broker.bootstrap.as_str(),
                "OAUTHBEARER",
                "svc-orders",
                "-",
                "sasl-events",
            ])
            .env("PYTHONUNBUFFERED", "1"),
        None,
        Duration::from_secs(90),
    );
    assert!(
        out.success() && out.stdout.lines().last().map(str::trim) == Some("OK"),
        "{}\n--- broker ---\n{}",
        out.describe(),
        broker.log()
    );
}
