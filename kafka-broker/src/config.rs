//! The table of topic configs with Kafka's defaults.
//!
//! Kafka describes every topic config with its value, where the value came from (a topic override
//! or the default) and its type (DescribeConfigs v3+, KIP-226/KIP-569). Clients such as the Java
//! `AdminClient` and `kafka-configs.sh` show these, and some (e.g. librdkafka's `describe_configs`)
//! validate them, so the tables below list Kafka 4.4's topic configs and the common broker configs
//! with Kafka's defaults, and the broker configs Kafka names as the topic configs' synonyms.

use crate::cluster_config::ClusterConfig;
use std::collections::BTreeMap;

/// The type of a config value, as DescribeConfigs v3+ reports it (`ConfigType` in Kafka).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    /// `true` / `false`.
    Boolean = 1,
    /// Any string (possibly restricted to a set of values).
    String = 2,
    /// A 32-bit integer.
    Int = 3,
    /// A 16-bit integer.
    Short = 4,
    /// A 64-bit integer.
    Long = 5,
    /// A floating-point number.
    Double = 6,
    /// A comma-separated list.
    List = 7,
}

/// One known config: name, Kafka's default, type, allowed values, and how Kafka reports it.
#[derive(Debug, Clone, Copy)]
pub struct ConfigDef {
    /// The config name, e.g. `retention.ms`.
    pub name: &'static str,
    /// Kafka's default value.
    pub default: &'static str,
    /// The value type.
    pub config_type: ConfigType,
    /// Allowed values for enumerations, or for each item of a list (empty: any value).
    pub allowed: &'static [&'static str],
    /// A one-line description (DescribeConfigs v3+ `documentation`), in our words.
    pub doc: &'static str,
    /// For a topic config: the broker config that supplies its default, which Kafka lists among
    /// the synonyms (`retention.bytes` falls back to `log.retention.bytes`). `None` when Kafka
    /// lists none.
    pub synonym: Option<&'static str>,
    /// For a broker config: whether Kafka reports it read-only (not dynamically updatable).
    pub read_only: bool,
}

/// A topic config.
const fn topic(
    name: &'static str,
    default: &'static str,
    config_type: ConfigType,
    synonym: Option<&'static str>,
    doc: &'static str,
) -> ConfigDef {
    ConfigDef {
        name,
        default,
        config_type,
        allowed: &[],
        doc,
        synonym,
        read_only: false,
    }
}

/// A broker config.
const fn broker(
    name: &'static str,
    default: &'static str,
    config_type: ConfigType,
    read_only: bool,
    doc: &'static str,
) -> ConfigDef {
    ConfigDef {
        read_only,
        ..topic(name, default, config_type, None, doc)
    }
}

const fn allowed(mut def: ConfigDef, values: &'static [&'static str]) -> ConfigDef {
    def.allowed = values;
    def
}

use ConfigType::{Boolean, Double, Int, List, Long, Short};

const MAX_LONG: &str = "9223372036854775807";

/// The topic configs of Kafka 4.4, with its defaults and the broker configs it reports as their
/// synonyms. `max.message.bytes` defaults to the broker's `message.max.bytes` and
/// `min.insync.replicas` to the cluster's (see [`topic_default`]).
pub const TOPIC_CONFIGS: &[ConfigDef] = &[
    allowed(
        topic(
            "cleanup.policy",
            "delete",
            List,
            Some("log.cleanup.policy"),
            "Whether old segments are deleted, compacted to the last value per key, or both.",
        ),
        &["delete", "compact"],
    ),
    topic(
        "compression.gzip.level",
        "-1",
        Int,
        Some("compression.gzip.level"),
        "The gzip level used when compression.type is gzip.",
    ),
    topic(
        "compression.lz4.level",
        "9",
        Int,
        Some("compression.lz4.level"),
        "The lz4 level used when compression.type is lz4.",
    ),
    allowed(
        topic(
            "compression.type",
            "producer",
            ConfigType::String,
            Some("compression.type"),
            "The codec the topic stores batches in; producer keeps the producer's.",
        ),
        &["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"],
    ),
    topic(
        "compression.zstd.level",
        "3",
        Int,
        Some("compression.zstd.level"),
        "The zstd level used when compression.type is zstd.",
    ),
    topic(
        "delete.retention.ms",
        "86400000",
        Long,
        Some("log.cleaner.delete.retention.ms"),
        "How long tombstones survive in a compacted topic.",
    ),
    topic(
        "errors.deadletterqueue.group.enable",
        "false",
        Boolean,
        None,
        "Whether share groups may use the topic as a dead-letter queue.",
    ),
    topic(
        "file.delete.delay.ms",
        "60000",
        Long,
        Some("log.segment.delete.delay.ms"),
        "Delay before a deleted segment file is removed.",
    ),
    topic(
        "flush.messages",
        MAX_LONG,
        Long,
        Some("log.flush.interval.messages"),
        "Records between forced flushes to disk.",
    ),
    topic(
        "flush.ms",
        MAX_LONG,
        Long,
        None,
        "Time between forced flushes to disk.",
    ),
    topic(
        "follower.replication.throttled.replicas",
        "",
        List,
        None,
        "Replicas whose follower-side replication is throttled.",
    ),
    topic(
        "index.interval.bytes",
        "4096",
        Int,
        Some("log.index.interval.bytes"),
        "Bytes between entries of the offset index.",
    ),
    topic(
        "leader.replication.throttled.replicas",
        "",
        List,
        None,
        "Replicas whose leader-side replication is throttled.",
    ),
    topic(
        "local.retention.bytes",
        "-2",
        Long,
        Some("log.local.retention.bytes"),
        "Local retention by size under tiered storage; -2 follows retention.bytes.",
    ),
    topic(
        "local.retention.ms",
        "-2",
        Long,
        Some("log.local.retention.ms"),
        "Local retention by time under tiered storage; -2 follows retention.ms.",
    ),
    topic(
        "max.compaction.lag.ms",
        MAX_LONG,
        Long,
        Some("log.cleaner.max.compaction.lag.ms"),
        "Longest a record may wait before it is eligible for compaction.",
    ),
    topic(
        "max.decompressed.message.bytes",
        "2147483639",
        Int,
        Some("max.decompressed.message.bytes"),
        "Largest size a compressed batch may inflate to.",
    ),
    topic(
        "max.message.bytes",
        "1048588",
        Int,
        Some("message.max.bytes"),
        "Largest record batch the topic accepts, after compression.",
    ),
    topic(
        "message.timestamp.after.max.ms",
        "3600000",
        Long,
        Some("log.message.timestamp.after.max.ms"),
        "How far in the future a record's timestamp may be.",
    ),
    topic(
        "message.timestamp.before.max.ms",
        MAX_LONG,
        Long,
        Some("log.message.timestamp.before.max.ms"),
        "How far in the past a record's timestamp may be.",
    ),
    allowed(
        topic(
            "message.timestamp.type",
            "CreateTime",
            ConfigType::String,
            Some("log.message.timestamp.type"),
            "Whether records keep the producer's timestamp or get the broker's append time.",
        ),
        &["CreateTime", "LogAppendTime"],
    ),
    topic(
        "min.cleanable.dirty.ratio",
        "0.5",
        Double,
        Some("log.cleaner.min.cleanable.ratio"),
        "Share of uncompacted log that triggers compaction.",
    ),
    topic(
        "min.compaction.lag.ms",
        "0",
        Long,
        Some("log.cleaner.min.compaction.lag.ms"),
        "Shortest a record stays uncompacted.",
    ),
    topic(
        "min.insync.replicas",
        "1",
        Int,
        Some("min.insync.replicas"),
        "Replicas that must have a record before an acks=all write succeeds.",
    ),
    topic(
        "preallocate",
        "false",
        Boolean,
        Some("log.preallocate"),
        "Whether segment files are preallocated.",
    ),
    topic(
        "remote.copy.lag.bytes",
        "-1",
        Long,
        Some("log.remote.copy.lag.bytes"),
        "Bytes a segment waits before upload to tiered storage.",
    ),
    topic(
        "remote.copy.lag.ms",
        "0",
        Long,
        Some("log.remote.copy.lag.ms"),
        "Time a segment waits before upload to tiered storage.",
    ),
    topic(
        "remote.log.copy.disable",
        "false",
        Boolean,
        None,
        "Whether uploads to tiered storage are paused.",
    ),
    topic(
        "remote.log.delete.on.disable",
        "false",
        Boolean,
        None,
        "Whether tiered data is deleted when tiered storage is turned off.",
    ),
    topic(
        "remote.storage.enable",
        "false",
        Boolean,
        None,
        "Whether the topic uses tiered storage.",
    ),
    topic(
        "retention.bytes",
        "-1",
        Long,
        Some("log.retention.bytes"),
        "Largest a partition grows before old segments go; -1 for no limit.",
    ),
    topic(
        "retention.ms",
        "604800000",
        Long,
        None,
        "Longest a segment is kept; -1 for ever.",
    ),
    topic(
        "segment.bytes",
        "1073741824",
        Int,
        Some("log.segment.bytes"),
        "Size at which a segment file is rolled.",
    ),
    topic(
        "segment.index.bytes",
        "10485760",
        Int,
        Some("log.index.size.max.bytes"),
        "Size of a segment's offset index.",
    ),
    topic(
        "segment.jitter.ms",
        "0",
        Long,
        None,
        "Random jitter taken off segment.ms.",
    ),
    topic(
        "segment.ms",
        "604800000",
        Long,
        None,
        "Age at which a segment file is rolled.",
    ),
    topic(
        "unclean.leader.election.enable",
        "false",
        Boolean,
        Some("unclean.leader.election.enable"),
        "Whether a replica outside the ISR may become leader.",
    ),
];

/// The broker configs DescribeConfigs reports for a broker resource, with Kafka 4.4's defaults
/// and read-only flags. Their values follow the cluster's settings ([`broker_configs`]); a value
/// other than Kafka's default is reported as a static broker config, as a broker started with
/// it in `server.properties` would report it.
pub const BROKER_CONFIGS: &[ConfigDef] = &[
    broker(
        "auto.create.topics.enable",
        "true",
        Boolean,
        true,
        "Whether Metadata requests create the unknown topics they name.",
    ),
    broker(
        "auto.leader.rebalance.enable",
        "true",
        Boolean,
        true,
        "Whether leadership moves back to preferred replicas in the background.",
    ),
    broker("broker.id", "-1", Int, true, "This broker's id."),
    allowed(
        broker(
            "compression.type",
            "producer",
            ConfigType::String,
            false,
            "Default codec of topics.",
        ),
        &["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"],
    ),
    // KIP-368: how long a SASL session lasts before the client must re-authenticate (0:
    // forever). Static in Kafka (a listener setting of server.properties); clients read it to
    // know whether re-authentication is in play (librdkafka's 0142 does).
    broker(
        "connections.max.reauth.ms",
        "0",
        Long,
        true,
        "Longest a SASL session lasts before the client must re-authenticate; 0 for no limit.",
    ),
    broker(
        "default.replication.factor",
        "1",
        Int,
        true,
        "Replication factor of topics created without one.",
    ),
    broker(
        "delete.topic.enable",
        "true",
        Boolean,
        true,
        "Whether topics may be deleted.",
    ),
    broker(
        "group.initial.rebalance.delay.ms",
        "3000",
        Int,
        true,
        "How long the first rebalance of an empty group waits for more members.",
    ),
    broker(
        "group.max.session.timeout.ms",
        "1800000",
        Int,
        true,
        "Longest session timeout a group member may ask for.",
    ),
    broker(
        "group.min.session.timeout.ms",
        "6000",
        Int,
        true,
        "Shortest session timeout a group member may ask for.",
    ),
    allowed(
        broker(
            "log.cleanup.policy",
            "delete",
            List,
            false,
            "Default cleanup.policy of topics.",
        ),
        &["delete", "compact"],
    ),
    allowed(
        broker(
            "log.message.timestamp.type",
            "CreateTime",
            ConfigType::String,
            false,
            "Default message.timestamp.type of topics.",
        ),
        &["CreateTime", "LogAppendTime"],
    ),
    broker(
        "log.retention.bytes",
        "-1",
        Long,
        false,
        "Default retention.bytes of topics.",
    ),
    broker(
        "log.retention.hours",
        "168",
        Int,
        true,
        "Default retention of topics, in hours.",
    ),
    broker(
        "log.segment.bytes",
        "1073741824",
        Int,
        false,
        "Default segment.bytes of topics.",
    ),
    broker(
        "message.max.bytes",
        "1048588",
        Int,
        false,
        "Default max.message.bytes of topics.",
    ),
    broker(
        "min.insync.replicas",
        "1",
        Int,
        false,
        "Default min.insync.replicas of topics.",
    ),
    broker(
        "node.id",
        "-1",
        Int,
        true,
        "This node's id in the KRaft quorum and cluster.",
    ),
    broker(
        "num.partitions",
        "1",
        Int,
        true,
        "Partition count of topics created without one.",
    ),
    broker(
        "offsets.retention.minutes",
        "10080",
        Int,
        true,
        "How long the committed offsets of an empty group are kept.",
    ),
    broker(
        "offsets.topic.replication.factor",
        "3",
        Short,
        true,
        "Replication factor of the offsets topic.",
    ),
    // Kafka lets SASL/Kerberos login settings change per broker at run time (they apply to new
    // logins); the bundled broker stores them (it has no Kerberos).
    broker(
        "sasl.kerberos.min.time.before.relogin",
        "60000",
        Long,
        false,
        "Login thread sleep time between refresh attempts.",
    ),
    broker(
        "transaction.max.timeout.ms",
        "900000",
        Int,
        true,
        "Longest transaction timeout a producer may ask for.",
    ),
    broker(
        "unclean.leader.election.enable",
        "false",
        Boolean,
        false,
        "Default unclean.leader.election.enable of topics.",
    ),
];

/// The definition of a topic config, if it is known.
pub fn topic_config(name: &str) -> Option<&'static ConfigDef> {
    TOPIC_CONFIGS.iter().find(|d| d.name == name)
}

/// The definition of a broker config, if it is known.
pub fn broker_config(name: &str) -> Option<&'static ConfigDef> {
    BROKER_CONFIGS.iter().find(|d| d.name == name)
}

/// The default value of topic config `def` in a cluster whose broker-wide `message.max.bytes`
/// is `message_max_bytes` (the only topic default that follows a broker setting here).
pub fn topic_default(def: &ConfigDef, message_max_bytes: i32) -> String {
    if def.name == "max.message.bytes" {
        message_max_bytes.to_string()
    } else {
        def.default.to_string()
    }
}

/// The broker configs of broker `id` as the cluster's settings make them.
pub fn broker_configs(config: &ClusterConfig, id: i32) -> BTreeMap<&'static str, String> {
    BROKER_CONFIGS
        .iter()
        .map(|d| {
            let value = match d.name {
                "auto.create.topics.enable" => config.auto_create_topics.to_string(),
                "broker.id" | "node.id" => id.to_string(),
                "message.max.bytes" => config.message_max_bytes.to_string(),
                "num.partitions" => config.default_partitions.to_string(),
                "group.initial.rebalance.delay.ms" => {
                    config.group.initial_rebalance_delay_ms.to_string()
                }
                "group.min.session.timeout.ms" => config.group.min_session_timeout_ms.to_string(),
                "group.max.session.timeout.ms" => config.group.max_session_timeout_ms.to_string(),
                // The replicas of the internal partitions that place coordinators
                // (`crate::coordinator_placement`): 3, or every broker when there are fewer.
                "offsets.topic.replication.factor" => {
                    crate::coordinator_placement::COORDINATOR_REPLICATION_FACTOR
                        .min(config.brokers)
                        .to_string()
                }
                "connections.max.reauth.ms" => config
                    .sasl
                    .as_ref()
                    .and_then(|s| s.max_reauth)
                    .map_or(0, |d| d.as_millis())
                    .to_string(),
                _ => d.default.to_string(),
            };
            (d.name, value)
        })
        .collect()
}

/// Checks that `value` is valid for `def`; the message explains why not (INVALID_CONFIG).
pub fn validate(def: &ConfigDef, value: &str) -> Result<(), String> {
    let ok = match def.config_type {
        ConfigType::Boolean => {
            value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
        }
        ConfigType::Int => value.trim().parse::<i32>().is_ok(),
        ConfigType::Short => value.trim().parse::<i16>().is_ok(),
        ConfigType::Long => value.trim().parse::<i64>().is_ok(),
        ConfigType::Double => value.trim().parse::<f64>().is_ok(),
        ConfigType::String | ConfigType::List => true,
    };
    if !ok {
        return Err(format!(
            "Invalid value {value} for configuration {}: not a valid {:?}",
            def.name, def.config_type
        ));
    }
    let items: Vec<&str> = if def.config_type == ConfigType::List {
        value
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    } else {
        vec![value]
    };
    if !def.allowed.is_empty() && !items.iter().all(|v| def.allowed.contains(v)) {
        return Err(format!(
            "Invalid value {value} for configuration {}: must be one of {:?}",
            def.name, def.allowed
        ));
    }
    if def.name == "max.message.bytes" && value.trim().parse::<i32>().is_ok_and(|v| v < 0) {
        return Err(format!(
            "Invalid value {value} for configuration max.message.bytes"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_types_and_enumerations() {
        let ts = topic_config("message.timestamp.type").unwrap();
        assert!(validate(ts, "LogAppendTime").is_ok());
        assert!(validate(ts, "Wallclock").is_err());
        let retention = topic_config("retention.ms").unwrap();
        assert!(validate(retention, "-1").is_ok());
        assert!(validate(retention, "soon").is_err());
        assert!(topic_config("no.such.config").is_none());
    }

    #[test]
    fn max_message_bytes_follows_the_broker_setting() {
        let def = topic_config("max.message.bytes").unwrap();
        assert_eq!(topic_default(def, 2000), "2000");
        let def = topic_config("retention.ms").unwrap();
        assert_eq!(topic_default(def, 2000), "604800000");
    }
}
