//! Shared plumbing of the interop tests: start an in-process cluster (or the `kafka-broker`
//! binary). Subprocesses with hard time bounds and the checks for installed peers come from
//! `kafka-testkit`, which every crate's tests share.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kafka_broker::{ApiKey, Cluster, ClusterConfig};
// Each test binary uses a different subset of these.
#[allow(unused_imports)]
pub use kafka_testkit::peers::{on_path, require_java, require_kcat, require_python_module};
#[allow(unused_imports)]
pub use kafka_testkit::process::{run, Output, Spawned};

/// How long the broker may take to print its `bootstrap:` line.
pub const BROKER_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Directory of the Python interop scripts.
pub fn python_scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("interop")
}

/// A `kafka-broker` process, killed when dropped.
pub struct BrokerProcess {
    process: Spawned,
    /// The comma-separated bootstrap list the broker printed.
    pub bootstrap: String,
}

impl BrokerProcess {
    /// Starts `kafka-broker --brokers N --port 0` plus `extra` flags and waits for its
    /// `bootstrap:` line.
    pub fn start(brokers: usize, extra: &[&str]) -> BrokerProcess {
        // `option_env!` keeps the workspace compiling while the binary target does not exist yet.
        let Some(binary) = option_env!("CARGO_BIN_EXE_kafka-broker") else {
            panic!("the kafka-broker crate has no `kafka-broker` binary target");
        };
        let mut command = Command::new(binary);
        command
            .args(["--brokers", &brokers.to_string(), "--port", "0"])
            .args(extra);
        let mut process = Spawned::spawn(&mut command, None);
        let started = process.wait_for(BROKER_START_TIMEOUT, |out, _| {
            out.lines().any(|l| l.starts_with("bootstrap: "))
        });
        let stdout = process.stdout();
        let line = stdout.lines().find(|l| l.starts_with("bootstrap: "));
        let Some(bootstrap) = line.filter(|_| started) else {
            let output = process.kill();
            panic!(
                "kafka-broker printed no `bootstrap:` line within {BROKER_START_TIMEOUT:?}\n{}",
                output.describe()
            );
        };
        let bootstrap = bootstrap
            .trim_start_matches("bootstrap: ")
            .trim()
            .to_owned();
        assert_eq!(
            bootstrap.split(',').count(),
            brokers,
            "bootstrap line {bootstrap:?} should list {brokers} brokers"
        );
        BrokerProcess { process, bootstrap }
    }

    /// The first broker's `host:port`.
    pub fn first(&self) -> &str {
        self.bootstrap.split(',').next().unwrap_or_default()
    }

    /// Every broker's `host:port`, in the order printed.
    pub fn addresses(&self) -> Vec<String> {
        self.bootstrap.split(',').map(str::to_owned).collect()
    }

    /// The broker's stderr so far (its log), for failure messages.
    pub fn log(&self) -> String {
        let log = self.process.stderr();
        if log.len() > 8000 {
            let mut cut = log.len() - 8000;
            while !log.is_char_boundary(cut) {
                cut += 1;
            }
            format!("[... {cut} bytes cut ...]\n{}", &log[cut..])
        } else {
            log
        }
    }

    /// Whether the broker process is still running.
    pub fn is_running(&mut self) -> bool {
        !self.process.exited()
    }
}

/// An in-process cluster on its own multi-threaded tokio runtime, so that the test thread can
/// block on subprocesses while the brokers serve them. Shut down when dropped.
pub struct TestCluster {
    cluster: Option<Cluster>,
    runtime: tokio::runtime::Runtime,
}

impl TestCluster {
    /// Starts `brokers` brokers on free loopback ports with the default configuration.
    pub fn start(brokers: usize) -> TestCluster {
        Self::start_with(ClusterConfig::default().with_brokers(brokers))
    }

    /// Starts a cluster with `config`.
    pub fn start_with(config: ClusterConfig) -> TestCluster {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let cluster = runtime
            .block_on(Cluster::start(config))
            .expect("cluster starts");
        TestCluster {
            cluster: Some(cluster),
            runtime,
        }
    }

    /// The cluster.
    pub fn cluster(&self) -> &Cluster {
        self.cluster
            .as_ref()
            .expect("cluster is running until drop")
    }

    /// `bootstrap.servers` for clients.
    pub fn bootstrap(&self) -> String {
        self.cluster().bootstrap_servers()
    }

    /// Every broker's `host:port`.
    pub fn addresses(&self) -> Vec<String> {
        self.bootstrap().split(',').map(str::to_owned).collect()
    }

    /// Creates a topic, panicking with the broker's error if that fails.
    pub fn create_topic(&self, name: &str, partitions: i32) {
        if let Err(e) = self.cluster().create_topic(name, partitions, &[]) {
            panic!("create_topic({name}, {partitions}): {e}");
        }
    }

    /// The requests received so far, counted per API and version, for failure messages.
    pub fn log(&self) -> String {
        let mut counts: BTreeMap<(String, i16), usize> = BTreeMap::new();
        for entry in self.cluster().request_log() {
            let name = ApiKey::from_i16(entry.api_key)
                .map_or_else(|| entry.api_key.to_string(), |k| k.name().to_owned());
            *counts.entry((name, entry.api_version)).or_default() += 1;
        }
        let lines: Vec<String> = counts
            .into_iter()
            .map(|((name, version), n)| format!("  {name} v{version}: {n}"))
            .collect();
        format!("requests received:\n{}", lines.join("\n"))
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        if let Some(cluster) = self.cluster.take() {
            let _ = self.runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(30), cluster.shutdown()).await
            });
        }
    }
}
