//! Config plumbing shared by DescribeConfigs, AlterConfigs, IncrementalAlterConfigs and
//! CreateTopics: effective values, where they come from, and applying changes.

use std::collections::BTreeMap;

use kafka_protocol::ErrorCode;

use crate::config::{self, broker_configs, ConfigDef, ConfigType, BROKER_CONFIGS, TOPIC_CONFIGS};
use crate::state::{ClusterState, Settings};
use crate::topics::Topic;

/// Resource types of the config APIs (`ConfigResource.Type` in Kafka).
pub(crate) const RESOURCE_TOPIC: i8 = 2;
/// Broker resource type.
pub(crate) const RESOURCE_BROKER: i8 = 4;

/// `ConfigSource` values of DescribeConfigs v1+.
pub(crate) const SOURCE_TOPIC: i8 = 1;
/// A dynamic broker config.
pub(crate) const SOURCE_DYNAMIC_BROKER: i8 = 2;
/// A default value.
pub(crate) const SOURCE_DEFAULT: i8 = 5;

/// One config as described to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigEntry {
    pub name: String,
    pub value: String,
    pub source: i8,
    pub config_type: i8,
    pub read_only: bool,
    pub doc: &'static str,
}

fn wanted(name: &str, keys: Option<&[String]>) -> bool {
    keys.is_none_or(|keys| keys.iter().any(|k| k == name))
}

fn entry(def: &ConfigDef, value: String, source: i8, read_only: bool) -> ConfigEntry {
    ConfigEntry {
        name: def.name.to_string(),
        value,
        source,
        config_type: def.config_type as i8,
        read_only,
        doc: def.doc,
    }
}

/// A topic's configs (overrides and defaults), optionally only `keys`.
pub(crate) fn describe_topic_configs(
    topic: &Topic,
    message_max_bytes: i32,
    keys: Option<&[String]>,
) -> Vec<ConfigEntry> {
    TOPIC_CONFIGS
        .iter()
        .filter(|d| wanted(d.name, keys))
        .map(|d| match topic.configs.get(d.name) {
            Some(v) => entry(d, v.clone(), SOURCE_TOPIC, false),
            None => entry(
                d,
                config::topic_default(d, message_max_bytes),
                SOURCE_DEFAULT,
                false,
            ),
        })
        .collect()
}

/// A broker's configs, optionally only `keys`.
pub(crate) fn describe_broker_configs(
    state: &ClusterState,
    broker_id: i32,
    keys: Option<&[String]>,
) -> Vec<ConfigEntry> {
    let settings = state.settings();
    let base = broker_configs(&state.config, broker_id);
    BROKER_CONFIGS
        .iter()
        .filter(|d| wanted(d.name, keys))
        .map(|d| {
            let read_only = d.name == "broker.id";
            match settings.overrides.get(d.name) {
                Some(v) => entry(d, v.clone(), SOURCE_DYNAMIC_BROKER, read_only),
                None => {
                    let value = base
                        .get(d.name)
                        .cloned()
                        .unwrap_or_else(|| d.default.to_string());
                    entry(d, value, SOURCE_DEFAULT, read_only)
                }
            }
        })
        .collect()
}

/// Parses a broker resource name: `""` (the cluster default) or an existing broker's id.
pub(crate) fn broker_resource(
    state: &ClusterState,
    name: &str,
) -> Result<i32, (ErrorCode, String)> {
    if name.is_empty() {
        return Ok(state.live_brokers().first().map_or(0, |b| b.id));
    }
    name.parse::<i32>()
        .ok()
        .filter(|id| state.broker(*id).is_some())
        .ok_or((
            ErrorCode::InvalidRequest,
            format!("Unexpected broker id {name}"),
        ))
}

/// Validates dynamic broker config overrides.
pub(crate) fn validate_broker_configs(
    overrides: &BTreeMap<String, String>,
) -> Result<(), (ErrorCode, String)> {
    for (name, value) in overrides {
        let def = BROKER_CONFIGS
            .iter()
            .find(|d| d.name == name)
            .filter(|d| d.name != "broker.id")
            .ok_or((
                ErrorCode::InvalidConfig,
                format!("Cannot update broker config {name}"),
            ))?;
        config::validate(def, value).map_err(|m| (ErrorCode::InvalidConfig, m))?;
        if def.name == "num.partitions" && !matches!(value.trim().parse::<i32>(), Ok(n) if n >= 1) {
            return Err((
                ErrorCode::InvalidConfig,
                "num.partitions must be at least 1".into(),
            ));
        }
    }
    Ok(())
}

/// Replaces the dynamic broker overrides and re-derives the settings they control.
pub(crate) fn apply_broker_overrides(state: &ClusterState, overrides: BTreeMap<String, String>) {
    let config = &state.config;
    let mut settings = crate::state::lock(&state.settings);
    let get = |name: &str| overrides.get(name).map(|v| v.trim().to_string());
    *settings = Settings {
        auto_create_topics: get("auto.create.topics.enable")
            .map_or(config.auto_create_topics, |v| {
                v.eq_ignore_ascii_case("true")
            }),
        default_partitions: get("num.partitions")
            .and_then(|v| v.parse().ok())
            .unwrap_or(config.default_partitions),
        message_max_bytes: get("message.max.bytes")
            .and_then(|v| v.parse().ok())
            .unwrap_or(config.message_max_bytes),
        overrides,
    };
}

/// The type of a list config, for IncrementalAlterConfigs APPEND/SUBTRACT.
pub(crate) fn is_list(name: &str) -> bool {
    TOPIC_CONFIGS
        .iter()
        .chain(BROKER_CONFIGS)
        .any(|d| d.name == name && d.config_type == ConfigType::List)
}
