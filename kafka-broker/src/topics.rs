//! The topic registry: names, topic ids (KIP-516), partitions and per-topic config overrides.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kafka_protocol::ErrorCode;
use kafka_protocol::Uuid;

use crate::config::{self, topic_config};
use crate::log::PartitionLog;

/// Kafka's longest legal topic name (`Topic.MAX_NAME_LENGTH`): 255 minus room for the partition
/// suffix of log directory names.
pub const MAX_TOPIC_NAME_LENGTH: usize = 249;

/// A topic.
#[derive(Debug, Clone)]
pub(crate) struct Topic {
    pub name: String,
    pub id: Uuid,
    pub partitions: Vec<Arc<PartitionLog>>,
    /// Config overrides (only the keys set explicitly; defaults come from the config table).
    /// Change them with [`Topic::set_configs`], which keeps `settings` in step.
    pub configs: BTreeMap<String, String>,
    /// The configs the produce path reads, parsed once when they are set.
    pub settings: TopicSettings,
}

/// The topic configs every produce reads, typed: parsed when the overrides change rather than
/// looked up by name and parsed for each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TopicSettings {
    /// `max.message.bytes` when overridden; else the broker's `message.max.bytes` applies.
    pub max_message_bytes: Option<usize>,
    /// `message.timestamp.type=LogAppendTime`: the broker stamps batches.
    pub log_append_time: bool,
    /// `retention.bytes` (-1: no size limit).
    pub retention_bytes: i64,
    /// `cleanup.policy` includes `compact`: every record needs a key.
    pub compacted: bool,
}

impl TopicSettings {
    /// The settings of these overrides (validated values; anything unparsable is the default).
    pub fn of(configs: &BTreeMap<String, String>) -> TopicSettings {
        TopicSettings {
            max_message_bytes: configs
                .get("max.message.bytes")
                .and_then(|v| v.parse().ok()),
            log_append_time: configs
                .get("message.timestamp.type")
                .is_some_and(|t| t == "LogAppendTime"),
            retention_bytes: configs
                .get("retention.bytes")
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1),
            compacted: configs
                .get("cleanup.policy")
                .is_some_and(|p| p.split(',').any(|p| p.trim() == "compact")),
        }
    }
}

impl Topic {
    /// A new topic.
    pub fn new(
        name: String,
        id: Uuid,
        partitions: Vec<Arc<PartitionLog>>,
        configs: BTreeMap<String, String>,
    ) -> Topic {
        let settings = TopicSettings::of(&configs);
        Topic {
            name,
            id,
            partitions,
            configs,
            settings,
        }
    }

    /// Replaces the config overrides.
    pub fn set_configs(&mut self, configs: BTreeMap<String, String>) {
        self.settings = TopicSettings::of(&configs);
        self.configs = configs;
    }

    /// The partition with this index, if it exists.
    pub fn partition(&self, index: i32) -> Option<&Arc<PartitionLog>> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get(i))
    }
}

/// All topics, by name and by id.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// Shared, so that a request can hold a topic without copying it (its name, partition
    /// list and configs) and without holding the registry's lock; a change copies it on write.
    by_name: BTreeMap<String, Arc<Topic>>,
    by_id: HashMap<Uuid, String>,
}

impl Registry {
    pub fn get(&self, name: &str) -> Option<&Topic> {
        self.by_name.get(name).map(|t| &**t)
    }

    /// The topic, shared: a reference count, no copy.
    pub fn get_shared(&self, name: &str) -> Option<Arc<Topic>> {
        self.by_name.get(name).cloned()
    }

    /// The topic with this id, shared.
    pub fn get_shared_by_id(&self, id: &Uuid) -> Option<Arc<Topic>> {
        self.by_id
            .get(id)
            .and_then(|n| self.by_name.get(n))
            .cloned()
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Topic> {
        self.by_name.get_mut(name).map(Arc::make_mut)
    }

    pub fn get_by_id(&self, id: &Uuid) -> Option<&Topic> {
        self.by_id
            .get(id)
            .and_then(|n| self.by_name.get(n))
            .map(|t| &**t)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Topic> {
        self.by_name.values().map(|t| &**t)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    pub fn insert(&mut self, topic: Topic) {
        self.by_id.insert(topic.id, topic.name.clone());
        self.by_name.insert(topic.name.clone(), Arc::new(topic));
    }

    /// Removes a topic and wakes fetches waiting on its partitions.
    pub fn remove(&mut self, name: &str) -> Option<Topic> {
        let topic = self.by_name.remove(name)?;
        self.by_id.remove(&topic.id);
        for p in &topic.partitions {
            p.lock().deleted = true;
            p.wake();
        }
        Some(Arc::unwrap_or_clone(topic))
    }
}

/// Checks a topic name as Kafka does (`Topic.validate`): 1-249 characters from
/// `[a-zA-Z0-9._-]`, and not `.` or `..`.
pub(crate) fn validate_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Topic name is illegal, it can't be empty".into());
    }
    if name == "." || name == ".." {
        return Err("Topic name cannot be \".\" or \"..\"".into());
    }
    if name.len() > MAX_TOPIC_NAME_LENGTH {
        return Err(format!(
            "Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err(format!(
            "Topic name {name} is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// Validates a set of topic config overrides; the error carries the message for INVALID_CONFIG.
pub(crate) fn validate_configs<'a>(
    configs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<BTreeMap<String, String>, (ErrorCode, String)> {
    let mut out = BTreeMap::new();
    for (name, value) in configs {
        let def = topic_config(name).ok_or_else(|| {
            (
                ErrorCode::InvalidConfig,
                format!("Unknown topic config name: {name}"),
            )
        })?;
        let Some(value) = value else {
            return Err((
                ErrorCode::InvalidConfig,
                format!("Null value not supported for topic config {name}"),
            ));
        };
        config::validate(def, value).map_err(|m| (ErrorCode::InvalidConfig, m))?;
        out.insert(name.to_string(), value.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(validate_topic_name("orders.v1_x-y").is_ok());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("..").is_err());
        assert!(validate_topic_name("a b").is_err());
        assert!(validate_topic_name(&"x".repeat(250)).is_err());
        assert!(validate_topic_name(&"x".repeat(249)).is_ok());
    }

    #[test]
    fn config_validation_rejects_unknown_and_bad_values() {
        assert!(validate_configs([("retention.ms", Some("1000"))]).is_ok());
        assert_eq!(
            validate_configs([("bogus", Some("1"))]).unwrap_err().0,
            ErrorCode::InvalidConfig
        );
        assert!(validate_configs([("retention.ms", Some("x"))]).is_err());
    }
}
