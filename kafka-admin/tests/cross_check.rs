//! Cross-checks with Java's AdminClient (the Java peer, `tools/java-peer`) and with
//! confluent-kafka-python's (librdkafka, `tests/python/confluent_admin.py`) on a three-broker
//! bundled cluster: what ours creates, they describe identically, and the reverse; offsets ours
//! commits for a group are where Java's consumer starts, and what Python lists.
//!
//! Without Java and Maven, or confluent-kafka, a test prints `SKIPPED: ...` (CI installs them and
//! requires them).

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_admin::{
    AdminClient, AdminConfig, ConfigResource, ConfigSource, NewTopic, OffsetSpecForReset,
};
use kafka_broker::{Cluster, ClusterConfig};
use kafka_producer::{Producer, ProducerConfig, ProducerRecord};
use kafka_protocol::TopicName;
use kafka_testkit::serde_json::{json, Value};
use kafka_testkit::JavaPeer;

const PEER_TIMEOUT: Duration = Duration::from_secs(90);

fn java_admin(java: &JavaPeer, bootstrap: &str, op: &str, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["admin", op, "--bootstrap", bootstrap];
    all.extend_from_slice(args);
    let out = java.run(&all, None, PEER_TIMEOUT);
    assert!(
        out.success(),
        "Java AdminClient {op} failed\n{}",
        out.describe()
    );
    out.stdout
        .lines()
        .filter_map(|l| kafka_testkit::serde_json::from_str(l).ok())
        .collect()
}

/// Ours' description of a topic in the peer's JSON shape.
fn ours_topic(admin: &AdminClient, rt: &tokio::runtime::Runtime, name: &str) -> Value {
    let d = rt
        .block_on(admin.describe_topics(&[name.to_string()]))
        .unwrap();
    let t = d[name].as_ref().unwrap();
    let partitions: Vec<Value> = t
        .partitions
        .iter()
        .map(|p| {
            let mut isr = p.isr.clone();
            isr.sort_unstable();
            let mut replicas = p.replicas.clone();
            replicas.sort_unstable();
            json!({"partition": p.partition, "leader": p.leader.unwrap_or(-1), "replicas": replicas, "isr": isr})
        })
        .collect();
    json!({"name": t.name, "internal": t.is_internal, "topic_id": t.topic_id.to_string(), "partitions": partitions})
}

/// The peer's description in the same shape (its replica lists are sorted).
fn java_topic(java: &JavaPeer, bootstrap: &str, name: &str) -> Value {
    let lines = java_admin(java, bootstrap, "describe-topics", &["--topic", name]);
    let t = lines
        .iter()
        .find(|l| l["event"] == "topic")
        .expect("a topic line");
    json!({"name": t["name"], "internal": t["internal"], "topic_id": t["topic_id"], "partitions": t["partitions"].as_array().unwrap().iter().map(|p| json!({"partition": p["partition"], "leader": p["leader"], "replicas": p["replicas"], "isr": p["isr"]})).collect::<Vec<_>>()})
}

fn java_source(s: ConfigSource) -> &'static str {
    match s {
        ConfigSource::DynamicTopicConfig => "DYNAMIC_TOPIC_CONFIG",
        ConfigSource::DynamicBrokerConfig => "DYNAMIC_BROKER_CONFIG",
        ConfigSource::DynamicDefaultBrokerConfig => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        ConfigSource::StaticBrokerConfig => "STATIC_BROKER_CONFIG",
        ConfigSource::DefaultConfig => "DEFAULT_CONFIG",
        ConfigSource::DynamicBrokerLoggerConfig => "DYNAMIC_BROKER_LOGGER_CONFIG",
        ConfigSource::ClientMetricsConfig => "CLIENT_METRICS_CONFIG",
        ConfigSource::GroupConfig => "GROUP_CONFIG",
        _ => "UNKNOWN",
    }
}

#[test]
fn java_admin_client_sees_what_ours_made_and_ours_sees_what_it_made() {
    let Some(java) = JavaPeer::build() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cluster = rt
        .block_on(Cluster::start(ClusterConfig::default().with_brokers(3)))
        .unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let admin = rt
        .block_on(AdminClient::connect(AdminConfig::new(&bootstrap)))
        .unwrap();

    // Ours creates; Java describes the same partitions, replicas, ISR, topic id and configs.
    let created = rt
        .block_on(admin.create_topics(vec![
            NewTopic::new("made-by-ours", 3, 2).with_config("retention.ms", "654321"),
        ]))
        .unwrap();
    assert!(created["made-by-ours"].is_ok());
    assert_eq!(
        java_topic(&java, &bootstrap, "made-by-ours"),
        ours_topic(&admin, &rt, "made-by-ours")
    );
    let java_configs = java_admin(
        &java,
        &bootstrap,
        "describe-configs",
        &["--topic", "made-by-ours"],
    );
    let java_configs = &java_configs
        .iter()
        .find(|l| l["event"] == "configs")
        .unwrap()["configs"];
    let resource = ConfigResource::topic("made-by-ours");
    let ours = rt
        .block_on(admin.describe_configs(std::slice::from_ref(&resource)))
        .unwrap();
    let ours = ours[&resource].as_ref().unwrap();
    assert_eq!(
        ours.len(),
        java_configs.as_object().unwrap().len(),
        "the same keys"
    );
    for e in ours {
        let j = &java_configs[&e.name];
        assert_eq!(j["value"].as_str(), e.value.as_deref(), "{}", e.name);
        assert_eq!(j["source"], java_source(e.source), "{}", e.name);
        assert_eq!(j["read_only"], e.is_read_only, "{}", e.name);
    }

    // Java creates; ours describes what Java does.
    java_admin(
        &java,
        &bootstrap,
        "create-topic",
        &[
            "--topic",
            "made-by-java",
            "--partitions",
            "4",
            "--replication-factor",
            "3",
        ],
    );
    assert_eq!(
        ours_topic(&admin, &rt, "made-by-java"),
        java_topic(&java, &bootstrap, "made-by-java")
    );
    let java_list = java_admin(&java, &bootstrap, "list-topics", &[]);
    let java_names: Vec<String> = java_list[0]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    let ours_names: Vec<String> = rt
        .block_on(admin.list_topics(false))
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(ours_names, java_names);
    let cluster_line = java_admin(&java, &bootstrap, "describe-cluster", &[]);
    let ours_cluster = rt.block_on(admin.describe_cluster()).unwrap();
    assert_eq!(
        cluster_line[0]["cluster_id"].as_str(),
        ours_cluster.cluster_id.as_deref()
    );
    assert_eq!(
        cluster_line[0]["controller"],
        json!(ours_cluster.controller)
    );
    assert_eq!(
        cluster_line[0]["nodes"],
        json!(ours_cluster
            .brokers
            .iter()
            .map(|b| b.id)
            .collect::<Vec<_>>())
    );

    // Ours resets a group's offsets; Java's consumer in that group starts there.
    rt.block_on(async {
        let producer = Producer::new(ProducerConfig::new(&bootstrap))
            .await
            .unwrap();
        for i in 0..20 {
            let f = producer
                .send(
                    ProducerRecord::new("made-by-java")
                        .with_partition(1)
                        .with_value(format!("v{i}")),
                )
                .await
                .unwrap();
            f.await.unwrap();
        }
        producer.close(Duration::from_secs(5)).await;
    });
    let tp = (TopicName::from("made-by-java"), 1);
    let reset = rt
        .block_on(admin.reset_group_offsets(
            "reset-by-ours",
            OffsetSpecForReset::Offsets(BTreeMap::from([(tp.clone(), 12)])),
            None,
        ))
        .unwrap();
    assert_eq!(reset[&tp], 12);
    let java_offsets = java_admin(
        &java,
        &bootstrap,
        "list-group-offsets",
        &["--group", "reset-by-ours"],
    );
    assert_eq!(java_offsets[0]["offsets"], json!({"made-by-java-1": 12}));
    let out = java.run(
        &[
            "consume",
            "--bootstrap",
            &bootstrap,
            "--topic",
            "made-by-java",
            "--group",
            "reset-by-ours",
            "--from-beginning",
            "--max-records",
            "8",
            "--timeout-ms",
            "60000",
        ],
        None,
        PEER_TIMEOUT,
    );
    assert!(out.success(), "{}", out.describe());
    let offsets: Vec<(i64, i64)> = JavaPeer::events(&out.stdout, "record")
        .iter()
        .map(|r| {
            (
                r["partition"].as_i64().unwrap(),
                r["offset"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        offsets,
        (12..20).map(|o| (1, o)).collect::<Vec<_>>(),
        "Java starts at the reset offset"
    );

    // Java's view of the group after its consumer left, and ours, agree.
    let java_groups = java_admin(&java, &bootstrap, "list-groups", &[]);
    let java_group = java_groups[0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group_id"] == "reset-by-ours")
        .cloned()
        .unwrap();
    let ours_groups = rt.block_on(admin.list_groups(&[], &[])).unwrap();
    let ours_group = ours_groups
        .iter()
        .find(|g| g.group_id == "reset-by-ours")
        .unwrap();
    assert_eq!(
        java_group["state"].as_str().map(str::to_ascii_lowercase),
        ours_group.state.as_deref().map(str::to_ascii_lowercase)
    );
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(30), cluster.shutdown()).await })
        .unwrap();
}

/// Runs the confluent-kafka-python peer and parses its one JSON document.
fn python_admin(bootstrap: &str, args: &[&str]) -> Value {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/confluent_admin.py");
    let out = kafka_testkit::process::run(
        std::process::Command::new("python3")
            .arg(script)
            .arg(bootstrap)
            .args(args),
        None,
        PEER_TIMEOUT,
    );
    assert!(
        out.success(),
        "confluent_admin.py {args:?} failed\n{}",
        out.describe()
    );
    kafka_testkit::serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn confluent_kafka_python_admin_client_sees_what_ours_made_and_ours_sees_what_it_made() {
    if !kafka_testkit::peers::require_python_module("confluent_kafka") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cluster = rt
        .block_on(Cluster::start(ClusterConfig::default().with_brokers(3)))
        .unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let admin = rt
        .block_on(AdminClient::connect(AdminConfig::new(&bootstrap)))
        .unwrap();

    let created = rt
        .block_on(admin.create_topics(vec![
            NewTopic::new("ours-for-python", 3, 2).with_config("cleanup.policy", "compact"),
        ]))
        .unwrap();
    assert!(created["ours-for-python"].is_ok());
    let described = python_admin(&bootstrap, &["describe-topics", "ours-for-python"]);
    assert_eq!(
        described["ours-for-python"],
        ours_topic(&admin, &rt, "ours-for-python")
    );
    let configs = python_admin(&bootstrap, &["describe-configs", "ours-for-python"]);
    let resource = ConfigResource::topic("ours-for-python");
    let ours = rt
        .block_on(admin.describe_configs(std::slice::from_ref(&resource)))
        .unwrap();
    let ours = ours[&resource].as_ref().unwrap();
    assert_eq!(
        ours.len(),
        configs.as_object().unwrap().len(),
        "the same keys"
    );
    for e in ours {
        assert_eq!(
            configs[&e.name]["value"].as_str(),
            e.value.as_deref(),
            "{}",
            e.name
        );
        assert_eq!(
            configs[&e.name]["source"],
            java_source(e.source),
            "{}",
            e.name
        );
    }

    python_admin(&bootstrap, &["create-topic", "python-for-ours", "2", "3"]);
    let theirs = python_admin(&bootstrap, &["describe-topics", "python-for-ours"]);
    assert_eq!(
        ours_topic(&admin, &rt, "python-for-ours"),
        theirs["python-for-ours"]
    );
    let names: Vec<String> = rt
        .block_on(admin.list_topics(false))
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(json!(names), python_admin(&bootstrap, &["list-topics"]));

    let tp = (TopicName::from("python-for-ours"), 0);
    rt.block_on(async {
        let producer = Producer::new(ProducerConfig::new(&bootstrap))
            .await
            .unwrap();
        for i in 0..5 {
            let f = producer
                .send(
                    ProducerRecord::new("python-for-ours")
                        .with_partition(0)
                        .with_value(format!("v{i}")),
                )
                .await
                .unwrap();
            f.await.unwrap();
        }
        producer.close(Duration::from_secs(5)).await;
    });
    rt.block_on(admin.reset_group_offsets(
        "python-sees",
        OffsetSpecForReset::Latest,
        Some(vec![tp.clone()]),
    ))
    .unwrap();
    assert_eq!(
        python_admin(&bootstrap, &["list-group-offsets", "python-sees"]),
        json!({"python-for-ours-0": 5})
    );
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(30), cluster.shutdown()).await })
        .unwrap();
}
