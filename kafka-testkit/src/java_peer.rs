//! The Java client as a peer: `tools/java-peer/JavaPeer.java`, compiled against Apache Kafka's
//! `kafka-clients` from Maven Central, driving Kafka's own producer, consumer, partitioner and
//! AdminClient and reporting JSON lines.
//!
//! ```no_run
//! use std::time::Duration;
//! use kafka_testkit::JavaPeer;
//!
//! let Some(java) = JavaPeer::build() else { return }; // SKIPPED without Java outside CI
//! let out = java.run(&["partition", "--partitions", "6"], Some(b"key-1\nkey-2\n".to_vec()),
//!                    Duration::from_secs(60));
//! for line in JavaPeer::events(&out.stdout, "partition") {
//!     println!("{} -> {}", line["key"], line["partition"]);
//! }
//! ```

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::maven::{self, Artifact};
use crate::peers;
use crate::process::{run, Output, Spawned};
use crate::real_kafka::{fnv1a, pinned_version};

/// The slf4j binding that silences the client's logging (its errors reach us as JSON lines).
const SLF4J_VERSION: &str = "1.7.36";

/// A compiled Java peer.
#[derive(Debug, Clone)]
pub struct JavaPeer {
    classes: PathBuf,
    lib: PathBuf,
    version: String,
}

impl JavaPeer {
    /// The peer built against the pinned Kafka version, or `None` (after one `SKIPPED:` line)
    /// when Java or Maven is missing outside CI. A failed build panics.
    pub fn build() -> Option<JavaPeer> {
        if !peers::require_java() {
            return None;
        }
        match Self::build_version(&pinned_version()) {
            Ok(peer) => Some(peer),
            Err(e) => panic!("the Java peer did not build: {e}"),
        }
    }

    /// Resolves `kafka-clients` `version` and compiles the peer against it (both cached).
    pub fn build_version(version: &str) -> Result<JavaPeer, String> {
        // Tests build the peer from several threads at once; one compiles, the others wait.
        static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _guard = BUILDING.lock().unwrap_or_else(|p| p.into_inner());
        let lib = maven::resolve(
            &format!("java-peer-{version}"),
            &[
                Artifact::new("org.apache.kafka", "kafka-clients", version),
                Artifact::new("org.slf4j", "slf4j-nop", SLF4J_VERSION),
            ],
        )?;
        let source = peers::repo_root().join("tools/java-peer/JavaPeer.java");
        let text = std::fs::read(&source).map_err(|e| format!("{}: {e}", source.display()))?;
        let classes =
            maven::cache_dir().join(format!("java-peer-{version}-classes-{:016x}", fnv1a(&text)));
        if !classes.join("JavaPeer.class").exists() {
            let javac = peers::javac_binary().ok_or("javac not found")?;
            let staging = classes.with_extension(format!("partial-{}", std::process::id()));
            std::fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
            let out = run(
                Command::new(javac)
                    .arg("-cp")
                    .arg(lib.join("*"))
                    .arg("-d")
                    .arg(&staging)
                    .arg(&source),
                None,
                Duration::from_secs(180),
            );
            if !out.success() {
                return Err(format!("javac JavaPeer.java failed:\n{}", out.describe()));
            }
            let _ = std::fs::remove_dir_all(&classes);
            std::fs::rename(&staging, &classes)
                .map_err(|e| format!("{}: {e}", classes.display()))?;
        }
        Ok(JavaPeer {
            classes,
            lib,
            version: version.to_string(),
        })
    }

    /// The `kafka-clients` version the peer runs.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// A command running the peer with `args` (see the header of `JavaPeer.java`).
    pub fn command(&self, args: &[&str]) -> Command {
        let java = peers::java_binary().unwrap_or_else(|| PathBuf::from("java"));
        let mut command = Command::new(java);
        command
            .args(["-Xmx512m", "-XX:+UseSerialGC", "-cp"])
            .arg(format!(
                "{}:{}",
                self.classes.display(),
                self.lib.join("*").display()
            ))
            .arg("JavaPeer")
            .args(args);
        command
    }

    /// Runs the peer to completion (killed after `limit`).
    pub fn run(&self, args: &[&str], stdin: Option<Vec<u8>>, limit: Duration) -> Output {
        run(&mut self.command(args), stdin, limit)
    }

    /// Starts the peer in the background with its stdin open; closing it (or dropping the
    /// handle) stops a consumer.
    pub fn spawn(&self, args: &[&str]) -> Spawned {
        Spawned::spawn_open(&mut self.command(args))
    }

    /// The JSON lines of `stdout` whose `event` is `event`.
    pub fn events(stdout: &str, event: &str) -> Vec<Value> {
        stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["event"] == event)
            .collect()
    }
}
