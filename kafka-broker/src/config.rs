//! Cluster settings, and the table of topic configs with Kafka's defaults.
//!
//! Kafka describes every topic config with its value, where the value came from (a topic override
//! or the default) and its type (DescribeConfigs v3+, KIP-226/KIP-569). Clients such as the Java
//! `AdminClient` and `kafka-configs.sh` show these, and some (e.g. librdkafka's `describe_configs`)
//! validate them, so the table below lists the common topic configs with the defaults of Kafka 3.x.

use std::collections::BTreeMap;
use std::time::Duration;

/// Settings of an in-process cluster.
///
/// ```
/// use kafka_broker::ClusterConfig;
///
/// let config = ClusterConfig::default().with_brokers(3).with_default_partitions(6);
/// assert_eq!(config.brokers, 3);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// Number of brokers; ids are `0..brokers`.
    pub brokers: usize,
    /// Host to bind and advertise, `127.0.0.1` by default.
    pub host: String,
    /// First port: broker `i` listens on `port + i`. `0` picks free ports.
    pub port: u16,
    /// Partitions of an auto-created topic, and of `CreateTopics` with `num_partitions = -1`
    /// (Kafka's `num.partitions`).
    pub default_partitions: i32,
    /// Whether Metadata creates unknown topics (Kafka's `auto.create.topics.enable`).
    pub auto_create_topics: bool,
    /// Largest record batch a topic accepts unless it overrides `max.message.bytes`
    /// (Kafka's `message.max.bytes`, 1048588 by default).
    pub message_max_bytes: i32,
    /// The cluster id Metadata and DescribeCluster report.
    pub cluster_id: String,
    /// The group coordinator's settings (session timeout bounds, initial rebalance delay...).
    pub group: crate::group::GroupConfig,
    /// How long shutdown waits for connections to finish before aborting them.
    pub shutdown_timeout: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            brokers: 1,
            host: "127.0.0.1".to_string(),
            port: 0,
            default_partitions: 1,
            auto_create_topics: true,
            message_max_bytes: DEFAULT_MESSAGE_MAX_BYTES,
            cluster_id: "kafka-broker-cluster".to_string(),
            group: crate::group::GroupConfig::default(),
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

impl ClusterConfig {
    /// Sets the number of brokers.
    pub fn with_brokers(mut self, brokers: usize) -> Self {
        self.brokers = brokers;
        self
    }

    /// Sets the host to bind and advertise.
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Sets the first port (`0`: any free port for every broker).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the partition count of auto-created topics.
    pub fn with_default_partitions(mut self, partitions: i32) -> Self {
        self.default_partitions = partitions;
        self
    }

    /// Turns topic auto-creation on or off.
    pub fn with_auto_create_topics(mut self, enabled: bool) -> Self {
        self.auto_create_topics = enabled;
        self
    }

    /// Sets the broker-wide `message.max.bytes`.
    pub fn with_message_max_bytes(mut self, bytes: i32) -> Self {
        self.message_max_bytes = bytes;
        self
    }
}

/// Kafka's default `message.max.bytes`: 1 MiB plus the record batch overhead.
pub const DEFAULT_MESSAGE_MAX_BYTES: i32 = 1_048_588;

/// The type of a config value, as DescribeConfigs v3+ reports it (`ConfigType` in Kafka).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    /// `true` / `false`.
    Boolean = 1,
    /// Any string (possibly restricted to a set of values).
    String = 2,
    /// A 32-bit integer.
    Int = 3,
    /// A 64-bit integer.
    Long = 5,
    /// A floating-point number.
    Double = 6,
    /// A comma-separated list.
    List = 7,
}

/// One known config: name, default, type and (for enumerations) the allowed values.
#[derive(Debug, Clone, Copy)]
pub struct ConfigDef {
    /// The config name, e.g. `retention.ms`.
    pub name: &'static str,
    /// Kafka's default value.
    pub default: &'static str,
    /// The value type.
    pub config_type: ConfigType,
    /// Allowed values for enumerations (empty: any value of the type).
    pub allowed: &'static [&'static str],
    /// A one-line description (DescribeConfigs v3+ `documentation`).
    pub doc: &'static str,
}

const fn def(
    name: &'static str,
    default: &'static str,
    config_type: ConfigType,
    allowed: &'static [&'static str],
    doc: &'static str,
) -> ConfigDef {
    ConfigDef {
        name,
        default,
        config_type,
        allowed,
        doc,
    }
}

/// The topic configs this broker knows, with Kafka 3.x defaults. `max.message.bytes` defaults to
/// the broker's `message.max.bytes` (see [`topic_default`]).
pub const TOPIC_CONFIGS: &[ConfigDef] = &[
    def(
        "cleanup.policy",
        "delete",
        ConfigType::List,
        &["delete", "compact", "compact,delete", "delete,compact"],
        "Retention policy of old log segments.",
    ),
    def(
        "compression.type",
        "producer",
        ConfigType::String,
        &["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"],
        "Final compression type of the topic.",
    ),
    def(
        "delete.retention.ms",
        "86400000",
        ConfigType::Long,
        &[],
        "How long delete tombstones are retained on compacted topics.",
    ),
    def(
        "file.delete.delay.ms",
        "60000",
        ConfigType::Long,
        &[],
        "Time to wait before deleting a file.",
    ),
    def(
        "flush.messages",
        "9223372036854775807",
        ConfigType::Long,
        &[],
        "Messages between forced fsyncs.",
    ),
    def(
        "flush.ms",
        "9223372036854775807",
        ConfigType::Long,
        &[],
        "Time between forced fsyncs.",
    ),
    def(
        "index.interval.bytes",
        "4096",
        ConfigType::Int,
        &[],
        "Bytes between offset index entries.",
    ),
    def(
        "max.compaction.lag.ms",
        "9223372036854775807",
        ConfigType::Long,
        &[],
        "Longest time a message stays ineligible for compaction.",
    ),
    def(
        "max.message.bytes",
        "1048588",
        ConfigType::Int,
        &[],
        "Largest record batch size allowed.",
    ),
    def(
        "message.timestamp.type",
        "CreateTime",
        ConfigType::String,
        &["CreateTime", "LogAppendTime"],
        "Whether record timestamps are create time or log-append time.",
    ),
    def(
        "min.cleanable.dirty.ratio",
        "0.5",
        ConfigType::Double,
        &[],
        "Dirty ratio that triggers compaction.",
    ),
    def(
        "min.compaction.lag.ms",
        "0",
        ConfigType::Long,
        &[],
        "Shortest time a message stays uncompacted.",
    ),
    def(
        "min.insync.replicas",
        "1",
        ConfigType::Int,
        &[],
        "Replicas that must acknowledge an acks=all write.",
    ),
    def(
        "preallocate",
        "false",
        ConfigType::Boolean,
        &[],
        "Whether to preallocate segment files.",
    ),
    def(
        "retention.bytes",
        "-1",
        ConfigType::Long,
        &[],
        "Largest size a partition may grow to before old segments are discarded.",
    ),
    def(
        "retention.ms",
        "604800000",
        ConfigType::Long,
        &[],
        "Longest time a segment is retained.",
    ),
    def(
        "segment.bytes",
        "1073741824",
        ConfigType::Int,
        &[],
        "Segment file size.",
    ),
    def(
        "segment.index.bytes",
        "10485760",
        ConfigType::Int,
        &[],
        "Offset index size.",
    ),
    def(
        "segment.jitter.ms",
        "0",
        ConfigType::Long,
        &[],
        "Jitter subtracted from segment.ms.",
    ),
    def(
        "segment.ms",
        "604800000",
        ConfigType::Long,
        &[],
        "Time after which a segment is rolled.",
    ),
    def(
        "unclean.leader.election.enable",
        "false",
        ConfigType::Boolean,
        &[],
        "Whether out-of-sync replicas may become leader.",
    ),
];

/// Broker configs reported by DescribeConfigs for a broker resource. Values that follow the
/// cluster settings are filled in by [`broker_configs`].
pub const BROKER_CONFIGS: &[ConfigDef] = &[
    def(
        "auto.create.topics.enable",
        "true",
        ConfigType::Boolean,
        &[],
        "Whether Metadata auto-creates topics.",
    ),
    def("broker.id", "0", ConfigType::Int, &[], "The broker id."),
    def(
        "default.replication.factor",
        "1",
        ConfigType::Int,
        &[],
        "Replication factor of auto-created topics.",
    ),
    def(
        "log.retention.ms",
        "604800000",
        ConfigType::Long,
        &[],
        "Default retention.ms of topics.",
    ),
    def(
        "message.max.bytes",
        "1048588",
        ConfigType::Int,
        &[],
        "Default max.message.bytes of topics.",
    ),
    def(
        "min.insync.replicas",
        "1",
        ConfigType::Int,
        &[],
        "Default min.insync.replicas of topics.",
    ),
    def(
        "num.partitions",
        "1",
        ConfigType::Int,
        &[],
        "Default partition count of new topics.",
    ),
    def(
        "offsets.topic.replication.factor",
        "1",
        ConfigType::Int,
        &[],
        "Replication factor of the offsets topic.",
    ),
];

/// The definition of a topic config, if it is known.
pub fn topic_config(name: &str) -> Option<&'static ConfigDef> {
    TOPIC_CONFIGS.iter().find(|d| d.name == name)
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

/// The broker configs of broker `id`, with values following the cluster settings.
pub fn broker_configs(config: &ClusterConfig, id: i32) -> BTreeMap<&'static str, String> {
    BROKER_CONFIGS
        .iter()
        .map(|d| {
            let value = match d.name {
                "auto.create.topics.enable" => config.auto_create_topics.to_string(),
                "broker.id" => id.to_string(),
                "message.max.bytes" => config.message_max_bytes.to_string(),
                "num.partitions" => config.default_partitions.to_string(),
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
    if !def.allowed.is_empty() && !def.allowed.contains(&value) {
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
