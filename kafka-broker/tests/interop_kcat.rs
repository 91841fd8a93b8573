//! Interop with kcat (librdkafka): the broker must be accepted as Kafka by a real client.
//!
//! Each test starts its own in-process cluster on free loopback ports (one test runs the
//! `kafka-broker` binary instead, to check what it prints and serves). When kcat is not
//! installed the tests print `SKIPPED: kcat not installed` and return; CI installs it
//! (`.ci/install-peers.sh`).

mod interop_common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use interop_common::{require_kcat, run, BrokerProcess, Spawned, TestCluster};
use kafka_broker::{ApiKey, Fault};

/// Bound on any single kcat run.
const KCAT_TIMEOUT: Duration = Duration::from_secs(120);
/// Messages produced per codec.
const MESSAGES: usize = 10_000;

fn kcat(bootstrap: &str) -> Command {
    let mut command = Command::new("kcat");
    command.args(["-b", bootstrap]);
    command
}

/// Runs `kcat -L` against `bootstrap` and checks it lists exactly `addresses` as brokers.
fn assert_metadata_lists(bootstrap: &str, addresses: &[String], log: impl Fn() -> String) {
    let out = run(kcat(bootstrap).args(["-L", "-m", "30"]), None, KCAT_TIMEOUT);
    assert!(
        out.success(),
        "kcat -L failed\n{}\n--- broker ---\n{}",
        out.describe(),
        log()
    );
    let count = format!("{} brokers:", addresses.len());
    assert!(
        out.stdout.lines().any(|l| l.trim() == count),
        "kcat -L should report {count}\n{}",
        out.describe()
    );
    for address in addresses {
        assert!(
            out.stdout.lines().any(|l| {
                l.trim_start().starts_with("broker ") && l.contains(&format!(" at {address}"))
            }),
            "kcat -L should list a broker at {address}\n{}",
            out.describe()
        );
    }
}

#[test]
fn kcat_metadata_lists_every_broker() {
    if !require_kcat() {
        return;
    }
    let cluster = TestCluster::start(3);
    assert_metadata_lists(&cluster.bootstrap(), &cluster.addresses(), || cluster.log());
}

/// The standalone binary: `--brokers 3 --port 0` prints its bootstrap line and serves Metadata.
#[test]
fn kcat_metadata_lists_every_broker_of_the_binary() {
    if !require_kcat() {
        return;
    }
    let broker = BrokerProcess::start(3, &[]);
    assert_metadata_lists(&broker.bootstrap, &broker.addresses(), || broker.log());
}

/// The lines fed to `kcat -P -K '\t'`: key and value of message `i`.
fn keyed_lines(prefix: &str, count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "{prefix}-key-{i:05}\t{prefix}-value-{i:05}-{}\n",
                "x".repeat(i % 97)
            )
        })
        .collect()
}

/// Produces `MESSAGES` keyed messages with two headers to partition 0 of an auto-created topic
/// using `codec`, consumes them back from the beginning and checks offsets, keys, values and
/// headers, in order, with nothing missing or duplicated.
fn round_trip_with_codec(
    cluster: &TestCluster,
    codec: &str,
    topic: &str,
    extra_producer_config: &[&str],
) {
    let bootstrap = cluster.bootstrap();
    let mut producer = kcat(&bootstrap);
    producer
        .args(["-P", "-t", topic, "-p", "0", "-z", codec, "-K", "\t"])
        .args(["-H", "interop=kcat", "-H", &format!("codec={codec}")])
        .args(["-X", "message.timeout.ms=60000", "-X", "linger.ms=20"]);
    for setting in extra_producer_config {
        producer.args(["-X", setting]);
    }
    let produced = run(
        &mut producer,
        Some(keyed_lines(codec, MESSAGES).into_bytes()),
        KCAT_TIMEOUT,
    );
    assert!(
        produced.success(),
        "kcat -P -z {codec} failed\n{}\n--- broker ---\n{}",
        produced.describe(),
        cluster.log()
    );

    let consumed = run(
        kcat(&bootstrap)
            .args(["-C", "-t", topic, "-p", "0", "-o", "beginning", "-e"])
            .args(["-X", "check.crcs=true", "-f", "%o\t%k\t%s\t%h\n"]),
        None,
        KCAT_TIMEOUT,
    );
    assert!(
        consumed.success(),
        "kcat -C ({codec}) failed\n{}\n--- broker ---\n{}",
        consumed.describe(),
        cluster.log()
    );
    let lines: Vec<&str> = consumed.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        MESSAGES,
        "expected exactly {MESSAGES} messages back ({codec})\n{}",
        consumed.describe()
    );
    let expected_headers = format!("interop=kcat,codec={codec}");
    for (i, line) in lines.iter().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let expected = [
            i.to_string(),
            format!("{codec}-key-{i:05}"),
            format!("{codec}-value-{i:05}-{}", "x".repeat(i % 97)),
            expected_headers.clone(),
        ];
        assert_eq!(
            fields, expected,
            "message {i} ({codec}): offset, key, value, headers"
        );
    }
}

fn round_trip_on_fresh_cluster(codec: &str) {
    if !require_kcat() {
        return;
    }
    let cluster = TestCluster::start(1);
    round_trip_with_codec(&cluster, codec, &format!("interop-kcat-{codec}"), &[]);
}

#[test]
fn kcat_round_trips_10000_messages_uncompressed() {
    round_trip_on_fresh_cluster("none");
}

#[test]
fn kcat_round_trips_10000_messages_gzip() {
    round_trip_on_fresh_cluster("gzip");
}

#[test]
fn kcat_round_trips_10000_messages_snappy() {
    round_trip_on_fresh_cluster("snappy");
}

#[test]
fn kcat_round_trips_10000_messages_lz4() {
    round_trip_on_fresh_cluster("lz4");
}

#[test]
fn kcat_round_trips_10000_messages_zstd() {
    round_trip_on_fresh_cluster("zstd");
}

const IDEMPOTENT: &[&str] = &[
    "enable.idempotence=true",
    "max.in.flight.requests.per.connection=5",
    "batch.num.messages=500",
];

fn requests_of(cluster: &TestCluster, api_key: ApiKey) -> usize {
    cluster
        .cluster()
        .request_log()
        .iter()
        .filter(|e| e.api_key == api_key.key())
        .count()
}

/// librdkafka's idempotent producer: InitProducerId, then sequence-numbered batches with up to
/// five in flight. The log must hold every message exactly once, in order, and the producer must
/// never have needed a new producer id or epoch (which it requests after a sequence error).
#[test]
fn kcat_idempotent_producer_round_trips_10000_messages() {
    if !require_kcat() {
        return;
    }
    let cluster = TestCluster::start(1);
    round_trip_with_codec(&cluster, "lz4", "interop-kcat-idempotent", IDEMPOTENT);
    assert_eq!(
        requests_of(&cluster, ApiKey::InitProducerId),
        1,
        "one InitProducerId expected\n{}",
        cluster.log()
    );
}

/// Produce responses are lost after the batches were appended: librdkafka retries them with
/// the same sequence numbers, and the broker must acknowledge the retries as duplicates rather
/// than append them again.
#[test]
fn kcat_idempotent_producer_retries_after_lost_responses_without_duplicates() {
    if !require_kcat() {
        return;
    }
    // Three brokers: kcat gives up when *all* its broker connections are down at once, and the
    // connections to the two brokers not leading the partition stay up.
    let cluster = TestCluster::start(3);
    // Create the topic first so that the faults hit data-carrying Produce requests.
    cluster.create_topic("interop-kcat-lost-responses", 1);
    cluster.cluster().inject(
        Fault::drop_after_apply()
            .with_api(ApiKey::Produce)
            .with_times(3),
    );
    round_trip_with_codec(&cluster, "lz4", "interop-kcat-lost-responses", IDEMPOTENT);
    let produce_batches = MESSAGES.div_ceil(500);
    assert!(
        requests_of(&cluster, ApiKey::Produce) > produce_batches,
        "the dropped Produce requests should have been retried\n{}",
        cluster.log()
    );
}

/// The partitions a kcat `-G` member holds after its latest rebalance, if its latest rebalance
/// event is an assignment. kcat logs `% Group G rebalanced (memberid M): assigned: t [0], t [1]`
/// and `... revoked: ...` on stderr.
fn current_assignment(stderr: &str, topic: &str) -> Option<BTreeSet<i32>> {
    let last = stderr.lines().rfind(|l| l.contains(" rebalanced "))?;
    let (_, partitions) = last.split_once("assigned: ")?;
    let prefix = format!("{topic} [");
    partitions
        .split(", ")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.trim()
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|n| n.parse().ok())
        })
        .collect()
}

#[test]
fn kcat_group_members_split_partitions_and_consume_every_message_once() {
    if !require_kcat() {
        return;
    }
    const PARTITIONS: i32 = 4;
    const GROUP_MESSAGES: usize = 2_000;
    let cluster = TestCluster::start(3);
    let bootstrap = cluster.bootstrap();
    let topic = "interop-kcat-group";
    cluster.create_topic(topic, PARTITIONS);

    let member = || {
        Spawned::spawn(
            kcat(&bootstrap)
                .args(["-u", "-G", "interop-kcat-group-members", topic])
                .args(["-X", "auto.offset.reset=earliest"])
                .args(["-X", "session.timeout.ms=10000"])
                .args(["-f", "%p\t%o\t%s\n"]),
            None,
        )
    };
    let mut members = [member(), member()];

    // Wait until the group is stable with both members, each holding a disjoint share.
    let mut stable = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while std::time::Instant::now() < deadline {
        let assignments: Vec<Option<BTreeSet<i32>>> = members
            .iter()
            .map(|m| current_assignment(&m.stderr(), topic))
            .collect();
        if let [Some(a), Some(b)] = assignments.as_slice() {
            let all: BTreeSet<i32> = a.union(b).copied().collect();
            if !a.is_empty()
                && !b.is_empty()
                && a.is_disjoint(b)
                && all.len() == PARTITIONS as usize
            {
                stable = Some([a.clone(), b.clone()]);
                break;
            }
        }
        if members.iter_mut().any(Spawned::exited) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let Some(assigned) = stable else {
        let [a, b] = members;
        panic!(
            "the two kcat -G members never split the {PARTITIONS} partitions\n\
             --- member 1 ---\n{}\n--- member 2 ---\n{}\n--- broker ---\n{}",
            a.kill().describe(),
            b.kill().describe(),
            cluster.log()
        );
    };

    let produced = run(
        kcat(&bootstrap)
            .args(["-P", "-t", topic, "-K", "\t"])
            .args(["-X", "message.timeout.ms=60000"]),
        Some(keyed_lines("group", GROUP_MESSAGES).into_bytes()),
        KCAT_TIMEOUT,
    );
    assert!(
        produced.success(),
        "kcat -P failed\n{}\n--- broker ---\n{}",
        produced.describe(),
        cluster.log()
    );

    let count = |members: &[Spawned; 2]| -> usize {
        members.iter().map(|m| m.stdout().lines().count()).sum()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while count(&members) < GROUP_MESSAGES && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Give any duplicate delivery a moment to show up before stopping the members.
    std::thread::sleep(Duration::from_secs(2));
    let [a, b] = members;
    let outputs = [a.kill(), b.kill()];

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut positions = BTreeSet::new();
    for (index, (output, partitions)) in outputs.iter().zip(&assigned).enumerate() {
        let mut received = 0;
        for line in output.stdout.lines() {
            let fields: Vec<&str> = line.splitn(3, '\t').collect();
            let [partition, offset, value] = fields.as_slice() else {
                panic!("member {index}: unexpected line {line:?}");
            };
            let partition: i32 = partition.parse().expect("partition number");
            assert!(
                partitions.contains(&partition),
                "member {index} got a message of partition {partition}, assigned {partitions:?}\n{}",
                output.describe()
            );
            assert!(
                positions.insert((partition, offset.to_string())),
                "partition {partition} offset {offset} delivered twice"
            );
            *seen.entry(value.to_string()).or_default() += 1;
            received += 1;
        }
        assert!(
            received > 0,
            "member {index} (partitions {partitions:?}) received nothing\n{}",
            output.describe()
        );
    }
    let expected: BTreeSet<String> = keyed_lines("group", GROUP_MESSAGES)
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(_, v)| v.to_owned()))
        .collect();
    let missing: Vec<&String> = expected.iter().filter(|v| !seen.contains_key(*v)).collect();
    let duplicated: Vec<(&String, &usize)> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        missing.is_empty() && duplicated.is_empty() && seen.len() == GROUP_MESSAGES,
        "every message exactly once: {} missing (first {:?}), {} duplicated (first {:?}), {} distinct\n\
         --- member 1 ---\n{}\n--- member 2 ---\n{}\n--- broker ---\n{}",
        missing.len(),
        missing.first(),
        duplicated.len(),
        duplicated.first(),
        seen.len(),
        outputs[0].describe(),
        outputs[1].describe(),
        cluster.log()
    );
}
