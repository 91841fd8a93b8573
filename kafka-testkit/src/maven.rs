//! Jars from Maven Central, resolved with `mvn` into a cache outside the repository.
//!
//! A throwaway `pom.xml` lists the artifacts; `mvn dependency:copy-dependencies` copies them and
//! everything they depend on into one `lib/` directory, which `java -cp 'lib/*'` then runs. The
//! result is cached per artifact set (`$KAFKA_SDK_CACHE`, else `$XDG_CACHE_HOME/kafka-sdk`, else
//! `~/.cache/kafka-sdk`), so only the first run on a machine downloads anything.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::process::run;

/// How long one Maven resolution may take (a cold download of Kafka is about 55 MB).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(600);

/// Marks a `lib/` directory whose resolution completed.
const COMPLETE_MARKER: &str = ".complete";

/// Serializes resolutions within one process (tests run on several threads).
static RESOLVING: Mutex<()> = Mutex::new(());

/// The cache directory for downloaded jars and compiled helpers, outside the repository.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KAFKA_SDK_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Path::new(&dir).join("kafka-sdk");
    }
    match std::env::var_os("HOME") {
        Some(home) => Path::new(&home).join(".cache").join("kafka-sdk"),
        None => std::env::temp_dir().join("kafka-sdk-cache"),
    }
}

/// A Maven coordinate `group:artifact:version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The group id, e.g. `org.apache.kafka`.
    pub group: String,
    /// The artifact id, e.g. `kafka_2.13`.
    pub artifact: String,
    /// The version, e.g. `4.4.0`.
    pub version: String,
}

impl Artifact {
    /// `group:artifact:version`.
    pub fn new(group: &str, artifact: &str, version: &str) -> Artifact {
        Artifact {
            group: group.into(),
            artifact: artifact.into(),
            version: version.into(),
        }
    }
}

/// Resolves `artifacts` and their dependencies into `<cache>/<name>/lib` (reusing a completed
/// earlier resolution) and returns that directory.
pub fn resolve(name: &str, artifacts: &[Artifact]) -> Result<PathBuf, String> {
    let _guard = RESOLVING.lock().unwrap_or_else(|p| p.into_inner());
    let home = cache_dir().join(name);
    let lib = home.join("lib");
    if lib.join(COMPLETE_MARKER).exists() {
        return Ok(lib);
    }
    std::fs::create_dir_all(&home).map_err(|e| format!("{}: {e}", home.display()))?;
    let pom = home.join("pom.xml");
    std::fs::write(&pom, pom_xml(artifacts)).map_err(|e| format!("{}: {e}", pom.display()))?;
    // Resolve into a fresh directory and rename it into place, so that an interrupted run never
    // leaves a half-filled `lib/` that a later run would trust.
    let staging = home.join(format!("lib.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let out = run(
        Command::new("mvn")
            .arg("-q")
            .arg("-B")
            .arg("-f")
            .arg(&pom)
            .arg("dependency:copy-dependencies")
            .arg(format!("-DoutputDirectory={}", staging.display())),
        None,
        RESOLVE_TIMEOUT,
    );
    if !out.success() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(format!(
            "mvn could not resolve {}:\n{}",
            artifacts
                .iter()
                .map(|a| format!("{}:{}:{}", a.group, a.artifact, a.version))
                .collect::<Vec<_>>()
                .join(", "),
            out.describe()
        ));
    }
    std::fs::write(staging.join(COMPLETE_MARKER), b"")
        .map_err(|e| format!("{}: {e}", staging.display()))?;
    let _ = std::fs::remove_dir_all(&lib);
    std::fs::rename(&staging, &lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    Ok(lib)
}

fn pom_xml(artifacts: &[Artifact]) -> String {
    let deps: String = artifacts
        .iter()
        .map(|a| {
            format!(
                "    <dependency><groupId>{}</groupId><artifactId>{}</artifactId><version>{}</version></dependency>\n",
                a.group, a.artifact, a.version
            )
        })
        .collect();
    format!(
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>kafka-sdk.testkit</groupId>\n  <artifactId>resolve</artifactId>\n  <version>1</version>\n  <dependencies>\n{deps}  </dependencies>\n</project>\n"
    )
}

/// The versions of `group:artifact` that Maven Central lists, oldest first, read from its
/// `maven-metadata.xml` with `curl`. Empty when the index cannot be fetched.
pub fn published_versions(group: &str, artifact: &str) -> Vec<String> {
    let url = format!(
        "https://repo.maven.apache.org/maven2/{}/{artifact}/maven-metadata.xml",
        group.replace('.', "/")
    );
    let out = run(
        Command::new("curl").args(["-fsSL", "--max-time", "20", &url]),
        None,
        Duration::from_secs(30),
    );
    if !out.success() {
        return Vec::new();
    }
    out.stdout
        .split("<version>")
        .skip(1)
        .filter_map(|s| s.split("</version>").next())
        .map(str::to_owned)
        .collect()
}

/// A release version such as `4.3.1` as numbers; `None` for pre-releases (`4.0.0-rc1`).
pub fn release_numbers(version: &str) -> Option<Vec<u32>> {
    version.split('.').map(|p| p.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pom_lists_every_artifact() {
        let pom = pom_xml(&[
            Artifact::new("org.apache.kafka", "kafka_2.13", "4.4.0"),
            Artifact::new("org.slf4j", "slf4j-simple", "1.7.36"),
        ]);
        assert!(pom.contains("<artifactId>kafka_2.13</artifactId><version>4.4.0</version>"));
        assert!(pom.contains("<artifactId>slf4j-simple</artifactId>"));
    }

    #[test]
    fn release_numbers_reject_pre_releases() {
        assert_eq!(release_numbers("4.3.1"), Some(vec![4, 3, 1]));
        assert_eq!(release_numbers("4.0.0-rc1"), None);
    }
}
