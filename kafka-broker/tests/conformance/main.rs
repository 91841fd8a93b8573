//! Differential conformance: the bundled broker against Apache Kafka, field by field.
//!
//! Each scenario (in `scenarios/`) is a short sequence of requests built with `kafka-protocol`.
//! It runs once against a real Kafka node (KRaft, from Maven Central; see `kafka-testkit`) and
//! once against a one-broker bundled cluster; the answers are normalized (see `normalize.rs`)
//! and compared field by field. Every difference must be listed, with its reason, in
//! `docs/broker-differences.md`, and every listed difference must still occur: otherwise the
//! test fails and prints what to fix or list.
//!
//! Without Java and Maven the test prints one `SKIPPED:` line (and fails in CI, which installs
//! them).

mod differences;
mod harness;
mod normalize;
mod scenarios;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kafka_broker::{Cluster, ClusterConfig};
use kafka_protocol::ApiKey;
use kafka_testkit::RealKafka;

use differences::Difference;
use harness::{Session, Step, Target};
use scenarios::Scenario;

/// A scenario's name and its transcripts from Kafka and from the bundled broker.
type ScenarioRun = (&'static str, Vec<Step>, Vec<Step>);

/// A scenario's index in its corpus and its two transcripts.
type IndexedRun = (usize, Vec<Step>, Vec<Step>);

/// Scenarios run at the same time (each against both brokers at once).
const PARALLEL: usize = 4;

/// The highest version of every API both targets serve.
fn common_versions(a: &Target, b: &Target) -> BTreeMap<ApiKey, i16> {
    a.versions
        .iter()
        .filter_map(|(key, (amin, amax))| {
            let (bmin, bmax) = b.versions.get(key)?;
            let api = ApiKey::from_i16(*key)?;
            let max = (*amax).min(*bmax).min(api.max_stable_version());
            (max >= (*amin).max(*bmin)).then_some((api, max))
        })
        .collect()
}

/// Runs `scenario` against `target`, turning a panic into a failed step.
fn run_one(scenario: &Scenario, target: &Target, common: &BTreeMap<ApiKey, i16>) -> Vec<Step> {
    let mut session = Session::new(target, common, scenario.name);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| (scenario.run)(&mut session)));
    let mut steps = session.steps;
    if let Err(panic) = result {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_else(|| "panic".into());
        steps.push(Step {
            label: "<scenario panicked>".into(),
            api: None,
            outcome: harness::Outcome::Failed(message),
        });
    }
    steps
}

/// Runs `scenarios` against both targets, `parallel` at a time, in the corpus's order.
fn run_corpus(
    scenarios: &[Scenario],
    kafka_target: &Target,
    bundled_target: &Target,
    common: &BTreeMap<ApiKey, i16>,
    parallel: usize,
) -> Vec<ScenarioRun> {
    let results: Mutex<Vec<IndexedRun>> = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..parallel {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap_or_else(|p| p.into_inner());
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(scenario) = scenarios.get(i) else {
                    break;
                };
                let (k, b) = std::thread::scope(|inner| {
                    let k = inner.spawn(|| run_one(scenario, kafka_target, common));
                    let b = inner.spawn(|| run_one(scenario, bundled_target, common));
                    (k.join().unwrap_or_default(), b.join().unwrap_or_default())
                });
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((i, k, b));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _, _)| *i);
    results
        .into_iter()
        .map(|(i, k, b)| (scenarios[i].name, k, b))
        .collect()
}

/// The PLAIN users of the secured pair; `admin` is a super user on both.
const SECURED_USERS: &[(&str, &str)] = &[
    ("admin", "admin-secret"),
    ("alice", "alice-secret"),
    ("bob", "bob-secret"),
    ("carol", "carol-secret"),
];

/// Runs the ACL scenarios against a real Kafka node with SASL PLAIN and `StandardAuthorizer`
/// and a bundled broker with SASL PLAIN and ACLs, both with `admin` as super user. They run one
/// at a time: they share the users, and ACLs on the cluster or on `*` would leak across.
fn run_secured(scenarios: &[Scenario]) -> Option<(Vec<ScenarioRun>, BTreeSet<ApiKey>)> {
    if scenarios.is_empty() {
        return None;
    }
    let config = kafka_testkit::RealKafkaConfig::new(1)
        .with_sasl_listener(SECURED_USERS)
        .with_property(
            "authorizer.class.name",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        )
        // The PLAINTEXT and controller listeners' principal, so that the node can run.
        .with_property("super.users", "User:admin;User:ANONYMOUS");
    let kafka = RealKafka::start_or_skip(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut sasl = kafka_broker::SaslConfig::new(&[
        kafka_protocol::sasl::Mechanism::Plain,
        kafka_protocol::sasl::Mechanism::ScramSha256,
        kafka_protocol::sasl::Mechanism::ScramSha512,
    ]);
    for (u, p) in SECURED_USERS {
        sasl = sasl.with_user(*u, *p);
    }
    let cluster = runtime
        .block_on(Cluster::start(
            ClusterConfig::default()
                .with_sasl(sasl)
                .with_acl(kafka_broker::AclConfig::new().with_super_user("admin")),
        ))
        .expect("secured bundled cluster starts");
    let admin = Some(SECURED_USERS[0]);
    let kafka_target = Target::probe_as("kafka", kafka.sasl_bootstrap(), admin);
    let bundled_target = Target::probe_as("bundled", cluster.bootstrap_servers(), admin);
    let common = common_versions(&kafka_target, &bundled_target);
    for target in [&kafka_target, &bundled_target] {
        let mut warmup = Session::new(target, &common, "warmup");
        warmup.wait_for_coordinator("cf-warmup");
    }
    let results = run_corpus(scenarios, &kafka_target, &bundled_target, &common, 1);
    let apis = bundled_target
        .versions
        .keys()
        .filter_map(|k| ApiKey::from_i16(*k))
        .collect();
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(30), cluster.shutdown()).await;
    });
    drop(kafka);
    Some((results, apis))
}

#[test]
fn bundled_broker_answers_as_apache_kafka_does() {
    let Some(kafka) = RealKafka::start() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let cluster = runtime
        .block_on(Cluster::start(ClusterConfig::default()))
        .expect("bundled cluster starts");
    let kafka_target = Target::probe("kafka", kafka.bootstrap());
    let bundled_target = Target::probe("bundled", cluster.bootstrap_servers());
    let common = common_versions(&kafka_target, &bundled_target);

    // Real Kafka creates its offsets topic on the first FindCoordinator; let that happen before
    // any scenario runs.
    for target in [&kafka_target, &bundled_target] {
        let mut warmup = Session::new(target, &common, "warmup");
        warmup.wait_for_coordinator("cf-warmup");
        warmup.init_producer_id();
    }

    // CONFORMANCE_ONLY=glob runs the matching scenarios only; CONFORMANCE_DUMP=glob prints the
    // normalized transcripts of the matching scenarios from both brokers.
    let only = std::env::var("CONFORMANCE_ONLY").ok();
    let dump = std::env::var("CONFORMANCE_DUMP").ok();
    let selected = |s: &Scenario| only.as_deref().is_none_or(|g| differences::glob(g, s.name));
    let corpus_size = scenarios::all().len() + scenarios::secured().len();
    let all: Vec<Scenario> = scenarios::all().into_iter().filter(selected).collect();
    let secured: Vec<Scenario> = scenarios::secured().into_iter().filter(selected).collect();
    let began = Instant::now();
    let mut results = run_corpus(&all, &kafka_target, &bundled_target, &common, PARALLEL);
    let elapsed = began.elapsed();
    let kafka_version = kafka.version().to_string();
    let mut bundled_apis: BTreeSet<ApiKey> = bundled_target
        .versions
        .keys()
        .filter_map(|k| ApiKey::from_i16(*k))
        .collect();
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(30), cluster.shutdown()).await;
    });
    drop(kafka);

    // Then the ACL scenarios, on a secured pair.
    let began_secured = Instant::now();
    if let Some((secured_results, apis)) = run_secured(&secured) {
        results.extend(secured_results);
        bundled_apis.extend(apis);
    }
    let elapsed_secured = began_secured.elapsed();

    let mut diffs: Vec<Difference> = Vec::new();
    let mut steps = 0usize;
    let mut covered: BTreeSet<ApiKey> = BTreeSet::new();
    let mut panics = Vec::new();
    for (name, k, b) in &results {
        let name = *name;
        steps += k.len();
        for step in k.iter().chain(b.iter()) {
            covered.extend(step.api);
            if step.label == "<scenario panicked>" {
                panics.push(format!("{name}: {:?}", step.outcome));
            }
        }
        diffs.extend(differences::compare(name, k, b));
        if dump.as_deref().is_some_and(|g| differences::glob(g, name)) {
            for (who, steps) in [("kafka", k), ("bundled", b)] {
                for step in steps {
                    for (path, value) in differences::fields(&step.outcome) {
                        println!("DUMP {name} [{who}] {} | {path} = {value}", step.label);
                    }
                }
            }
        }
    }

    let list_path = kafka_testkit::peers::repo_root().join("docs/broker-differences.md");
    let text = std::fs::read_to_string(&list_path)
        .unwrap_or_else(|e| panic!("{}: {e}", list_path.display()));
    let listed = differences::parse(&text).expect("docs/broker-differences.md parses");
    let unlisted: Vec<&Difference> = diffs
        .iter()
        .filter(|d| !listed.iter().any(|l| l.matches(d)))
        .collect();
    // With CONFORMANCE_ONLY, entries for scenarios that did not run cannot be judged stale.
    let stale: Vec<&differences::Listed> = listed
        .iter()
        .filter(|l| {
            all.iter()
                .chain(&secured)
                .any(|s| differences::glob(&l.scenario, s.name))
        })
        .filter(|l| !diffs.iter().any(|d| l.matches(d)))
        .collect();

    println!(
        "conformance: {} scenarios, {steps} steps, against Kafka {kafka_version} and the bundled broker in {:.1}s, then {} ACL scenarios on a secured pair in {:.1}s",
        all.len(),
        elapsed.as_secs_f64(),
        secured.len(),
        elapsed_secured.as_secs_f64()
    );
    println!(
        "conformance: {} differences, {} explained by {} listed entries",
        diffs.len(),
        diffs.len() - unlisted.len(),
        listed.len()
    );
    for d in &unlisted {
        println!("UNLISTED DIFFERENCE: {d}");
    }
    for l in &stale {
        println!(
            "STALE ENTRY (line {}): `{}` | `{}` | `{}` | `{}` matches no difference ({})",
            l.line, l.scenario, l.step, l.path, l.values, l.reason
        );
    }
    for p in &panics {
        println!("SCENARIO PANICKED: {p}");
    }

    let uncovered: Vec<&ApiKey> = bundled_apis.difference(&covered).collect();

    assert!(
        corpus_size >= 80,
        "the corpus should hold at least 80 scenarios, it has {corpus_size}"
    );
    assert!(
        only.is_some() || uncovered.is_empty(),
        "APIs the bundled broker serves that no scenario exercises: {uncovered:?}"
    );
    assert!(
        panics.is_empty(),
        "{} scenario run(s) panicked",
        panics.len()
    );
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "{} unlisted difference(s) and {} stale entries in docs/broker-differences.md (see above)",
        unlisted.len(),
        stale.len()
    );
}
