//! `kfk` against Apache Kafka (one KRaft node from Maven Central), checked with Kafka's own
//! tools (`kafka-tools`: `TopicCommand` and `ConsumerGroupCommand`, what `kafka-topics.sh` and
//! `kafka-consumer-groups.sh` run).
//!
//! Without Java and Maven the test prints `SKIPPED: ...` (CI installs them and requires them).

use std::process::Command;
use std::time::Duration;

use kafka_testkit::process::{run, Output};
use kafka_testkit::real_kafka::run_kafka_tool;
use kafka_testkit::serde_json::{self, Value};
use kafka_testkit::RealKafka;

const LIMIT: Duration = Duration::from_secs(90);

fn kfk(bootstrap: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_kfk"))
            .args(["-b", bootstrap])
            .args(args),
        stdin.map(|s| s.as_bytes().to_vec()),
        LIMIT,
    );
    assert!(out.success(), "kfk {args:?}\n{}", out.describe());
    out
}

fn tool(class: &str, args: &[&str]) -> String {
    let out = run_kafka_tool(class, args, LIMIT).expect("java is there when Kafka is");
    assert!(out.success(), "{class} {args:?}\n{}", out.describe());
    out.stdout
}

/// Waits for `check` over a tool's output, for up to 20 s (metadata reaches the tools' broker
/// a moment after the controller answers).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn what_kfk_does_is_what_kafkas_own_tools_report() {
    let Some(kafka) = RealKafka::start() else {
        return;
    };
    let b = kafka.bootstrap();
    let topics_cmd = "org.apache.kafka.tools.TopicCommand";
    let groups_cmd = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";

    kfk(
        &b,
        &[
            "topics",
            "create",
            "kfk-made",
            "--partitions",
            "3",
            "--config",
            "retention.ms=123456",
        ],
        None,
    );
    eventually("kafka-topics describes the topic", || {
        let out = tool(
            topics_cmd,
            &[
                "--bootstrap-server",
                &b,
                "--describe",
                "--topic",
                "kfk-made",
            ],
        );
        out.contains("PartitionCount: 3") && out.contains("retention.ms=123456")
    });

    // A declarative file: created, then re-applied with nothing to do, then grown.
    let dir = std::env::temp_dir().join(format!("kfk-real-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("topics.toml");
    std::fs::write(&file, "[[topics]]\nname = \"kfk-applied\"\npartitions = 2\nconfigs = { \"cleanup.policy\" = \"compact\" }\n").unwrap();
    let f = file.to_str().unwrap();
    assert!(kfk(&b, &["topics", "apply", f], None)
        .stdout
        .contains("create topic kfk-applied"));
    eventually("the applied topic is visible", || {
        kfk(&b, &["topics", "apply", f], None).stdout
            == "nothing to change: the cluster matches the file\n"
    });
    std::fs::write(&file, "[[topics]]\nname = \"kfk-applied\"\npartitions = 4\nconfigs = { \"cleanup.policy\" = \"compact\" }\n").unwrap();
    assert!(kfk(&b, &["topics", "apply", f], None)
        .stdout
        .contains("add partitions to kfk-applied: 2 -> 4"));
    eventually("kafka-topics sees four compacted partitions", || {
        let out = tool(
            topics_cmd,
            &[
                "--bootstrap-server",
                &b,
                "--describe",
                "--topic",
                "kfk-applied",
            ],
        );
        out.contains("PartitionCount: 4") && out.contains("cleanup.policy=compact")
    });
    std::fs::remove_dir_all(&dir).ok();

    // Records in, a group reads them all: kafka-consumer-groups shows no lag.
    let lines: String = (0..30).map(|i| format!("k{i}:v{i}\n")).collect();
    let out = kfk(&b, &["produce", "kfk-made", "-k", ":"], Some(&lines));
    assert!(
        out.stderr.is_empty(),
        "no progress bar when stderr is not a terminal: {}",
        out.stderr
    );
    let consumed = kfk(
        &b,
        &[
            "consume",
            "kfk-made",
            "--group",
            "kfk-group",
            "--from-beginning",
            "-e",
            "--format",
            "%k",
        ],
        None,
    );
    assert_eq!(consumed.stdout.lines().count(), 30);
    let lag: Value = serde_json::from_str(
        kfk(&b, &["-o", "json", "groups", "lag", "kfk-group"], None)
            .stdout
            .trim(),
    )
    .unwrap();
    assert_eq!(lag[0]["total_lag"], 0);
    let described = tool(
        groups_cmd,
        &[
            "--bootstrap-server",
            &b,
            "--describe",
            "--group",
            "kfk-group",
        ],
    );
    let rows: Vec<Vec<&str>> = described
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols.first() == Some(&"kfk-group"))
        .collect();
    assert_eq!(rows.len(), 3, "{described}");
    // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
    assert!(rows.iter().all(|r| r[5] == "0"), "no lag: {described}");
    let total: i64 = rows.iter().map(|r| r[3].parse::<i64>().unwrap()).sum();
    assert_eq!(total, 30, "{described}");

    // kfk resets the group; Kafka's tool sees the new offsets.
    kfk(
        &b,
        &["groups", "reset-offsets", "kfk-group", "--to-earliest"],
        None,
    );
    let after = tool(
        groups_cmd,
        &[
            "--bootstrap-server",
            &b,
            "--describe",
            "--group",
            "kfk-group",
        ],
    );
    let current: Vec<&str> = after
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols.first() == Some(&"kfk-group"))
        .map(|cols| cols[3])
        .collect();
    assert_eq!(current, vec!["0", "0", "0"], "{after}");
    let listed = tool(groups_cmd, &["--bootstrap-server", &b, "--list"]);
    assert!(listed.lines().any(|l| l.trim() == "kfk-group"), "{listed}");
    drop(kafka);
}
