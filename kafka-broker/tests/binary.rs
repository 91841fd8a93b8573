//! The `kafka-broker` binary: prints its bootstrap line, serves, and exits cleanly on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::Client;
use kafka_protocol::messages::{metadata_request, MetadataRequest};
use kafka_protocol::ErrorCode;

/// The running binary; killed if the test ends (or panics) before it stopped by itself.
struct Broker(Option<Child>);

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts the binary with `args` and returns it with the line it printed on stdout.
async fn start(args: &[&str]) -> (Broker, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafka-broker"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let broker = Broker(Some(child));
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(20), line)
        .await
        .expect("bootstrap line in time")
        .unwrap()
        .unwrap();
    (broker, line)
}

fn bootstrap(line: &str) -> Vec<SocketAddr> {
    let servers = line
        .trim()
        .strip_prefix("bootstrap: ")
        .expect("bootstrap prefix");
    servers.split(',').map(|s| s.parse().unwrap()).collect()
}

#[tokio::test]
async fn binary_prints_bootstrap_serves_and_stops_on_sigterm() {
    let (mut broker, line) = start(&["--brokers", "3", "--port", "0", "--partitions", "2"]).await;
    let addrs = bootstrap(&line);
    assert_eq!(addrs.len(), 3);
    let mut child = broker.0.take().expect("running");
    let mut c = Client::connect(addrs[2]).await;
    let r = c
        .send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert_eq!(r.brokers.len(), 3);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait());
    let exit = tokio::time::timeout(Duration::from_secs(20), exit)
        .await
        .expect("exits after SIGTERM")
        .unwrap()
        .unwrap();
    assert!(exit.success(), "exit status {exit:?}");
}

#[test]
fn help_documents_every_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_kafka-broker"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--brokers",
        "--port",
        "--host",
        "--partitions",
        "--auto-create",
        "--no-auto-create",
        "--message-max-bytes",
        "--cluster-id",
        "--topic",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_kafka-broker"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// `--host ::1` prints a bootstrap list clients can parse (`[::1]:PORT`), and `--topic` creates
/// topics at start, which `--no-auto-create` setups need (kcat cannot create topics).
#[tokio::test]
async fn ipv6_bootstrap_and_topics_at_start() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        println!("SKIPPED: this machine has no IPv6 loopback");
        return;
    }
    let (_broker, line) = start(&[
        "--host",
        "::1",
        "--port",
        "0",
        "--no-auto-create",
        "--topic",
        "orders:3:cleanup.policy=compact",
        "--topic",
        "audit",
    ])
    .await;
    assert!(line.starts_with("bootstrap: [::1]:"), "{line}");
    let addrs = bootstrap(&line);
    let mut c = Client::connect(addrs[0]).await;
    let topics = ["orders", "audit", "missing"]
        .map(|name| metadata_request::MetadataRequestTopic::default().with_name(Some(name.into())));
    let r = c
        .send(
            &MetadataRequest::default()
                .with_topics(Some(topics.to_vec()))
                .with_allow_auto_topic_creation(true),
            12,
        )
        .await;
    let partitions: Vec<(Option<String>, ErrorCode, usize)> = r
        .topics
        .iter()
        .map(|t| {
            (
                t.name.as_deref().map(String::from),
                t.error_code,
                t.partitions.len(),
            )
        })
        .collect();
    assert_eq!(
        partitions,
        vec![
            (Some("orders".into()), ErrorCode::None, 3),
            (Some("audit".into()), ErrorCode::None, 1),
            (
                Some("missing".into()),
                ErrorCode::UnknownTopicOrPartition,
                0
            ),
        ]
    );
    assert_eq!(r.brokers[0].host, "::1");
}

#[test]
fn a_bad_topic_at_start_exits_with_the_reason() {
    let out = Command::new(env!("CARGO_BIN_EXE_kafka-broker"))
        .args(["--port", "0", "--topic", "t:1:cleanup.policy=sometimes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--topic t"), "{err}");
}
