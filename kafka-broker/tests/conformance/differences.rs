//! Comparing two transcripts, and the list of known differences in
//! `docs/broker-differences.md`.
//!
//! A difference the list does not explain fails the suite, and so does a list entry that no
//! longer matches any difference: the list stays a true account of where the bundled broker
//! answers otherwise than Kafka.

use std::collections::BTreeMap;

use crate::harness::{Outcome, Step};
use crate::normalize::flatten;

/// One field where the two brokers answered differently.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    /// The scenario (`module::function`).
    pub scenario: String,
    /// The step's label.
    pub step: String,
    /// The field's path in the normalized response.
    pub path: String,
    /// Kafka's value (`<absent>` when Kafka lacks the field).
    pub kafka: String,
    /// The bundled broker's value.
    pub bundled: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} / {} / {}: kafka={} bundled={}",
            self.scenario, self.step, self.path, self.kafka, self.bundled
        )
    }
}

/// The outcome of a step as `path -> value`.
pub fn fields(outcome: &Outcome) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match outcome {
        Outcome::Response(norm) => {
            out.insert("<outcome>".into(), "response".into());
            flatten(norm, "", &mut out);
        }
        Outcome::Closed => {
            out.insert("<outcome>".into(), "connection closed".into());
        }
        Outcome::NoResponse => {
            out.insert("<outcome>".into(), "no response".into());
        }
        Outcome::Failed(e) => {
            out.insert("<outcome>".into(), format!("failed: {e}"));
        }
    }
    out
}

/// Every field-level difference between the two runs of `scenario`.
pub fn compare(scenario: &str, kafka: &[Step], bundled: &[Step]) -> Vec<Difference> {
    let mut diffs = Vec::new();
    let count = kafka.len().max(bundled.len());
    for i in 0..count {
        let (k, b) = (kafka.get(i), bundled.get(i));
        let label = k.or(b).map_or_else(String::new, |s| s.label.clone());
        if k.map(|s| &s.label) != b.map(|s| &s.label) {
            diffs.push(Difference {
                scenario: scenario.into(),
                step: label,
                path: "<step>".into(),
                kafka: k.map_or("<absent>".into(), |s| s.label.clone()),
                bundled: b.map_or("<absent>".into(), |s| s.label.clone()),
            });
            break;
        }
        let kf = k.map(|s| fields(&s.outcome)).unwrap_or_default();
        let bf = b.map(|s| fields(&s.outcome)).unwrap_or_default();
        let mut paths: Vec<&String> = kf.keys().chain(bf.keys()).collect();
        paths.sort();
        paths.dedup();
        for path in paths {
            let (kv, bv) = (kf.get(path), bf.get(path));
            if kv != bv {
                diffs.push(Difference {
                    scenario: scenario.into(),
                    step: label.clone(),
                    path: path.clone(),
                    kafka: kv.cloned().unwrap_or_else(|| "<absent>".into()),
                    bundled: bv.cloned().unwrap_or_else(|| "<absent>".into()),
                });
            }
        }
    }
    diffs
}

/// One row of the known-differences table.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Glob over the scenario name.
    pub scenario: String,
    /// Glob over the step label.
    pub step: String,
    /// Glob over the field path.
    pub path: String,
    /// Glob over `kafka=VALUE bundled=VALUE`.
    pub values: String,
    /// Why the bundled broker differs.
    pub reason: String,
    /// The line in the file.
    pub line: usize,
}

impl Listed {
    /// Whether this row explains `d`.
    pub fn matches(&self, d: &Difference) -> bool {
        glob(&self.scenario, &d.scenario)
            && glob(&self.step, &d.step)
            && glob(&self.path, &d.path)
            && glob(
                &self.values,
                &format!("kafka={} bundled={}", d.kafka, d.bundled),
            )
    }
}

/// Parses the table rows of `docs/broker-differences.md`: `| \`scenario\` | \`step\` |
/// \`path\` | \`values\` | reason |`, each a glob with `*` for any run of characters; `values`
/// matches `kafka=VALUE bundled=VALUE`.
pub fn parse(text: &str) -> Result<Vec<Listed>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if !line.starts_with("| `") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let [scenario, step, path, values, reason] = cells.as_slice() else {
            return Err(format!("line {}: expected 5 cells: {line}", i + 1));
        };
        let unquote = |c: &str| -> Result<String, String> {
            c.strip_prefix('`')
                .and_then(|c| c.strip_suffix('`'))
                .map(|c| c.replace("\\|", "|"))
                .ok_or_else(|| format!("line {}: cell {c} is not in backticks", i + 1))
        };
        if reason.is_empty() {
            return Err(format!(
                "line {}: a listed difference needs a reason",
                i + 1
            ));
        }
        rows.push(Listed {
            scenario: unquote(scenario)?,
            step: unquote(step)?,
            path: unquote(path)?,
            values: unquote(values)?,
            reason: (*reason).to_string(),
            line: i + 1,
        });
    }
    Ok(rows)
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_runs_of_characters() {
        assert!(glob("api_versions::*", "api_versions::v3"));
        assert!(glob("*.error_code", "topics[name=x].error_code"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXbYY"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }

    #[test]
    fn rows_need_four_cells_and_a_reason() {
        let rows =
            parse("| `a::*` | `*` | `x.y` | `kafka=* bundled=<absent>` | because |\n").unwrap();
        assert_eq!(rows.len(), 1);
        let d = Difference {
            scenario: "a::b".into(),
            step: "s".into(),
            path: "x.y".into(),
            kafka: "1".into(),
            bundled: "<absent>".into(),
        };
        assert!(rows[0].matches(&d));
        assert!(!rows[0].matches(&Difference {
            bundled: "2".into(),
            ..d
        }));
        assert!(parse("| `a` | `b` | `c` | `*` |  |\n").is_err());
    }
}
