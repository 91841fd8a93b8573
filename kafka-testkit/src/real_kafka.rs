//! Real Apache Kafka for tests: KRaft nodes (broker and controller in one JVM each) started from
//! Kafka's jars on Maven Central, on loopback, with bounded heaps, killed with the test.
//!
//! ```no_run
//! use kafka_testkit::RealKafka;
//!
//! // `None` (after printing one SKIPPED line) when Java or Maven is missing outside CI.
//! let Some(kafka) = RealKafka::start() else { return };
//! println!("bootstrap.servers={}", kafka.bootstrap());
//!
//! let Some(cluster) = RealKafka::cluster(3) else { return };
//! cluster.kill(2);    // SIGKILL: a crash, no controlled shutdown
//! cluster.restart(2); // the same node id, ports and log directory
//! ```
//!
//! How a node never outlives its test: every JVM runs `tools/real-kafka/KafkaNode.java`, which
//! exits when its stdin pipe closes. The pipe's other end is held by the process that started the
//! node, so the node stops when [`RealKafka`] is dropped, when the test process ends, and when it
//! is killed by any signal. Temporary directories that a killed test left behind are swept by the
//! next start.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use kafka_protocol::messages::MetadataRequest;

use crate::maven::{self, Artifact};
use crate::peers;
use crate::process::{run, truncate_middle};
use crate::wire::Connection;

/// How long a node may take to answer Metadata after its JVM starts.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a node's controlled shutdown may take before its JVM halts (and we kill it).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// Default JVM options: a bounded heap and the serial collector (2-core machines).
const DEFAULT_JVM_OPTS: &str =
    "-Xms128m -Xmx640m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true";
/// The slf4j binding for Kafka's logs (Kafka 3.9 and 4.x log through slf4j 1.7).
const SLF4J_VERSION: &str = "1.7.36";

/// Settings of a real Kafka cluster.
#[derive(Debug, Clone)]
pub struct RealKafkaConfig {
    /// The Kafka version, e.g. `4.4.0`.
    pub version: String,
    /// Number of nodes (each a broker and a controller); node ids are `1..=nodes`.
    pub nodes: usize,
    /// Extra broker properties, applied after the defaults.
    pub properties: BTreeMap<String, String>,
    /// With a SASL_PLAINTEXT listener beside the PLAINTEXT one: its PLAIN users (SCRAM users
    /// are created through AlterUserScramCredentials, as on any Kafka).
    pub sasl_plain_users: Option<BTreeMap<String, String>>,
    /// With it, that listener is SASL_SSL: a PEM file holding the private key (unencrypted
    /// PKCS#8) and then the certificate chain (KIP-651's PEM keystore).
    pub sasl_listener_keystore: Option<PathBuf>,
    /// Instead of a SASL listener, an SSL one that requires client certificates: (the PEM
    /// keystore as above, a PEM file of the CAs client certificates must chain to).
    pub ssl_listener: Option<(PathBuf, PathBuf)>,
}

impl RealKafkaConfig {
    /// `nodes` nodes of the pinned version ([`pinned_version`]).
    pub fn new(nodes: usize) -> RealKafkaConfig {
        RealKafkaConfig {
            version: pinned_version(),
            nodes,
            properties: BTreeMap::new(),
            sasl_plain_users: None,
            sasl_listener_keystore: None,
            ssl_listener: None,
        }
    }

    /// Adds an SSL listener requiring client certificates (`ssl.client.auth=required`) on
    /// every node, at [`RealKafka::sasl_bootstrap`]'s ports (a cluster has one extra
    /// listener: SASL or this). Principals are `User:` and the certificate's subject.
    pub fn with_ssl_listener(
        mut self,
        keystore_pem: impl Into<PathBuf>,
        client_ca_pem: impl Into<PathBuf>,
    ) -> Self {
        self.ssl_listener = Some((keystore_pem.into(), client_ca_pem.into()));
        self
    }

    /// Makes the SASL listener SASL_SSL, with this PEM keystore (key, then certificates).
    pub fn with_sasl_listener_tls(mut self, keystore_pem: impl Into<PathBuf>) -> Self {
        self.sasl_listener_keystore = Some(keystore_pem.into());
        self
    }

    /// Adds a SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, and OAUTHBEARER
    /// with Kafka's unsecured-JWT validator) on every node,
    /// with these PLAIN users; see [`RealKafka::sasl_bootstrap`].
    pub fn with_sasl_listener(mut self, plain_users: &[(&str, &str)]) -> Self {
        self.sasl_plain_users = Some(
            plain_users
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
        );
        self
    }

    /// Uses Kafka `version`.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Sets a broker property (`server.properties` key) on every node.
    pub fn with_property(mut self, key: &str, value: &str) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }
}

/// The Kafka version the test suite pins: `$KAFKA_SDK_KAFKA_VERSION`, else the version in
/// `tools/real-kafka/VERSION`.
pub fn pinned_version() -> String {
    if let Ok(v) = std::env::var("KAFKA_SDK_KAFKA_VERSION") {
        if !v.trim().is_empty() {
            return v.trim().to_string();
        }
    }
    std::fs::read_to_string(version_file())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "4.4.0".to_string())
}

fn version_file() -> PathBuf {
    peers::repo_root().join("tools/real-kafka/VERSION")
}

/// The newest release of the `major` line (e.g. 4) on Maven Central whose broker jars resolve,
/// trying newer releases first.
pub fn newest_release(major: u32) -> Result<String, String> {
    let mut candidates: Vec<(Vec<u32>, String)> =
        maven::published_versions("org.apache.kafka", "kafka_2.13")
            .into_iter()
            .filter_map(|v| maven::release_numbers(&v).map(|n| (n, v)))
            .filter(|(n, _)| n.first() == Some(&major))
            .collect();
    candidates.sort();
    if candidates.is_empty() {
        return Err(format!(
            "no Kafka {major}.x release listed by Maven Central (or it is unreachable)"
        ));
    }
    let mut errors = Vec::new();
    for (_, version) in candidates.into_iter().rev().take(4) {
        match kafka_lib(&version) {
            Ok(_) => return Ok(version),
            Err(e) => errors.push(format!("{version}: {e}")),
        }
    }
    Err(errors.join("\n"))
}

/// Resolves (or finds in the cache) the broker's jars for `version`.
pub fn kafka_lib(version: &str) -> Result<PathBuf, String> {
    maven::resolve(
        &format!("kafka-{version}"),
        &[
            Artifact::new("org.apache.kafka", "kafka_2.13", version),
            Artifact::new("org.slf4j", "slf4j-simple", SLF4J_VERSION),
        ],
    )
}

/// Resolves (or finds in the cache) Kafka's command-line tools for `version` (`kafka-tools`:
/// `TopicCommand`, `ConsumerGroupCommand`, ...), what `kafka-topics.sh` and
/// `kafka-consumer-groups.sh` run.
pub fn kafka_tools_lib(version: &str) -> Result<PathBuf, String> {
    maven::resolve(
        &format!("kafka-tools-{version}"),
        &[
            Artifact::new("org.apache.kafka", "kafka-tools", version),
            Artifact::new("org.slf4j", "slf4j-nop", SLF4J_VERSION),
        ],
    )
}

/// Runs one of Kafka's tools (`org.apache.kafka.tools.TopicCommand`, ...) with `args` and a
/// time bound; `None` (after one `SKIPPED:` line) when Java or Maven is missing outside CI.
pub fn run_kafka_tool(
    main_class: &str,
    args: &[&str],
    limit: std::time::Duration,
) -> Option<crate::process::Output> {
    if !crate::peers::require_java() {
        return None;
    }
    let lib = match kafka_tools_lib(&pinned_version()) {
        Ok(lib) => lib,
        Err(e) => panic!("Kafka's tools did not resolve: {e}"),
    };
    let java = crate::peers::java_binary()?;
    Some(crate::process::run(
        std::process::Command::new(java)
            .arg("-cp")
            .arg(format!("{}/*", lib.display()))
            .arg(main_class)
            .args(args),
        None,
        limit,
    ))
}

/// Compiles `tools/real-kafka/KafkaNode.java` against `lib` (once per source and version) and
/// returns the directory holding the class.
fn launcher(lib: &Path, version: &str) -> Result<PathBuf, String> {
    static COMPILING: Mutex<()> = Mutex::new(());
    let _guard = COMPILING.lock().unwrap_or_else(|p| p.into_inner());
    let source_path = peers::repo_root().join("tools/real-kafka/KafkaNode.java");
    let source =
        std::fs::read(&source_path).map_err(|e| format!("{}: {e}", source_path.display()))?;
    let dir = maven::cache_dir().join(format!("launcher-{version}-{:016x}", fnv1a(&source)));
    if dir.join("KafkaNode.class").exists() {
        return Ok(dir);
    }
    let javac = peers::javac_binary().ok_or("javac not found")?;
    let staging = dir.with_extension(format!("partial-{}", std::process::id()));
    std::fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
    let out = run(
        Command::new(javac)
            .arg("-cp")
            .arg(lib.join("*"))
            .arg("-d")
            .arg(&staging)
            .arg(&source_path),
        None,
        Duration::from_secs(120),
    );
    if !out.success() {
        return Err(format!("javac KafkaNode.java failed:\n{}", out.describe()));
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&staging, &dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// FNV-1a, for cache keys.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One node: its fixed ports and directory, and its JVM while it runs.
#[derive(Debug)]
struct Node {
    id: i32,
    port: u16,
    controller_port: u16,
    /// The SASL_PLAINTEXT listener's port (bound only when the cluster has one).
    sasl_port: u16,
    dir: PathBuf,
    jvm: Option<Child>,
}

impl Node {
    fn properties_path(&self) -> PathBuf {
        self.dir.join("server.properties")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("kafka.log")
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The end of the node's log, for failure messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let start = text.len().saturating_sub(6000);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        format!("--- node {} log (tail) ---\n{}", self.id, &text[start..])
    }
}

/// A running real Kafka cluster of one or more KRaft nodes.
#[derive(Debug)]
pub struct RealKafka {
    version: String,
    root: PathBuf,
    lib: PathBuf,
    launcher: PathBuf,
    cluster_id: String,
    nodes: Mutex<Vec<Node>>,
}

static SHARED: OnceLock<Option<RealKafka>> = OnceLock::new();

impl RealKafka {
    /// One node of the pinned version, or `None` (after one `SKIPPED:` line) when Java or Maven
    /// is missing on a developer's machine. In CI a missing JVM, and any startup failure, panics.
    pub fn start() -> Option<RealKafka> {
        Self::start_or_skip(RealKafkaConfig::new(1))
    }

    /// `nodes` nodes (replication factor `nodes` by default), as [`RealKafka::start`].
    pub fn cluster(nodes: usize) -> Option<RealKafka> {
        Self::start_or_skip(RealKafkaConfig::new(nodes))
    }

    /// A single node shared by every test of this test binary, started on first use. It stops
    /// when the test process exits (its JVM watches the pipe this process holds).
    pub fn shared() -> Option<&'static RealKafka> {
        SHARED
            .get_or_init(|| Self::start_or_skip(RealKafkaConfig::new(1)))
            .as_ref()
    }

    /// Starts with `config`, skipping as [`RealKafka::start`] does.
    pub fn start_or_skip(config: RealKafkaConfig) -> Option<RealKafka> {
        if !peers::require_java() {
            return None;
        }
        match Self::launch(config) {
            Ok(kafka) => Some(kafka),
            Err(e) => panic!("real Kafka did not start: {e}"),
        }
    }

    /// Resolves, formats and starts the cluster, waiting until every node answers Metadata.
    pub fn launch(config: RealKafkaConfig) -> Result<RealKafka, String> {
        if config.nodes == 0 {
            return Err("at least one node is needed".into());
        }
        sweep_stale_dirs();
        let began = Instant::now();
        let lib = kafka_lib(&config.version)?;
        let launcher = launcher(&lib, &config.version)?;
        let root = std::env::temp_dir().join(format!(
            "kafka-sdk-real-kafka-{}-{:x}",
            std::process::id(),
            fnv1a(format!("{:?}", Instant::now()).as_bytes())
        ));
        std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let cluster_id = random_cluster_id();
        let mut nodes = Vec::new();
        for id in 1..=config.nodes {
            let dir = root.join(format!("node-{id}"));
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            nodes.push(Node {
                id: i32::try_from(id).map_err(|_| "too many nodes")?,
                port: free_port()?,
                controller_port: free_port()?,
                sasl_port: free_port()?,
                dir,
                jvm: None,
            });
        }
        let voters = nodes
            .iter()
            .map(|n| format!("{}@127.0.0.1:{}", n.id, n.controller_port))
            .collect::<Vec<_>>()
            .join(",");
        for node in &nodes {
            let mut extra = config.properties.clone();
            if let Some((keystore, truststore)) = &config.ssl_listener {
                extra.extend(ssl_listener_properties(node, keystore, truststore));
            }
            if let Some(users) = &config.sasl_plain_users {
                extra.extend(sasl_listener_properties(
                    node,
                    users,
                    config.sasl_listener_keystore.as_deref(),
                ));
            }
            let text = server_properties(node, &voters, config.nodes, &extra);
            std::fs::write(node.properties_path(), text)
                .map_err(|e| format!("{}: {e}", node.properties_path().display()))?;
        }
        let kafka = RealKafka {
            version: config.version.clone(),
            root,
            lib,
            launcher,
            cluster_id,
            nodes: Mutex::new(nodes),
        };
        kafka.format_all()?;
        {
            let mut nodes = kafka.lock();
            for node in nodes.iter_mut() {
                node.jvm = Some(kafka.spawn_jvm(node)?);
            }
        }
        kafka.wait_ready(config.nodes)?;
        eprintln!(
            "real Kafka {} with {} node(s) ready in {:.1}s: {}",
            kafka.version,
            config.nodes,
            began.elapsed().as_secs_f64(),
            kafka.bootstrap()
        );
        Ok(kafka)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Node>> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn classpath(&self) -> String {
        format!(
            "{}:{}",
            self.launcher.display(),
            self.lib.join("*").display()
        )
    }

    fn java(&self) -> Result<PathBuf, String> {
        peers::java_binary().ok_or_else(|| "java not found".to_string())
    }

    /// Formats every node's log directory with the cluster id (KRaft's `kafka-storage format`).
    fn format_all(&self) -> Result<(), String> {
        let java = self.java()?;
        let jobs: Vec<(i32, PathBuf)> = self
            .lock()
            .iter()
            .map(|n| (n.id, n.properties_path()))
            .collect();
        let results: Vec<Result<(), String>> = thread::scope(|s| {
            let handles: Vec<_> = jobs
                .iter()
                .map(|(id, props)| {
                    let java = &java;
                    s.spawn(move || {
                        let out = run(
                            Command::new(java)
                                .args(["-Xmx256m", "-XX:+UseSerialGC", "-cp"])
                                .arg(self.classpath())
                                .arg("kafka.tools.StorageTool")
                                .args(["format", "-t", &self.cluster_id, "-c"])
                                .arg(props),
                            None,
                            Duration::from_secs(120),
                        );
                        if out.success() {
                            Ok(())
                        } else {
                            Err(format!("formatting node {id} failed:\n{}", out.describe()))
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("format thread panicked".into()))
                })
                .collect()
        });
        results.into_iter().collect()
    }

    fn spawn_jvm(&self, node: &Node) -> Result<Child, String> {
        let log = File::create(node.log_path())
            .map_err(|e| format!("{}: {e}", node.log_path().display()))?;
        let log2 = log
            .try_clone()
            .map_err(|e| format!("{}: {e}", node.log_path().display()))?;
        let opts = std::env::var("KAFKA_SDK_KAFKA_JVM_OPTS")
            .unwrap_or_else(|_| DEFAULT_JVM_OPTS.to_string());
        Command::new(self.java()?)
            .args(opts.split_whitespace())
            .arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
            .arg("-cp")
            .arg(self.classpath())
            .arg("KafkaNode")
            .arg(SHUTDOWN_GRACE.as_millis().to_string())
            .arg(node.properties_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .map_err(|e| format!("cannot start java for node {}: {e}", node.id))
    }

    /// Waits until every running node answers Metadata listing `expected` brokers.
    fn wait_ready(&self, expected: usize) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let (addresses, exited) = {
                let mut nodes = self.lock();
                let mut exited = Vec::new();
                for node in nodes.iter_mut() {
                    if let Some(jvm) = node.jvm.as_mut() {
                        if let Ok(Some(status)) = jvm.try_wait() {
                            exited.push(format!(
                                "node {} exited with {status}\n{}",
                                node.id,
                                node.log_tail()
                            ));
                        }
                    }
                }
                let addresses: Vec<String> = nodes
                    .iter()
                    .filter(|n| n.jvm.is_some())
                    .map(Node::address)
                    .collect();
                (addresses, exited)
            };
            if !exited.is_empty() {
                return Err(exited.join("\n"));
            }
            if addresses
                .iter()
                .all(|a| broker_count(a).is_some_and(|n| n == expected))
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let tails: Vec<String> = self.lock().iter().map(Node::log_tail).collect();
                return Err(format!(
                    "Kafka did not answer Metadata with {expected} broker(s) within {STARTUP_TIMEOUT:?}\n{}",
                    tails.join("\n")
                ));
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// The Kafka version running.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The cluster id the nodes were formatted with.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// `host:port` of every node's SASL_PLAINTEXT listener (see
    /// [`RealKafkaConfig::with_sasl_listener`]), comma-separated.
    pub fn sasl_bootstrap(&self) -> String {
        self.lock()
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.sasl_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `host:port` of every node, comma-separated, for `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        self.lock()
            .iter()
            .map(Node::address)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Each node's id and `host:port`.
    pub fn nodes(&self) -> Vec<(i32, String)> {
        self.lock().iter().map(|n| (n.id, n.address())).collect()
    }

    /// The process ids of the running nodes' JVMs.
    pub fn pids(&self) -> Vec<u32> {
        self.lock()
            .iter()
            .filter_map(|n| n.jvm.as_ref().map(Child::id))
            .collect()
    }

    /// The `host:port` of node `id`.
    pub fn address(&self, id: i32) -> Option<String> {
        self.lock().iter().find(|n| n.id == id).map(Node::address)
    }

    /// Kills node `id` with SIGKILL (a crash: no controlled shutdown) and waits for it to die.
    pub fn kill(&self, id: i32) {
        let mut nodes = self.lock();
        let node = nodes
            .iter_mut()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("no node {id}"));
        if let Some(mut jvm) = node.jvm.take() {
            let _ = jvm.kill();
            let _ = jvm.wait();
        }
    }

    /// Restarts node `id` (killed before) with its old ports and log directory, and waits until
    /// every running node lists every running node again.
    pub fn restart(&self, id: i32) {
        let running = {
            let mut nodes = self.lock();
            let node = nodes
                .iter_mut()
                .find(|n| n.id == id)
                .unwrap_or_else(|| panic!("no node {id}"));
            assert!(node.jvm.is_none(), "node {id} is running");
            let jvm = self
                .spawn_jvm(node)
                .unwrap_or_else(|e| panic!("restart node {id}: {e}"));
            node.jvm = Some(jvm);
            nodes.iter().filter(|n| n.jvm.is_some()).count()
        };
        if let Err(e) = self.wait_ready(running) {
            panic!("node {id} did not come back: {e}");
        }
    }

    /// Stops every node cleanly (controlled shutdown, halted after a grace period) and removes
    /// the cluster's directories.
    pub fn stop(self) {
        drop(self);
    }

    fn stop_all(&self) {
        let mut nodes = self.lock();
        // Close every stdin first so the nodes shut down together rather than one by one.
        for node in nodes.iter_mut() {
            if let Some(jvm) = node.jvm.as_mut() {
                drop(jvm.stdin.take());
            }
        }
        let deadline = Instant::now() + SHUTDOWN_GRACE + Duration::from_secs(5);
        for node in nodes.iter_mut() {
            if let Some(mut jvm) = node.jvm.take() {
                loop {
                    match jvm.try_wait() {
                        Ok(Some(_)) => break,
                        Ok(None) if Instant::now() < deadline => {
                            thread::sleep(Duration::from_millis(50))
                        }
                        _ => {
                            let _ = jvm.kill();
                            let _ = jvm.wait();
                            break;
                        }
                    }
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }

    /// The end of every node's log, for failure messages.
    pub fn logs(&self) -> String {
        let text: Vec<String> = self.lock().iter().map(Node::log_tail).collect();
        truncate_middle(&text.join("\n"), 20_000)
    }
}

impl Drop for RealKafka {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Brokers listed by `address`'s Metadata answer, if it answers with a controller.
fn broker_count(address: &str) -> Option<usize> {
    let mut conn = Connection::connect(address, Duration::from_secs(2)).ok()?;
    // Metadata v9 exists from Kafka 2.4 to 4.x; null topics asks for none of them here.
    let request = MetadataRequest::default()
        .with_topics(Some(Vec::new()))
        .with_allow_auto_topic_creation(false);
    let response = conn.send(&request, 9).ok()?;
    (response.controller_id >= 0).then_some(response.brokers.len())
}

fn server_properties(
    node: &Node,
    voters: &str,
    nodes: usize,
    extra: &BTreeMap<String, String>,
) -> String {
    let replicas = nodes.min(3).to_string();
    let min_isr = if nodes >= 3 { "2" } else { "1" };
    let mut props: BTreeMap<String, String> = [
        ("process.roles", "broker,controller".to_string()),
        ("node.id", node.id.to_string()),
        ("controller.quorum.voters", voters.to_string()),
        (
            "listeners",
            format!(
                "PLAINTEXT://127.0.0.1:{},CONTROLLER://127.0.0.1:{}",
                node.port, node.controller_port
            ),
        ),
        (
            "advertised.listeners",
            format!("PLAINTEXT://127.0.0.1:{}", node.port),
        ),
        ("controller.listener.names", "CONTROLLER".to_string()),
        ("inter.broker.listener.name", "PLAINTEXT".to_string()),
        (
            "listener.security.protocol.map",
            "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT".to_string(),
        ),
        ("log.dirs", node.dir.join("data").display().to_string()),
        ("offsets.topic.replication.factor", replicas.clone()),
        ("offsets.topic.num.partitions", "1".to_string()),
        ("transaction.state.log.replication.factor", replicas.clone()),
        ("transaction.state.log.min.isr", min_isr.to_string()),
        ("transaction.state.log.num.partitions", "1".to_string()),
        ("share.coordinator.state.topic.replication.factor", replicas),
        ("share.coordinator.state.topic.min.isr", min_isr.to_string()),
        // Tests form groups at once, as the bundled broker does by default.
        ("group.initial.rebalance.delay.ms", "0".to_string()),
        ("num.network.threads", "2".to_string()),
        ("num.io.threads", "4".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if nodes > 1 {
        // Kafka's default is 1; a cluster replicates auto-created topics on every node (up to 3).
        props.insert(
            "default.replication.factor".into(),
            nodes.min(3).to_string(),
        );
    }
    for (k, v) in extra {
        props.insert(k.clone(), v.clone());
    }
    props
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}

/// The properties of a SASL_PLAINTEXT listener beside PLAINTEXT (which stays the
/// inter-broker listener): PLAIN with `users`, and both SCRAM mechanisms.
/// The properties of an SSL listener with required client certificates on `node.sasl_port`.
fn ssl_listener_properties(
    node: &Node,
    keystore: &std::path::Path,
    truststore: &std::path::Path,
) -> BTreeMap<String, String> {
    let path = |p: &std::path::Path| p.display().to_string();
    [
        (
            "listeners",
            format!(
                "PLAINTEXT://127.0.0.1:{},CONTROLLER://127.0.0.1:{},SSL://127.0.0.1:{}",
                node.port, node.controller_port, node.sasl_port
            ),
        ),
        (
            "advertised.listeners",
            format!(
                "PLAINTEXT://127.0.0.1:{},SSL://127.0.0.1:{}",
                node.port, node.sasl_port
            ),
        ),
        (
            "listener.security.protocol.map",
            "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL".to_string(),
        ),
        ("listener.name.ssl.ssl.keystore.type", "PEM".to_string()),
        ("listener.name.ssl.ssl.keystore.location", path(keystore)),
        ("listener.name.ssl.ssl.truststore.type", "PEM".to_string()),
        (
            "listener.name.ssl.ssl.truststore.location",
            path(truststore),
        ),
        ("listener.name.ssl.ssl.client.auth", "required".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn sasl_listener_properties(
    node: &Node,
    users: &BTreeMap<String, String>,
    keystore: Option<&std::path::Path>,
) -> BTreeMap<String, String> {
    let (protocol, name) = match keystore {
        Some(_) => ("SASL_SSL", "sasl_ssl"),
        None => ("SASL_PLAINTEXT", "sasl_plaintext"),
    };
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let plain_users: String = users
        .iter()
        .map(|(u, p)| format!(" user_{u}=\"{}\"", quote(p)))
        .collect();
    let mut props: BTreeMap<String, String> = [
        (
            "listeners".to_string(),
            format!(
                "PLAINTEXT://127.0.0.1:{},CONTROLLER://127.0.0.1:{},{protocol}://127.0.0.1:{}",
                node.port, node.controller_port, node.sasl_port
            ),
        ),
        (
            "advertised.listeners".to_string(),
            format!(
                "PLAINTEXT://127.0.0.1:{},{protocol}://127.0.0.1:{}",
                node.port, node.sasl_port
            ),
        ),
        (
            "listener.security.protocol.map".to_string(),
            format!("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,{protocol}:{protocol}"),
        ),
        (
            "sasl.enabled.mechanisms".to_string(),
            "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER".to_string(),
        ),
        // OAUTHBEARER with Kafka's default validator, which accepts unsecured JWTs (alg none),
        // as Kafka ships it for development and tests.
        (
            format!("listener.name.{name}.oauthbearer.sasl.jaas.config"),
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"
                .to_string(),
        ),
        (
            format!("listener.name.{name}.plain.sasl.jaas.config"),
            format!(
                "org.apache.kafka.common.security.plain.PlainLoginModule required{plain_users};"
            ),
        ),
        (
            format!("listener.name.{name}.scram-sha-256.sasl.jaas.config"),
            "org.apache.kafka.common.security.scram.ScramLoginModule required;".to_string(),
        ),
        (
            format!("listener.name.{name}.scram-sha-512.sasl.jaas.config"),
            "org.apache.kafka.common.security.scram.ScramLoginModule required;".to_string(),
        ),
    ]
    .into_iter()
    .collect();
    if let Some(keystore) = keystore {
        props.insert(
            format!("listener.name.{name}.ssl.keystore.type"),
            "PEM".into(),
        );
        props.insert(
            format!("listener.name.{name}.ssl.keystore.location"),
            keystore.display().to_string(),
        );
    }
    props
}

/// A free loopback port (bound, then released for Kafka to bind).
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// 16 random bytes as unpadded URL-safe base64: the 22-character form Kafka's cluster ids take.
fn random_cluster_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = Vec::with_capacity(16);
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        bytes.extend_from_slice(&h.finish().to_be_bytes());
    }
    // Like Kafka's `Uuid.randomUuid`: never starting with `-`, which a command line would take
    // for an option (the top bit cleared keeps the first character in `A`..`f`).
    bytes[0] &= 0x7f;
    base64_url(&bytes)
}

/// Unpadded URL-safe base64 (RFC 4648 section 5).
pub fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Removes the directories of clusters whose test process is gone (killed before it could
/// clean up).
fn sweep_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("kafka-sdk-real-kafka-") else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_url_matches_rfc_4648_vectors() {
        assert_eq!(base64_url(b""), "");
        assert_eq!(base64_url(b"f"), "Zg");
        assert_eq!(base64_url(b"fo"), "Zm8");
        assert_eq!(base64_url(b"foo"), "Zm9v");
        assert_eq!(base64_url(&[0xfb, 0xff]), "-_8");
        for _ in 0..64 {
            let id = random_cluster_id();
            assert_eq!(id.len(), 22);
            assert!(!id.starts_with('-') && !id.starts_with('_'), "{id}");
        }
    }

    #[test]
    fn properties_name_every_voter_and_listener() {
        let node = Node {
            id: 2,
            port: 1000,
            controller_port: 1001,
            sasl_port: 1002,
            dir: PathBuf::from("/tmp/x"),
            jvm: None,
        };
        let text = server_properties(&node, "1@a:1,2@a:2,3@a:3", 3, &BTreeMap::new());
        let sasl = sasl_listener_properties(
            &node,
            &BTreeMap::from([("u".to_string(), "p\"w".to_string())]),
            None,
        );
        assert!(sasl["listener.name.sasl_plaintext.plain.sasl.jaas.config"]
            .contains(r#"user_u="p\"w";"#));
        assert!(text.contains("node.id=2\n"));
        assert!(text.contains("controller.quorum.voters=1@a:1,2@a:2,3@a:3\n"));
        assert!(text.contains("listeners=PLAINTEXT://127.0.0.1:1000,CONTROLLER://127.0.0.1:1001\n"));
        assert!(text.contains("default.replication.factor=3\n"));
        assert!(text.contains("transaction.state.log.min.isr=2\n"));
    }
}
