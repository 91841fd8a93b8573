//! Group configs (KIP-848 and its share and streams siblings): per-group overrides of the
//! broker's group settings, described and altered as resource type GROUP (32).
//!
//! Every key falls back to a broker config, which Kafka lists as its synonym (mostly the key
//! with a `group.` prefix); five keys that have no broker-level counterpart list themselves.
//! The bundled broker stores and reports them; its classic coordinator does not read them.

use crate::config::{ConfigDef, ConfigType};

use ConfigType::{Boolean, Int, List};

const fn group(
    name: &'static str,
    default: &'static str,
    config_type: ConfigType,
    synonym: &'static str,
    doc: &'static str,
) -> ConfigDef {
    ConfigDef {
        name,
        default,
        config_type,
        allowed: &[],
        doc,
        synonym: Some(synonym),
        read_only: false,
    }
}

/// The group configs of Kafka 4.4, with its defaults.
pub(crate) const GROUP_CONFIGS: &[ConfigDef] = &[
    group(
        "consumer.assignment.interval.ms",
        "1000",
        Int,
        "group.consumer.assignment.interval.ms",
        "How often a consumer group's assignment is recomputed.",
    ),
    group(
        "consumer.heartbeat.interval.ms",
        "5000",
        Int,
        "group.consumer.heartbeat.interval.ms",
        "The heartbeat interval the coordinator asks of consumer group members.",
    ),
    group(
        "consumer.session.timeout.ms",
        "45000",
        Int,
        "group.consumer.session.timeout.ms",
        "How long a consumer group member may go without a heartbeat.",
    ),
    group(
        "errors.deadletterqueue.copy.record.enable",
        "false",
        Boolean,
        "errors.deadletterqueue.copy.record.enable",
        "Whether a streams group copies failed records into its dead-letter queue.",
    ),
    group(
        "errors.deadletterqueue.topic.name",
        "",
        ConfigType::String,
        "errors.deadletterqueue.topic.name",
        "A streams group's dead-letter queue topic; empty for none.",
    ),
    group(
        "share.assignment.interval.ms",
        "1000",
        Int,
        "group.share.assignment.interval.ms",
        "How often a share group's assignment is recomputed.",
    ),
    group(
        "share.auto.offset.reset",
        "latest",
        ConfigType::String,
        "share.auto.offset.reset",
        "Where a share group starts on a partition it has no offset for.",
    ),
    group(
        "share.delivery.count.limit",
        "5",
        Int,
        "group.share.delivery.count.limit",
        "How often a share group delivers a record before giving up on it.",
    ),
    group(
        "share.heartbeat.interval.ms",
        "5000",
        Int,
        "group.share.heartbeat.interval.ms",
        "The heartbeat interval of share group members.",
    ),
    group(
        "share.isolation.level",
        "read_uncommitted",
        ConfigType::String,
        "share.isolation.level",
        "Whether a share group reads uncommitted transactional records.",
    ),
    group(
        "share.partition.max.record.locks",
        "2000",
        Int,
        "group.share.partition.max.record.locks",
        "The most records of one partition a share group holds locked.",
    ),
    group(
        "share.record.lock.duration.ms",
        "30000",
        Int,
        "group.share.record.lock.duration.ms",
        "How long a share group member holds a delivered record.",
    ),
    group(
        "share.renew.acknowledge.enable",
        "true",
        Boolean,
        "share.renew.acknowledge.enable",
        "Whether share group members may renew a record's lock.",
    ),
    group(
        "share.session.timeout.ms",
        "45000",
        Int,
        "group.share.session.timeout.ms",
        "How long a share group member may go without a heartbeat.",
    ),
    group(
        "streams.assignment.interval.ms",
        "1000",
        Int,
        "group.streams.assignment.interval.ms",
        "How often a streams group's assignment is recomputed.",
    ),
    group(
        "streams.assignor.name",
        "sticky",
        ConfigType::String,
        "group.streams.assignors",
        "The task assignor of a streams group.",
    ),
    group(
        "streams.heartbeat.interval.ms",
        "5000",
        Int,
        "group.streams.heartbeat.interval.ms",
        "The heartbeat interval of streams group members.",
    ),
    group(
        "streams.initial.rebalance.delay.ms",
        "3000",
        Int,
        "group.streams.initial.rebalance.delay.ms",
        "How long a new streams group waits for members before its first assignment.",
    ),
    group(
        "streams.num.standby.replicas",
        "0",
        Int,
        "group.streams.num.standby.replicas",
        "Standby tasks per active task in a streams group.",
    ),
    group(
        "streams.rack.aware.assignment.tags",
        "",
        List,
        "group.streams.rack.aware.assignment.tags",
        "Client tags a streams group spreads standby tasks over.",
    ),
    group(
        "streams.session.timeout.ms",
        "45000",
        Int,
        "group.streams.session.timeout.ms",
        "How long a streams group member may go without a heartbeat.",
    ),
];

/// The definition of a group config, if it is known.
pub(crate) fn group_config(name: &str) -> Option<&'static ConfigDef> {
    GROUP_CONFIGS.iter().find(|d| d.name == name)
}

/// Checks a group override: a known key, a value of its type, and, for session timeouts and
/// heartbeat intervals, within the broker's bounds (Kafka's defaults: sessions 45-60 s,
/// heartbeats 5-15 s).
pub(crate) fn validate_group_config(name: &str, value: &str) -> Result<(), String> {
    let def = group_config(name).ok_or_else(|| format!("Unknown group config name: {name}"))?;
    crate::config::validate(def, value)?;
    let bounds = if name.ends_with(".session.timeout.ms") {
        Some((45_000, 60_000))
    } else if name.ends_with(".heartbeat.interval.ms") {
        Some((5_000, 15_000))
    } else {
        None
    };
    if let (Some((lo, hi)), Ok(v)) = (bounds, value.trim().parse::<i64>()) {
        if v < lo || v > hi {
            return Err(format!(
                "{name} must be greater than or equal to {lo} and less than or equal to {hi}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_overrides_are_checked() {
        assert!(validate_group_config("consumer.session.timeout.ms", "50000").is_ok());
        assert!(validate_group_config("consumer.session.timeout.ms", "1000").is_err());
        assert!(validate_group_config("consumer.heartbeat.interval.ms", "x").is_err());
        assert!(validate_group_config("share.auto.offset.reset", "earliest").is_ok());
        assert!(validate_group_config("no.such.key", "1")
            .unwrap_err()
            .contains("Unknown group config name"));
    }
}
