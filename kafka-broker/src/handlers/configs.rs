//! Config plumbing shared by DescribeConfigs, AlterConfigs, IncrementalAlterConfigs and
//! CreateTopics: effective values, where they come from, and applying changes.

use std::collections::BTreeMap;

use kafka_protocol::{ErrorCode, StrBytes};

use crate::config::{self, broker_configs, ConfigDef, ConfigType, BROKER_CONFIGS, TOPIC_CONFIGS};
use crate::context::RequestContext;
use crate::state::{ClusterState, Settings};
use crate::sync::lock;
use crate::topics::Topic;

/// Resource types of the config APIs (`ConfigResource.Type` in Kafka).
pub(crate) const RESOURCE_TOPIC: i8 = 2;
/// Broker resource type.
pub(crate) const RESOURCE_BROKER: i8 = 4;
/// DescribeConfigs/AlterConfigs resource type GROUP (KIP-848).
pub(crate) const RESOURCE_GROUP: i8 = 32;
/// Config source GROUP_CONFIG: a group's own override.
pub(crate) const SOURCE_GROUP: i8 = 8;

/// `ConfigSource` values of DescribeConfigs v1+.
pub(crate) const SOURCE_TOPIC: i8 = 1;
/// A dynamic broker config.
pub(crate) const SOURCE_DYNAMIC_BROKER: i8 = 2;
/// A dynamic cluster-wide default.
pub(crate) const SOURCE_DYNAMIC_DEFAULT_BROKER: i8 = 3;
/// A broker's static config (`server.properties`).
pub(crate) const SOURCE_STATIC_BROKER: i8 = 4;
/// A default value.
pub(crate) const SOURCE_DEFAULT: i8 = 5;

/// One synonym: a config name, its value at that level, and the level.
pub(crate) type Synonym = (String, Option<String>, i8);

/// One config as described to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigEntry {
    pub name: String,
    pub value: String,
    pub source: i8,
    pub config_type: i8,
    pub read_only: bool,
    pub doc: &'static str,
    /// Where the value could come from, highest precedence first (KIP-226): the topic
    /// override, then the broker config that supplies the topic's default, at each level it is
    /// set.
    pub synonyms: Vec<Synonym>,
}

fn wanted(name: &str, keys: Option<&[StrBytes]>) -> bool {
    keys.is_none_or(|keys| keys.iter().any(|k| k == name))
}

/// The levels at which broker config `name` is set on broker `broker_id`, highest first: a
/// dynamic override, the cluster-wide dynamic default (Kafka 4 stores `min.insync.replicas` as
/// one when a cluster is formatted), the static value (reported when the bundled broker's
/// setting differs from Kafka's default, as a `server.properties` line would make it), and
/// Kafka's default.
fn broker_levels(state: &ClusterState, broker_id: i32, name: &str) -> Vec<Synonym> {
    let Some(def) = config::broker_config(name) else {
        return Vec::new();
    };
    let settings = state.settings();
    let mut levels = Vec::new();
    if let Some(v) = settings.overrides.get(name) {
        levels.push((name.to_string(), Some(v.clone()), SOURCE_DYNAMIC_BROKER));
    }
    if name == "min.insync.replicas" {
        levels.push((
            name.to_string(),
            Some(def.default.to_string()),
            SOURCE_DYNAMIC_DEFAULT_BROKER,
        ));
    }
    let value = broker_configs(&state.config, broker_id)
        .get(name)
        .cloned()
        .unwrap_or_else(|| def.default.to_string());
    // Ids are always configured: Kafka reports them as static.
    if value != def.default || matches!(name, "broker.id" | "node.id") {
        levels.push((name.to_string(), Some(value), SOURCE_STATIC_BROKER));
    }
    // `node.id` has no default: a KRaft node cannot start without one.
    if name != "node.id" {
        levels.push((
            name.to_string(),
            Some(def.default.to_string()),
            SOURCE_DEFAULT,
        ));
    }
    levels
}

fn entry(def: &ConfigDef, synonyms: Vec<Synonym>, read_only: bool) -> ConfigEntry {
    let (value, source) = synonyms
        .first()
        .map(|(_, v, s)| (v.clone().unwrap_or_default(), *s))
        .unwrap_or_else(|| (def.default.to_string(), SOURCE_DEFAULT));
    ConfigEntry {
        name: def.name.to_string(),
        value,
        source,
        config_type: def.config_type as i8,
        read_only,
        doc: def.doc,
        synonyms,
    }
}

/// A topic's configs (overrides and defaults), optionally only `keys`, with their synonyms.
pub(crate) fn describe_topic_configs(
    state: &ClusterState,
    topic: &Topic,
    keys: Option<&[StrBytes]>,
) -> Vec<ConfigEntry> {
    let broker_id = state.live_brokers().first().map_or(0, |b| b.id);
    TOPIC_CONFIGS
        .iter()
        .filter(|d| wanted(d.name, keys))
        .map(|d| {
            let mut synonyms: Vec<Synonym> = Vec::new();
            if let Some(v) = topic.configs.get(d.name) {
                synonyms.push((d.name.to_string(), Some(v.clone()), SOURCE_TOPIC));
            }
            if let Some(broker_name) = d.synonym {
                let levels = broker_levels(state, broker_id, broker_name);
                if levels.is_empty() {
                    // A broker config without a table entry: only its default is known.
                    synonyms.push((
                        broker_name.to_string(),
                        Some(d.default.to_string()),
                        SOURCE_DEFAULT,
                    ));
                } else {
                    synonyms.extend(levels);
                }
            }
            let mut e = entry(d, synonyms, false);
            if e.synonyms.is_empty() {
                e.value = config::topic_default(d, state.settings().message_max_bytes);
            }
            e
        })
        .collect()
}

/// A group's configs (its overrides, else the broker's defaults), optionally only `keys`.
pub(crate) fn describe_group_configs(
    state: &ClusterState,
    group: &str,
    keys: Option<&[StrBytes]>,
) -> Vec<ConfigEntry> {
    let overrides = lock(&state.group_configs)
        .get(group)
        .cloned()
        .unwrap_or_default();
    crate::group_configs::GROUP_CONFIGS
        .iter()
        .filter(|d| wanted(d.name, keys))
        .map(|d| {
            let mut synonyms: Vec<Synonym> = Vec::new();
            if let Some(v) = overrides.get(d.name) {
                synonyms.push((d.name.to_string(), Some(v.clone()), SOURCE_GROUP));
            }
            let fallback = d.synonym.unwrap_or(d.name);
            synonyms.push((
                fallback.to_string(),
                Some(d.default.to_string()),
                SOURCE_DEFAULT,
            ));
            entry(d, synonyms, false)
        })
        .collect()
}

/// A broker's configs, optionally only `keys`, with their synonyms.
pub(crate) fn describe_broker_configs(
    state: &ClusterState,
    broker_id: i32,
    keys: Option<&[StrBytes]>,
) -> Vec<ConfigEntry> {
    BROKER_CONFIGS
        .iter()
        .filter(|d| wanted(d.name, keys))
        .map(|d| entry(d, broker_levels(state, broker_id, d.name), d.read_only))
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
    let mut settings = crate::sync::lock(&state.settings);
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

/// Checks the ACL a config request needs on its resource: `operation` (DESCRIBE_CONFIGS or
/// ALTER_CONFIGS) on the topic, the group, or (for a broker) the cluster. The error is the
/// resource's *_AUTHORIZATION_FAILED with the message Kafka sends.
pub(crate) fn config_access(
    ctx: &RequestContext,
    resource_type: i8,
    name: &str,
    operation: kafka_protocol::acl::AclOperation,
) -> Result<(), (ErrorCode, String)> {
    let (allowed, code, message) = match resource_type {
        RESOURCE_TOPIC => (
            ctx.allowed_topic(operation, name),
            ErrorCode::TopicAuthorizationFailed,
            "Topic authorization failed.",
        ),
        RESOURCE_GROUP => (
            ctx.allowed_group(operation, name),
            ErrorCode::GroupAuthorizationFailed,
            "Group authorization failed.",
        ),
        _ => (
            ctx.allowed_cluster(operation),
            ErrorCode::ClusterAuthorizationFailed,
            "Cluster authorization failed.",
        ),
    };
    if allowed {
        Ok(())
    } else {
        Err((code, message.to_string()))
    }
}
