//! Consumer settings, with the Java consumer's names and defaults.

use std::time::Duration;

use kafka_client::config::{invalid, parse_int, parse_ms, unknown};
use kafka_client::ClientConfig;

use crate::error::Result;

/// What to do when a partition has no position, or its position is out of range
/// (`auto.offset.reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetReset {
    /// Start from the first offset still in the log.
    Earliest,
    /// Start from the end: only records written from now on (Java's default).
    Latest,
    /// Fail with [`crate::ConsumerError::NoOffset`].
    None,
}

/// Which records a fetch may return (`isolation.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    /// Everything up to the high watermark (Java's default).
    ReadUncommitted,
    /// Only up to the last stable offset.
    ReadCommitted,
}

/// Consumer settings.
///
/// ```
/// use kafka_consumer::{ConsumerConfig, OffsetReset};
///
/// let c = ConsumerConfig::from_properties([
///     ("bootstrap.servers", "127.0.0.1:9092"),
///     ("auto.offset.reset", "earliest"),
/// ])
/// .unwrap();
/// assert_eq!(c.auto_offset_reset, OffsetReset::Earliest);
/// assert!(ConsumerConfig::from_properties([("fetch.min.bytes", "-1")]).is_err());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConsumerConfig {
    /// The shared client settings.
    pub client: ClientConfig,
    /// `fetch.min.bytes` (1).
    pub fetch_min_bytes: i32,
    /// `fetch.max.bytes` (50 MiB).
    pub fetch_max_bytes: i32,
    /// `fetch.max.wait.ms` (500 ms).
    pub fetch_max_wait: Duration,
    /// `max.partition.fetch.bytes` (1 MiB).
    pub max_partition_fetch_bytes: i32,
    /// `max.poll.records` (500): the most records one `poll` returns.
    pub max_poll_records: usize,
    /// `check.crcs` (true): verify each fetched batch's CRC32C.
    pub check_crcs: bool,
    /// `fetch.buffer.max.bytes` (64 MiB): the most fetched data buffered ahead of `poll`,
    /// counting what fetches in flight may return (this client's own setting; librdkafka's
    /// nearest is `queued.max.messages.kbytes`). The broker always returns at least one whole
    /// batch, so one batch may go past it.
    pub fetch_buffer_max_bytes: usize,
    /// `auto.offset.reset` (latest).
    pub auto_offset_reset: OffsetReset,
    /// `isolation.level` (read_uncommitted).
    pub isolation_level: IsolationLevel,
    /// `group.id`: needed to subscribe and to commit.
    pub group_id: Option<String>,
    /// `session.timeout.ms` (45 s).
    pub session_timeout: Duration,
    /// `heartbeat.interval.ms` (3 s).
    pub heartbeat_interval: Duration,
    /// `max.poll.interval.ms` (5 min): also the rebalance timeout the member joins with.
    pub max_poll_interval: Duration,
    /// `default.api.timeout.ms` (60 s): how long a call that waits on the group coordinator
    /// (committed offsets, on assignment too) retries its retriable errors.
    pub default_api_timeout: Duration,
    /// `enable.auto.commit` (true): commit the positions of what `poll` returned, every
    /// `auto.commit.interval.ms`, from within `poll` (and on `close`).
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms` (5 s).
    pub auto_commit_interval: Duration,
    /// `group.instance.id`: a static member (KIP-345) keeps its assignment across restarts
    /// within the session timeout.
    pub group_instance_id: Option<String>,
    /// `partition.assignment.strategy`: the assignors offered, in preference order (range,
    /// then roundrobin).
    pub assignors: Vec<std::sync::Arc<dyn crate::assignor::PartitionAssignor>>,
}

impl ConsumerConfig {
    /// Java's consumer defaults.
    pub fn new(bootstrap: &str) -> ConsumerConfig {
        ConsumerConfig {
            client: ClientConfig::new(bootstrap),
            fetch_min_bytes: 1,
            fetch_max_bytes: 50 * 1024 * 1024,
            fetch_max_wait: Duration::from_millis(500),
            max_partition_fetch_bytes: 1024 * 1024,
            max_poll_records: 500,
            check_crcs: true,
            fetch_buffer_max_bytes: 64 * 1024 * 1024,
            auto_offset_reset: OffsetReset::Latest,
            isolation_level: IsolationLevel::ReadUncommitted,
            group_id: None,
            session_timeout: Duration::from_millis(45_000),
            heartbeat_interval: Duration::from_millis(3_000),
            max_poll_interval: Duration::from_millis(300_000),
            default_api_timeout: Duration::from_millis(60_000),
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_millis(5_000),
            group_instance_id: None,
            assignors: vec![
                std::sync::Arc::new(crate::assignor::RangeAssignor),
                std::sync::Arc::new(crate::assignor::RoundRobinAssignor),
            ],
        }
    }

    /// Sets `group.id`.
    pub fn with_group_id(mut self, group: impl Into<String>) -> Self {
        self.group_id = Some(group.into());
        self
    }

    /// Sets `enable.auto.commit` and `auto.commit.interval.ms`.
    pub fn with_auto_commit(mut self, enabled: bool, interval: Duration) -> Self {
        self.enable_auto_commit = enabled;
        self.auto_commit_interval = interval;
        self
    }

    /// Sets `group.instance.id` (static membership, KIP-345).
    pub fn with_group_instance_id(mut self, id: impl Into<String>) -> Self {
        self.group_instance_id = Some(id.into());
        self
    }

    /// Sets `session.timeout.ms` and `heartbeat.interval.ms`.
    pub fn with_session_timeout(mut self, session: Duration, heartbeat: Duration) -> Self {
        self.session_timeout = session;
        self.heartbeat_interval = heartbeat;
        self
    }

    /// Sets `auto.offset.reset`.
    pub fn with_auto_offset_reset(mut self, reset: OffsetReset) -> Self {
        self.auto_offset_reset = reset;
        self
    }

    /// Sets `max.poll.records`.
    pub fn with_max_poll_records(mut self, max: usize) -> Self {
        self.max_poll_records = max.max(1);
        self
    }

    /// Sets `partition.assignment.strategy` (assignors in preference order).
    pub fn with_assignors(
        mut self,
        assignors: Vec<std::sync::Arc<dyn crate::assignor::PartitionAssignor>>,
    ) -> Self {
        self.assignors = assignors;
        self
    }

    /// Sets `fetch.buffer.max.bytes` and `max.partition.fetch.bytes`.
    pub fn with_fetch_memory(mut self, buffer_max: usize, partition_max: i32) -> Self {
        self.fetch_buffer_max_bytes = buffer_max;
        self.max_partition_fetch_bytes = partition_max;
        self
    }

    /// Sets `fetch.max.wait.ms`.
    pub fn with_fetch_max_wait(mut self, wait: Duration) -> Self {
        self.fetch_max_wait = wait;
        self
    }

    /// Sets `isolation.level`.
    pub fn with_isolation_level(mut self, level: IsolationLevel) -> Self {
        self.isolation_level = level;
        self
    }

    /// Changes the shared client settings.
    pub fn with_client(mut self, f: impl FnOnce(ClientConfig) -> ClientConfig) -> Self {
        self.client = f(self.client);
        self
    }

    /// Builds from Java-named properties; consumer keys first, then the client core's.
    pub fn from_properties<'a>(
        props: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ConsumerConfig> {
        let mut c = ConsumerConfig::new("");
        for (key, value) in props {
            if !c.set(key, value)? && !c.client.set(key, value)? {
                return Err(unknown(key).into());
            }
        }
        c.client.validate()?;
        Ok(c)
    }

    /// Applies one consumer property; `Ok(false)` when the key is not a consumer key (the client
    /// core's keys are applied through `self.client`).
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool> {
        match key {
            "group.id" => self.group_id = Some(value.to_string()),
            "group.instance.id" => self.group_instance_id = Some(value.to_string()),
            "enable.auto.commit" => {
                self.enable_auto_commit = kafka_client::config::parse_bool(key, value)?
            }
            "auto.commit.interval.ms" => self.auto_commit_interval = parse_ms(key, value)?,
            "session.timeout.ms" => self.session_timeout = parse_ms(key, value)?,
            "heartbeat.interval.ms" => self.heartbeat_interval = parse_ms(key, value)?,
            "max.poll.interval.ms" => self.max_poll_interval = parse_ms(key, value)?,
            "default.api.timeout.ms" => self.default_api_timeout = parse_ms(key, value)?,
            "partition.assignment.strategy" => {
                let mut chosen: Vec<std::sync::Arc<dyn crate::assignor::PartitionAssignor>> =
                    Vec::new();
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    chosen.push(match name {
                        "range" | "org.apache.kafka.clients.consumer.RangeAssignor" => {
                            std::sync::Arc::new(crate::assignor::RangeAssignor)
                        }
                        "roundrobin" | "org.apache.kafka.clients.consumer.RoundRobinAssignor" => {
                            std::sync::Arc::new(crate::assignor::RoundRobinAssignor)
                        }
                        "sticky" | "org.apache.kafka.clients.consumer.StickyAssignor" => {
                            std::sync::Arc::new(crate::sticky::StickyAssignor)
                        }
                        "cooperative-sticky"
                        | "org.apache.kafka.clients.consumer.CooperativeStickyAssignor" => {
                            std::sync::Arc::new(crate::sticky::CooperativeStickyAssignor)
                        }
                        other => {
                            return Err(invalid(
                                key,
                                &format!(
                                    "{other:?}: this client has range, roundrobin, sticky and cooperative-sticky"
                                ),
                            )
                            .into())
                        }
                    });
                }
                if chosen.is_empty() {
                    return Err(invalid(key, "at least one assignor is needed").into());
                }
                self.assignors = chosen;
            }
            "max.poll.records" => {
                self.max_poll_records = parse_int(key, value, 1, i32::MAX)? as usize
            }
            "check.crcs" => self.check_crcs = kafka_client::config::parse_bool(key, value)?,
            "fetch.buffer.max.bytes" => {
                self.fetch_buffer_max_bytes = parse_int(key, value, 1, i32::MAX)? as usize
            }
            "fetch.min.bytes" => self.fetch_min_bytes = parse_int(key, value, 0, i32::MAX)?,
            "fetch.max.bytes" => self.fetch_max_bytes = parse_int(key, value, 0, i32::MAX)?,
            "fetch.max.wait.ms" => self.fetch_max_wait = parse_ms(key, value)?,
            "max.partition.fetch.bytes" => {
                self.max_partition_fetch_bytes = parse_int(key, value, 0, i32::MAX)?
            }
            "auto.offset.reset" => {
                self.auto_offset_reset = match value.trim() {
                    "earliest" => OffsetReset::Earliest,
                    "latest" => OffsetReset::Latest,
                    "none" => OffsetReset::None,
                    other => {
                        return Err(invalid(
                            key,
                            &format!("{other:?} is not earliest, latest or none"),
                        )
                        .into())
                    }
                }
            }
            "isolation.level" => {
                self.isolation_level = match value.trim() {
                    "read_uncommitted" => IsolationLevel::ReadUncommitted,
                    "read_committed" => IsolationLevel::ReadCommitted,
                    other => {
                        return Err(invalid(
                            key,
                            &format!("{other:?} is not read_uncommitted or read_committed"),
                        )
                        .into())
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
