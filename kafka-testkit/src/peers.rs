//! Finding the peers interop tests need, and skipping clearly when one is missing.
//!
//! On a developer's machine a missing peer (kcat, a Python client, Java or Maven) makes the test
//! print one `SKIPPED: ...` line and return. In CI (`CI` set, as `.ci/run` sets it) a missing peer
//! fails the test instead: `.ci/run` must have installed it, and a silently skipped interop test
//! would prove nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::run;

/// Whether this is a CI run (the `CI` environment variable is set).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// The first `PATH` entry holding an executable `program`.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

/// Whether `program` is an executable file in one of the `PATH` directories.
pub fn on_path(program: &str) -> bool {
    find_on_path(program).is_some()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Reports a missing peer: prints `SKIPPED: reason` and returns false, or panics in CI.
pub fn skip(reason: impl AsRef<str>) -> bool {
    let reason = reason.as_ref();
    assert!(!in_ci(), "interop peer missing in CI: {reason}");
    println!("SKIPPED: {reason}");
    false
}

/// Whether `kcat` is installed; see [`skip`] for what happens when it is not.
pub fn require_kcat() -> bool {
    on_path("kcat") || skip("kcat not installed (run .ci/install-peers.sh)")
}

/// Whether `python3` can import `module`; see [`skip`] for what happens when it cannot.
pub fn require_python_module(module: &str) -> bool {
    if !on_path("python3") {
        return skip("python3 not installed");
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

/// Why Java-based peers (real Kafka, the Java client) cannot run here, if they cannot.
pub fn java_missing() -> Option<String> {
    let java = java_binary();
    if !java.as_ref().is_some_and(|j| is_executable(j)) {
        return Some("java not installed (JDK 17+ needed for real Kafka and the Java peer)".into());
    }
    if !on_path("javac") && !java_home_tool("javac").is_some_and(|j| is_executable(&j)) {
        return Some("javac not installed (a JDK, not only a JRE, is needed)".into());
    }
    if !on_path("mvn") {
        return Some("mvn not installed (Maven resolves Kafka's jars from Maven Central)".into());
    }
    None
}

/// Whether Java, javac and Maven are present; see [`skip`] for what happens when they are not.
pub fn require_java() -> bool {
    match java_missing() {
        None => true,
        Some(reason) => skip(reason),
    }
}

fn java_home_tool(tool: &str) -> Option<PathBuf> {
    std::env::var_os("JAVA_HOME").map(|home| Path::new(&home).join("bin").join(tool))
}

/// The `java` to run: `$JAVA_HOME/bin/java` when set, else the one on `PATH`.
pub fn java_binary() -> Option<PathBuf> {
    java_home_tool("java")
        .filter(|p| is_executable(p))
        .or_else(|| find_on_path("java"))
}

/// The `javac` to run, found like [`java_binary`].
pub fn javac_binary() -> Option<PathBuf> {
    java_home_tool("javac")
        .filter(|p| is_executable(p))
        .or_else(|| find_on_path("javac"))
}

/// The repository's root directory (the workspace holding this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
