//! The `kafka-broker` binary: prints its bootstrap line, serves, and exits cleanly on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Client;
use kafka_protocol::messages::MetadataRequest;

#[tokio::test]
async fn binary_prints_bootstrap_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafka-broker"))
        .args(["--brokers", "3", "--port", "0", "--partitions", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(20), line)
        .await
        .expect("bootstrap line in time")
        .unwrap()
        .unwrap();
    let servers = line
        .trim()
        .strip_prefix("bootstrap: ")
        .expect("bootstrap prefix");
    let addrs: Vec<_> = servers.split(',').map(|s| s.parse().unwrap()).collect();
    assert_eq!(addrs.len(), 3);
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
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_kafka-broker"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
