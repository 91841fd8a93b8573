//! Shared plumbing of the interop tests: start an in-process cluster (or the `kafka-broker`
//! binary), and run third-party clients as subprocesses with a hard time bound.
//!
//! Every subprocess is killed when its bound passes or its handle is dropped, so a hung client or
//! broker fails the test instead of hanging CI.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use kafka_broker::{ApiKey, Cluster, ClusterConfig};

/// How long the broker may take to print its `bootstrap:` line.
pub const BROKER_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `program` is an executable file in one of the `PATH` directories.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| is_executable(&dir.join(program)))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Skips (prints why and returns false) when a peer is missing on a developer's machine. In CI
/// (`CI` set, as `.ci/run` runs) a missing peer is a failure instead: `.ci/install-peers.sh` must
/// have installed it, and a silently skipped interop test would prove nothing.
fn skip(reason: String) -> bool {
    assert!(
        std::env::var_os("CI").is_none(),
        "interop peer missing in CI: {reason}"
    );
    println!("SKIPPED: {reason}");
    false
}

/// Whether `kcat` is installed; see [`skip`] for what happens when it is not.
pub fn require_kcat() -> bool {
    on_path("kcat") || skip("kcat not installed (run .ci/install-peers.sh)".to_string())
}

/// Whether `python3` can import `module`; see [`skip`] for what happens when it cannot.
pub fn require_python_module(module: &str) -> bool {
    if !on_path("python3") {
        return skip("python3 not installed".to_string());
    }
    let out = run(
        Command::new("python3").args(["-c", &format!("import {module}")]),
        None,
        Duration::from_secs(60),
    );
    if out.success() {
        true
    } else {
        skip(format!(
            "python module {module} not installed (run .ci/install-peers.sh): {}",
            out.stderr.trim()
        ))
    }
}

/// Directory of the Python interop scripts.
pub fn python_scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("interop")
}

/// What a finished (or killed) subprocess left behind.
#[derive(Debug)]
pub struct Output {
    /// Exit status, `None` if it was killed at its time bound.
    pub status: Option<ExitStatus>,
    /// Everything it wrote to stdout (lossy UTF-8).
    pub stdout: String,
    /// Everything it wrote to stderr (lossy UTF-8).
    pub stderr: String,
    /// Whether it had to be killed at its time bound.
    pub timed_out: bool,
}

impl Output {
    /// Exited by itself with status 0.
    pub fn success(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }

    /// A description for assertion messages: status, and both streams (stdout truncated).
    pub fn describe(&self) -> String {
        let mut stdout = self.stdout.clone();
        if stdout.len() > 4000 {
            let mut cut = 2000;
            while !stdout.is_char_boundary(cut) {
                cut -= 1;
            }
            stdout = format!(
                "{}\n[... {} bytes cut ...]",
                &stdout[..cut],
                stdout.len() - cut
            );
        }
        format!(
            "status: {:?}, timed out: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.timed_out, stdout, self.stderr
        )
    }
}

/// Runs `command` to completion, feeding it `stdin` (then closing it), killing it after `limit`.
pub fn run(command: &mut Command, stdin: Option<Vec<u8>>, limit: Duration) -> Output {
    let mut process = Spawned::spawn(command, stdin);
    let deadline = Instant::now() + limit;
    loop {
        match process.child.try_wait() {
            Ok(Some(status)) => return process.finish(Some(status), false),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            _ => return process.kill(),
        }
    }
}

/// A subprocess running in the background whose output is collected as it comes.
pub struct Spawned {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<thread::JoinHandle<()>>,
}

fn collect(stream: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            if let Ok(mut buf) = into.lock() {
                buf.push_str(&String::from_utf8_lossy(&line));
            }
            line.clear();
        }
    })
}

impl Spawned {
    /// Starts `command` with piped stdio; `stdin` is written by a helper thread, then closed.
    pub fn spawn(command: &mut Command, stdin: Option<Vec<u8>>) -> Spawned {
        let program = format!("{command:?}");
        let mut child = command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // Errors mean the process exited early; its status and stderr will say why.
            thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(collect(out, Arc::clone(&stdout)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(collect(err, Arc::clone(&stderr)));
        }
        Spawned {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// What it has written to stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// What it has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits until `ready(stdout, stderr)` holds or `limit` passes; returns whether it held.
    pub fn wait_for(&mut self, limit: Duration, ready: impl Fn(&str, &str) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if ready(&self.stdout(), &self.stderr()) {
                return true;
            }
            thread::sleep(Duration::from_millis(50));
        }
        ready(&self.stdout(), &self.stderr())
    }

    /// Kills it (if still running) and returns its output.
    pub fn kill(mut self) -> Output {
        let already = self.child.try_wait().ok().flatten();
        if already.is_some() {
            return self.finish(already, false);
        }
        let _ = self.child.kill();
        let status = self.child.wait().ok();
        self.finish(status, true)
    }

    fn finish(mut self, status: Option<ExitStatus>, killed: bool) -> Output {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        Output {
            status: if killed { None } else { status },
            stdout: self.stdout(),
            stderr: self.stderr(),
            timed_out: killed,
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
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
