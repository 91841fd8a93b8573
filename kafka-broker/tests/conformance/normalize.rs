//! Normalizing responses so that Apache Kafka's and the bundled broker's answers can be compared
//! field by field.
//!
//! Some fields differ between any two clusters without either being wrong: node ids and ports,
//! cluster and topic ids, wall-clock timestamps, throttle times, generated member and producer
//! ids, session ids, human-readable messages and documentation, log directory paths. These become
//! placeholders. Generated ids become *numbered* placeholders in order of first appearance
//! (`<member#1>`, `<member#2>`), so a response that names the same member twice, or a leader
//! that equals a member id, still compares structurally. Lists are sorted, since Kafka's
//! responses carry unordered collections (topics, partitions, configs, members) in whatever order
//! its maps iterate.
//!
//! Record batches (`records` fields) are decoded into their batches and records, so that two
//! batches compare by content rather than by their CRC-covered bytes.

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::inspect::Value;
use kafka_protocol::records::RecordBatches;
use kafka_protocol::Uuid;

/// A normalized response tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Norm {
    /// A leaf, printed as text.
    Leaf(String),
    /// A list, already sorted.
    List(Vec<Norm>),
    /// A structure: field names and values, in wire order.
    Struct(Vec<(String, Norm)>),
}

/// Numbered placeholders for generated values, per kind, in order of first appearance.
#[derive(Debug, Default)]
pub struct Interner {
    seen: BTreeMap<(&'static str, String), usize>,
    counts: BTreeMap<&'static str, usize>,
}

impl Interner {
    /// The placeholder for `raw` of `kind`, e.g. `<member#2>`.
    pub fn label(&mut self, kind: &'static str, raw: String) -> String {
        let count = self.counts.entry(kind).or_insert(0);
        let n = *self.seen.entry((kind, raw)).or_insert_with(|| {
            *count += 1;
            *count
        });
        format!("<{kind}#{n}>")
    }
}

/// Fields holding broker (node) ids.
const BROKER_ID_FIELDS: &[&str] = &[
    "node_id",
    "leader_id",
    "controller_id",
    "broker_id",
    "replica_nodes",
    "isr_nodes",
    "offline_replicas",
    "eligible_leader_replicas",
    "last_known_elr",
    "replicas",
    "adding_replicas",
    "removing_replicas",
    "coordinator_id",
];

/// Normalizes one response (or request) tree for a target whose brokers have `broker_ids`.
#[derive(Debug)]
pub struct Normalizer<'a> {
    /// The target's broker ids, in ascending order: id `broker_ids[i]` becomes `<broker#i>`.
    pub broker_ids: &'a [i32],
    /// Numbered placeholders shared by every step of a scenario.
    pub interner: &'a mut Interner,
}

impl Normalizer<'_> {
    /// The normalized form of `value`, the value of field `field` (if it is a field).
    pub fn normalize(&mut self, field: Option<&str>, value: &Value) -> Norm {
        let name = field.unwrap_or("");
        match value {
            Value::Struct(fields) => Norm::Struct(
                fields
                    .iter()
                    .map(|(n, v)| ((*n).to_string(), self.normalize(Some(n), v)))
                    .collect(),
            ),
            Value::List(items) => {
                let mut out: Vec<Norm> = items.iter().map(|v| self.normalize(field, v)).collect();
                out.sort();
                Norm::List(out)
            }
            Value::Bytes(b) if name == "records" => self.records(b),
            other => Norm::Leaf(self.leaf(name, other)),
        }
    }

    fn leaf(&mut self, name: &str, value: &Value) -> String {
        match value {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Uuid(u) => self.uuid(name, u),
            Value::Bytes(b) => format!("bytes({})", hex_prefix(b)),
            Value::Str(s) => self.string(name, s),
            Value::Int(i) => self.int(name, *i),
            Value::List(_) | Value::Struct(_) => unreachable!("handled by normalize"),
        }
    }

    fn uuid(&mut self, name: &str, u: &Uuid) -> String {
        if u.is_zero() {
            "zero-uuid".into()
        } else if name == "topic_id" || name.ends_with("topic_id") {
            self.interner.label("topic-id", u.to_string())
        } else {
            self.interner.label("uuid", u.to_string())
        }
    }

    fn string(&mut self, name: &str, s: &str) -> String {
        match name {
            "cluster_id" => "<cluster-id>".into(),
            "error_message" | "documentation" if !s.is_empty() => {
                format!("<{}>", name.replace('_', "-"))
            }
            "resource_name" => match self.broker_ids.iter().position(|b| b.to_string() == s) {
                Some(pos) => format!("<broker#{pos}>"),
                None => format!("{s:?}"),
            },
            "log_dir" => "<log-dir>".into(),
            "member_id" | "leader" | "member_epoch_member_id" if !s.is_empty() => {
                self.interner.label("member", s.to_string())
            }
            _ => format!("{s:?}"),
        }
    }

    fn int(&mut self, name: &str, i: i64) -> String {
        if name == "throttle_time_ms" {
            return "<throttle>".into();
        }
        if BROKER_ID_FIELDS.contains(&name) {
            if let Some(pos) = self.broker_ids.iter().position(|b| i64::from(*b) == i) {
                return format!("<broker#{pos}>");
            }
            return i.to_string();
        }
        if name == "port" && i > 0 {
            return "<port>".into();
        }
        if name == "producer_id" && i >= 0 {
            return self.interner.label("producer", i.to_string());
        }
        if name == "session_id" && i != 0 {
            return self.interner.label("session", i.to_string());
        }
        if matches!(name, "total_bytes" | "usable_bytes") && i >= 0 {
            return "<disk-bytes>".into();
        }
        if name == "finalized_features_epoch" && i >= 0 {
            return "<features-epoch>".into();
        }
        // Wall-clock milliseconds (anything past 2001): append times, max timestamps, the time a
        // producer last wrote. Timestamps a scenario chose itself are small and kept.
        if (name.contains("timestamp") || name.ends_with("time_ms")) && i > 1_000_000_000_000 {
            return "<wall-clock>".into();
        }
        i.to_string()
    }

    /// Record batches as a list of structures: the header fields a broker sets or keeps, and the
    /// records with their offsets, timestamps, keys, values and headers.
    fn records(&mut self, data: &Bytes) -> Norm {
        if data.is_empty() {
            return Norm::List(Vec::new());
        }
        let mut batches = Vec::new();
        for batch in RecordBatches::new(data.clone()) {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    batches.push(Norm::Leaf(format!("undecodable batch: {e}")));
                    break;
                }
            };
            let h = *batch.header();
            let mut records = Vec::new();
            for record in batch.records() {
                match record {
                    Ok(r) => records.push(Norm::Struct(vec![
                        ("offset".into(), Norm::Leaf(r.offset.to_string())),
                        (
                            "timestamp".into(),
                            Norm::Leaf(self.int("timestamp", r.timestamp)),
                        ),
                        ("key".into(), Norm::Leaf(opt_bytes(r.key.as_ref()))),
                        ("value".into(), Norm::Leaf(opt_bytes(r.value.as_ref()))),
                        (
                            "headers".into(),
                            Norm::List(
                                r.headers
                                    .iter()
                                    .map(|h| {
                                        Norm::Leaf(format!(
                                            "{}={}",
                                            h.key(),
                                            opt_bytes(h.value.as_ref())
                                        ))
                                    })
                                    .collect(),
                            ),
                        ),
                    ])),
                    Err(e) => records.push(Norm::Leaf(format!("undecodable record: {e}"))),
                }
            }
            let leaf = |s: String| Norm::Leaf(s);
            batches.push(Norm::Struct(vec![
                ("base_offset".into(), leaf(h.base_offset.to_string())),
                (
                    "partition_leader_epoch".into(),
                    leaf(h.partition_leader_epoch.to_string()),
                ),
                (
                    "compression".into(),
                    leaf(format!("{:?}", batch.compression())),
                ),
                (
                    "timestamp_type".into(),
                    leaf(format!("{:?}", h.timestamp_type())),
                ),
                (
                    "transactional".into(),
                    leaf(h.is_transactional().to_string()),
                ),
                ("control".into(), leaf(h.is_control().to_string())),
                (
                    "last_offset_delta".into(),
                    leaf(h.last_offset_delta.to_string()),
                ),
                (
                    "max_timestamp".into(),
                    leaf(self.int("max_timestamp", h.max_timestamp)),
                ),
                (
                    "producer_id".into(),
                    leaf(self.int("producer_id", h.producer_id)),
                ),
                ("producer_epoch".into(), leaf(h.producer_epoch.to_string())),
                ("base_sequence".into(), leaf(h.base_sequence.to_string())),
                ("records".into(), Norm::List(records)),
            ]));
        }
        Norm::List(batches)
    }
}

fn opt_bytes(b: Option<&Bytes>) -> String {
    match b {
        None => "null".into(),
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) => format!("{s:?}"),
            Err(_) => format!("bytes({})", hex_prefix(b)),
        },
    }
}

fn hex_prefix(b: &[u8]) -> String {
    let shown: String = b.iter().take(16).map(|x| format!("{x:02x}")).collect();
    if b.len() > 16 {
        format!("{} bytes: {shown}...", b.len())
    } else {
        format!("{} bytes: {shown}", b.len())
    }
}

/// Field names whose values identify a list element, tried in this order, for readable and
/// stable difference paths (`topics[name="t"].partitions[partition_index=0].error_code`).
const KEY_FIELDS: &[&str] = &[
    "name",
    "topic",
    "topic_name",
    "group_id",
    "resource_name",
    "key",
    "api_key",
    "partition_index",
    "partition",
    "index",
    "member_id",
    "node_id",
    "broker_id",
    "producer_id",
    "base_offset",
    "offset",
];

/// Flattens a tree into `path -> leaf`, with list elements keyed by their identifying field.
pub fn flatten(norm: &Norm, path: &str, out: &mut BTreeMap<String, String>) {
    match norm {
        Norm::Leaf(s) => {
            out.insert(path.to_string(), s.clone());
        }
        Norm::Struct(fields) => {
            for (name, value) in fields {
                let p = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                flatten(value, &p, out);
            }
        }
        Norm::List(items) => {
            out.insert(format!("{path}.len"), items.len().to_string());
            let mut used: BTreeMap<String, usize> = BTreeMap::new();
            for (i, item) in items.iter().enumerate() {
                let key = element_key(item).unwrap_or_else(|| i.to_string());
                let n = used.entry(key.clone()).or_insert(0);
                let segment = if *n == 0 {
                    format!("{path}[{key}]")
                } else {
                    format!("{path}[{key}#{n}]")
                };
                *n += 1;
                flatten(item, &segment, out);
            }
        }
    }
}

fn element_key(item: &Norm) -> Option<String> {
    match item {
        Norm::Struct(fields) => KEY_FIELDS.iter().find_map(|k| {
            fields.iter().find_map(|(n, v)| match v {
                Norm::Leaf(s) if n == k => Some(format!("{k}={s}")),
                _ => None,
            })
        }),
        Norm::Leaf(s) => Some(s.clone()),
        Norm::List(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_numbered_in_order_of_appearance() {
        let mut interner = Interner::default();
        let mut n = Normalizer {
            broker_ids: &[7],
            interner: &mut interner,
        };
        let v = Value::Struct(vec![
            ("leader", Value::Str("m-b".into())),
            ("member_id", Value::Str("m-b".into())),
            ("node_id", Value::Int(7)),
            ("throttle_time_ms", Value::Int(3)),
        ]);
        let mut out = BTreeMap::new();
        flatten(&n.normalize(None, &v), "", &mut out);
        assert_eq!(out["leader"], "<member#1>");
        assert_eq!(out["member_id"], "<member#1>");
        assert_eq!(out["node_id"], "<broker#0>");
        assert_eq!(out["throttle_time_ms"], "<throttle>");
    }
}
