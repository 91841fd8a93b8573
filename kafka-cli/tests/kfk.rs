//! `kfk` end to end: the binary against a three-broker bundled cluster started by the test,
//! asserting on stdout (tables and JSON parsed back), stderr and the exit status.

use std::process::Command;
use std::time::Duration;

use kafka_broker::{Cluster, ClusterConfig};
use kafka_testkit::process::{run, Output, Spawned};
use kafka_testkit::serde_json::{self, Value};

const LIMIT: Duration = Duration::from_secs(60);

struct Env {
    rt: tokio::runtime::Runtime,
    cluster: Option<Cluster>,
    bootstrap: String,
}

impl Env {
    fn start() -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let cluster = rt
            .block_on(Cluster::start(ClusterConfig::default().with_brokers(3)))
            .unwrap();
        let bootstrap = cluster.bootstrap_servers();
        Env {
            rt,
            cluster: Some(cluster),
            bootstrap,
        }
    }

    fn kfk(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run(
            Command::new(env!("CARGO_BIN_EXE_kfk"))
                .args(["-b", &self.bootstrap])
                .args(args),
            stdin.map(|s| s.as_bytes().to_vec()),
            LIMIT,
        )
    }

    /// Runs and requires success; returns stdout.
    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.kfk(args, stdin);
        assert!(out.success(), "kfk {args:?}\n{}", out.describe());
        out.stdout
    }

    /// Runs with `-o json` and parses the one document it prints.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        let out = self.ok(&all, None);
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("kfk {args:?}: {e}\n{out}"))
    }

    /// Runs, requires failure, and returns the one stderr line.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.kfk(args, None);
        assert!(
            !out.success() && !out.timed_out,
            "kfk {args:?} should fail\n{}",
            out.describe()
        );
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stderr: {}", out.describe());
        lines[0].to_string()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(c) = self.cluster.take() {
            self.rt
                .block_on(async {
                    tokio::time::timeout(Duration::from_secs(20), c.shutdown()).await
                })
                .ok();
        }
    }
}

#[test]
fn topics_create_list_describe_alter_and_delete() {
    let env = Env::start();
    let out = env.ok(
        &[
            "topics",
            "create",
            "orders",
            "--partitions",
            "3",
            "--replication-factor",
            "2",
            "--config",
            "retention.ms=1000",
        ],
        None,
    );
    assert_eq!(
        out.trim(),
        "created topic orders (3 partitions, replication factor 2)"
    );
    let again = env.fails(&["topics", "create", "orders", "--partitions", "3"]);
    assert!(
        again.starts_with("kfk: topic orders:") && again.contains("TOPIC_ALREADY_EXISTS"),
        "{again}"
    );
    env.ok(
        &[
            "topics",
            "create",
            "orders",
            "--partitions",
            "3",
            "--if-not-exists",
        ],
        None,
    );

    let listed = env.json(&["topics", "list"]);
    assert_eq!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["name"] == "orders")
            .count(),
        1
    );
    let described = env.json(&["topics", "describe", "orders"]);
    let partitions = described[0]["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), 3);
    assert!(partitions
        .iter()
        .all(|p| p["replicas"].as_array().unwrap().len() == 2));
    let table = env.ok(&["topics", "describe", "orders"], None);
    assert!(
        table.starts_with("TOPIC   PARTITION  LEADER  REPLICAS  ISR\norders  0"),
        "{table}"
    );

    env.ok(
        &[
            "topics",
            "alter-config",
            "orders",
            "--set",
            "retention.ms=5000",
            "--delete",
            "cleanup.policy",
        ],
        None,
    );
    let configs = env.rt.block_on(async {
        let admin =
            kafka_admin::AdminClient::connect(kafka_admin::AdminConfig::new(&env.bootstrap))
                .await
                .unwrap();
        let r = kafka_admin::ConfigResource::topic("orders");
        admin
            .describe_configs(std::slice::from_ref(&r))
            .await
            .unwrap()
            .remove(&r)
            .unwrap()
            .unwrap()
    });
    assert_eq!(
        configs
            .iter()
            .find(|c| c.name == "retention.ms")
            .unwrap()
            .value
            .as_deref(),
        Some("5000")
    );

    assert_eq!(
        env.fails(&["topics", "describe", "nothing-here"]),
        "kfk: unknown topic nothing-here"
    );
    env.ok(&["topics", "delete", "nothing-here", "--if-exists"], None);
    let missing = env.fails(&["topics", "delete", "nothing-here"]);
    assert!(missing.contains("UNKNOWN_TOPIC_OR_PARTITION"), "{missing}");
    let deleted = env.json(&["topics", "delete", "orders"]);
    assert_eq!(
        deleted,
        serde_json::json!([{"topic": "orders", "deleted": true}])
    );
}

#[test]
fn produce_consume_groups_lag_and_reset() {
    let env = Env::start();
    env.ok(&["topics", "create", "events", "--partitions", "2"], None);
    let out = env.ok(
        &[
            "produce",
            "events",
            "-k",
            ":",
            "-H",
            "src=cli",
            "--partition",
            "0",
        ],
        Some("a:1\nb:2\nc:3\n"),
    );
    assert_eq!(out.trim(), "produced 3 records to events");
    let out = env.ok(
        &[
            "-o",
            "json",
            "produce",
            "events",
            "--acks",
            "1",
            "--compression",
            "lz4",
            "--partition",
            "1",
        ],
        Some("x\ny\n"),
    );
    let produced: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(produced["records"], 2);
    assert_eq!(produced["partitions"]["1"], 2);
    let lines = env.ok(
        &[
            "consume",
            "events",
            "--from-beginning",
            "-e",
            "--format",
            "%p@%o %k=%v %h",
        ],
        None,
    );
    let mut lines: Vec<&str> = lines.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "0@0 a=1 src=cli",
            "0@1 b=2 src=cli",
            "0@2 c=3 src=cli",
            "1@0 =x ",
            "1@1 =y "
        ]
    );
    let first = env.ok(
        &[
            "consume",
            "events",
            "--from-beginning",
            "--count",
            "1",
            "--format",
            "%v",
        ],
        None,
    );
    assert_eq!(first.lines().count(), 1);

    // In a group, committing as it goes: then no lag.
    let json_lines = env.ok(
        &[
            "-o",
            "json",
            "consume",
            "events",
            "--group",
            "g1",
            "--from-beginning",
            "-e",
        ],
        None,
    );
    let records: Vec<Value> = json_lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 5);
    let c = records.iter().find(|r| r["key"] == "c").unwrap();
    assert_eq!(c["headers"]["src"], "cli");
    let lag = env.json(&["groups", "lag", "g1"]);
    assert_eq!(lag[0]["total_lag"], 0, "{lag}");
    let listed = env.json(&["groups", "list"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["group"] == "g1" && g["state"] == "Empty"),
        "{listed}"
    );
    let described = env.json(&["groups", "describe", "g1"]);
    assert_eq!(described[0]["state"], "Empty");

    let planned = env.json(&[
        "groups",
        "reset-offsets",
        "g1",
        "--to-earliest",
        "--dry-run",
    ]);
    assert_eq!(planned["dry_run"], true);
    assert!(planned["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["offset"] == 0));
    assert_eq!(
        env.json(&["groups", "lag", "g1"])[0]["total_lag"],
        0,
        "a dry run changes nothing"
    );
    env.ok(&["groups", "reset-offsets", "g1", "--to-earliest"], None);
    assert_eq!(env.json(&["groups", "lag", "g1"])[0]["total_lag"], 5);
    env.ok(
        &[
            "groups",
            "reset-offsets",
            "g1",
            "--topic",
            "events",
            "--to-offset",
            "2",
        ],
        None,
    );
    let lag = env.json(&["groups", "lag", "g1"]);
    let p0 = lag[0]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["partition"] == 0)
        .unwrap()
        .clone();
    assert_eq!(
        (p0["committed"].clone(), p0["lag"].clone()),
        (serde_json::json!(2), serde_json::json!(1))
    );
    env.ok(
        &[
            "groups",
            "reset-offsets",
            "g1",
            "--to-datetime",
            "2999-01-01T00:00:00Z",
        ],
        None,
    );
    assert_eq!(
        env.json(&["groups", "lag", "g1"])[0]["total_lag"],
        0,
        "past every record: the end"
    );

    // Refused while the group has a member.
    let env_bootstrap = env.bootstrap.clone();
    let member = env.rt.spawn(async move {
        let mut c = kafka_consumer::Consumer::new(
            kafka_consumer::ConsumerConfig::new(&env_bootstrap).with_group_id("g1"),
        )
        .await
        .unwrap();
        c.subscribe([kafka_protocol::TopicName::from("events")])
            .unwrap();
        for _ in 0..150 {
            let _ = c.poll(Duration::from_millis(100)).await;
        }
        c.close(Duration::from_secs(5)).await;
    });
    let mut refused = String::new();
    for _ in 0..50 {
        let out = env.kfk(&["groups", "reset-offsets", "g1", "--to-earliest"], None);
        if !out.success() {
            refused = out.stderr;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(refused.contains("stop its consumers"), "{refused}");
    assert!(env
        .fails(&["groups", "delete", "g1"])
        .contains("it has members"));
    member.abort();
    let offsets = env.json(&["offsets", "events"]);
    assert_eq!(
        offsets["partitions"][0],
        serde_json::json!({"partition": 0, "earliest": 0, "latest": 3})
    );
}

#[test]
fn topics_apply_plans_applies_and_then_has_nothing_to_do() {
    let env = Env::start();
    let dir = std::env::temp_dir().join(format!("kfk-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml = dir.join("topics.toml");
    std::fs::write(&toml, "[[topics]]\nname = \"payments\"\npartitions = 2\nreplication_factor = 2\nconfigs = { \"retention.ms\" = 60000, \"cleanup.policy\" = \"compact\" }\n\n[[topics]]\nname = \"audit\"\npartitions = 1\n").unwrap();
    let file = toml.to_str().unwrap();
    let dry = env.ok(&["topics", "apply", file, "--dry-run"], None);
    assert!(dry.contains("create topic payments: 2 partitions, replication factor 2, configs cleanup.policy=compact,retention.ms=60000"), "{dry}");
    assert!(
        dry.contains("create topic audit") && dry.ends_with("dry run: nothing changed\n"),
        "{dry}"
    );
    assert!(
        env.json(&["topics", "list"]).as_array().unwrap().is_empty(),
        "a dry run creates nothing"
    );
    let applied = env.json(&["topics", "apply", file]);
    assert_eq!(
        (
            applied["applied"].clone(),
            applied["plan"].as_array().unwrap().len()
        ),
        (serde_json::json!(true), 2)
    );
    let again = env.ok(&["topics", "apply", file], None);
    assert_eq!(again, "nothing to change: the cluster matches the file\n");

    // The same topics in YAML, with one more partition and a changed config.
    let yaml = dir.join("topics.yaml");
    std::fs::write(&yaml, "topics:\n  - name: payments\n    partitions: 3\n    replication_factor: 2\n    configs:\n      retention.ms: \"120000\"\n      cleanup.policy: compact\n  - name: audit\n    partitions: 1\n").unwrap();
    let changed = env.ok(&["topics", "apply", yaml.to_str().unwrap()], None);
    assert!(
        changed.contains("add partitions to payments: 2 -> 3"),
        "{changed}"
    );
    assert!(
        changed.contains("set payments retention.ms: 60000 -> 120000"),
        "{changed}"
    );
    assert!(
        !changed.contains("cleanup.policy"),
        "unchanged configs are not touched: {changed}"
    );
    assert_eq!(
        env.ok(&["topics", "apply", yaml.to_str().unwrap()], None),
        "nothing to change: the cluster matches the file\n"
    );

    // A topic the file does not list goes only with --delete-missing.
    env.ok(&["topics", "create", "stray", "--partitions", "1"], None);
    let only_audit = dir.join("audit.toml");
    std::fs::write(
        &only_audit,
        "[[topics]]\nname = \"audit\"\npartitions = 1\n",
    )
    .unwrap();
    assert_eq!(
        env.ok(&["topics", "apply", only_audit.to_str().unwrap()], None),
        "nothing to change: the cluster matches the file\n"
    );
    let pruned = env.ok(
        &[
            "topics",
            "apply",
            only_audit.to_str().unwrap(),
            "--delete-missing",
        ],
        None,
    );
    assert!(
        pruned.contains("delete topic payments") && pruned.contains("delete topic stray"),
        "{pruned}"
    );
    let names: Vec<Value> = env
        .json(&["topics", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![serde_json::json!("audit")]);
    let shrink = dir.join("shrink.toml");
    std::fs::write(&shrink, "[[topics]]\nname = \"audit\"\npartitions = 0\n").unwrap();
    assert!(env
        .fails(&["topics", "apply", shrink.to_str().unwrap()])
        .contains("cannot remove partitions"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cluster_describe_and_clear_errors() {
    let env = Env::start();
    let cluster = env.json(&["cluster", "describe"]);
    assert_eq!(cluster["brokers"].as_array().unwrap().len(), 3);
    assert!(cluster["controller"].is_number());
    let table = env.ok(&["cluster", "describe"], None);
    assert!(table.starts_with("cluster id: "), "{table}");

    let unreachable = run(
        Command::new(env!("CARGO_BIN_EXE_kfk")).args([
            "-b",
            "127.0.0.1:1",
            "--timeout",
            "3s",
            "topics",
            "list",
        ]),
        None,
        LIMIT,
    );
    assert!(
        !unreachable.success() && !unreachable.timed_out,
        "{}",
        unreachable.describe()
    );
    assert_eq!(
        unreachable.stderr.lines().count(),
        1,
        "{}",
        unreachable.describe()
    );
    assert!(
        unreachable.stderr.contains("127.0.0.1:1"),
        "{}",
        unreachable.stderr
    );
    let typo = env.fails(&["-X", "reqest.timeout.ms=5", "topics", "list"]);
    assert_eq!(typo, "kfk: unknown config key reqest.timeout.ms");
    let bash = env.ok(&["completions", "bash"], None);
    assert!(bash.contains("kfk") && bash.contains("reset-offsets"));
    let help = env.ok(&["topics", "create", "--help"], None);
    assert!(help.contains("Example:"), "{help}");
}

#[test]
fn kfk_broker_runs_the_bundled_broker() {
    let mut broker = Spawned::spawn(
        Command::new(env!("CARGO_BIN_EXE_kfk")).args([
            "broker",
            "--brokers",
            "2",
            "--port",
            "0",
            "--topic",
            "seeded:3",
        ]),
        None,
    );
    assert!(
        broker.wait_for(Duration::from_secs(20), |out, _| out
            .contains("bootstrap: ")),
        "{}",
        broker.stderr()
    );
    let bootstrap = broker
        .stdout()
        .trim()
        .trim_start_matches("bootstrap: ")
        .to_string();
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_kfk")).args([
            "-b", &bootstrap, "-o", "json", "topics", "describe", "seeded",
        ]),
        None,
        LIMIT,
    );
    assert!(out.success(), "{}", out.describe());
    let described: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(described[0]["partitions"].as_array().unwrap().len(), 3);
    let stopped = broker.kill();
    assert!(stopped.stdout.contains("bootstrap: "));
}

#[test]
fn sasl_credentials_from_x_flags_and_a_clear_line_when_they_are_wrong() {
    use kafka_broker::SaslConfig;
    use kafka_protocol::sasl::Mechanism;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sasl = SaslConfig::new(&[Mechanism::ScramSha256]).with_user("ops", "ops-secret");
    let cluster = rt
        .block_on(Cluster::start(ClusterConfig::default().with_sasl(sasl)))
        .unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let kfk = |password: &str| {
        let pw = format!("sasl.password={password}");
        run(
            Command::new(env!("CARGO_BIN_EXE_kfk")).args([
                "-b",
                &bootstrap,
                "-X",
                "security.protocol=SASL_PLAINTEXT",
                "-X",
                "sasl.mechanism=SCRAM-SHA-256",
                "-X",
                "sasl.username=ops",
                "-X",
                &pw,
                "-o",
                "json",
                "cluster",
                "describe",
            ]),
            None,
            LIMIT,
        )
    };
    let ok = kfk("ops-secret");
    assert!(ok.success(), "{}", ok.describe());
    let wrong = kfk("nope");
    assert!(!wrong.success() && !wrong.timed_out, "{}", wrong.describe());
    assert_eq!(
        wrong.stderr.trim(),
        "kfk: authentication failed (SCRAM-SHA-256): Authentication failed: Invalid username or password"
    );
    // A properties file works the same, and its password never shows.
    let file = std::env::temp_dir().join(format!("kfk-sasl-{}.properties", std::process::id()));
    std::fs::write(&file, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"ops\" password=\"ops-secret\";\n").unwrap();
    let out = run(
        Command::new(env!("CARGO_BIN_EXE_kfk")).args([
            "-b",
            &bootstrap,
            "--config",
            file.to_str().unwrap(),
            "topics",
            "list",
        ]),
        None,
        LIMIT,
    );
    assert!(out.success(), "{}", out.describe());
    assert!(!out.stdout.contains("ops-secret") && !out.stderr.contains("ops-secret"));
    std::fs::remove_file(&file).ok();
    rt.block_on(cluster.shutdown());
}

#[test]
fn acls_create_list_and_delete() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // ACLs on; the anonymous (PLAINTEXT) principal is the super user that manages them.
    let cluster = rt
        .block_on(Cluster::start(ClusterConfig::default().with_acl(
            kafka_broker::AclConfig::new().with_super_user("User:ANONYMOUS"),
        )))
        .unwrap();
    let env = Env {
        rt,
        bootstrap: cluster.bootstrap_servers(),
        cluster: Some(cluster),
    };
    let created = env.ok(
        &[
            "acls",
            "create",
            "--principal",
            "User:alice",
            "--operation",
            "read",
            "--operation",
            "describe-configs",
            "--topic",
            "orders.",
            "--prefixed",
        ],
        None,
    );
    assert!(
        created.contains("created 2 ACL(s): allowed to User:alice"),
        "{created}"
    );
    env.ok(
        &[
            "acls",
            "create",
            "--principal",
            "User:bob",
            "--operation",
            "all",
            "--deny",
            "--cluster",
        ],
        None,
    );
    let all = env.json(&["acls", "list"]);
    let rows = all.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{all}");
    assert!(rows.iter().any(|r| r["principal"] == "User:bob"
        && r["permission"] == "DENY"
        && r["resource_type"] == "CLUSTER"
        && r["resource_name"] == "kafka-cluster"));
    let alice = env.json(&["acls", "list", "--principal", "User:alice"]);
    let ops: Vec<&str> = alice
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["READ", "DESCRIBE_CONFIGS"]);
    assert_eq!(alice[0]["pattern_type"], "PREFIXED");
    let table = env.ok(&["acls", "list", "--topic", "orders.", "--prefixed"], None);
    assert!(table.starts_with("PRINCIPAL"), "{table}");
    assert!(env.fails(&["acls", "delete"]).contains("--all"));
    assert!(env
        .fails(&[
            "acls",
            "create",
            "--principal",
            "alice",
            "--operation",
            "read",
            "--topic",
            "t"
        ])
        .contains("User:alice"));
    let deleted = env.json(&["acls", "delete", "--principal", "User:alice"]);
    assert_eq!(deleted.as_array().unwrap().len(), 2);
    assert_eq!(env.json(&["acls", "list"]).as_array().unwrap().len(), 1);
}
