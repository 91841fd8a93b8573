//! Producer settings, with the Java producer's names and defaults.

use std::time::Duration;

use kafka_client::config::{invalid, parse_bool, parse_int, parse_ms, unknown};
use kafka_client::ClientConfig;
use kafka_protocol::records::Compression;

use crate::error::Result;
use crate::partitioner::PartitionerChoice;

/// How many replicas must have a record before it counts as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// `acks=0`: the broker does not answer; offsets are unknown.
    None,
    /// `acks=1`: the leader has it.
    Leader,
    /// `acks=all` (`-1`): every in-sync replica has it. Java's default since Kafka 3.0.
    All,
}

impl Acks {
    /// The value of ProduceRequest's `acks` field.
    pub fn wire(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

/// Producer settings.
///
/// ```
/// use std::time::Duration;
/// use kafka_producer::{Acks, ProducerConfig};
///
/// let c = ProducerConfig::new("127.0.0.1:9092").with_linger(Duration::from_millis(20));
/// assert_eq!(c.acks, Acks::All);
/// assert!(c.enable_idempotence);
///
/// let p = ProducerConfig::from_properties([
///     ("bootstrap.servers", "127.0.0.1:9092"),
///     ("acks", "1"),
///     ("enable.idempotence", "false"),
///     ("compression.type", "zstd"),
/// ])
/// .unwrap();
/// assert_eq!(p.acks, Acks::Leader);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProducerConfig {
    /// The shared client settings.
    pub client: ClientConfig,
    /// `acks` (all).
    pub acks: Acks,
    /// `linger.ms` (5 ms): how long a batch may wait for more records.
    pub linger: Duration,
    /// `batch.size` (16384 bytes).
    pub batch_size: usize,
    /// `buffer.memory` (32 MiB): bytes of records waiting to be sent.
    pub buffer_memory: usize,
    /// `max.block.ms` (60 s): how long `send` may wait for buffer space or metadata.
    pub max_block: Duration,
    /// `delivery.timeout.ms` (120 s): from `send` until a record must be acknowledged.
    pub delivery_timeout: Duration,
    /// `max.request.size` (1 MiB): the largest ProduceRequest, and so the largest record.
    pub max_request_size: usize,
    /// `compression.type` (none).
    pub compression: Compression,
    /// `compression.gzip.level`, `compression.lz4.level`, `compression.zstd.level` (KIP-390).
    pub compression_level: Option<i32>,
    /// `enable.idempotence` (true).
    pub enable_idempotence: bool,
    /// `allow.auto.create.topics` (true): metadata requests may create missing topics.
    pub allow_auto_create_topics: bool,
    /// `partitioner.class` stand-in: which partitioner to use.
    pub partitioner: PartitionerChoice,
    /// `transactional.id` (none): makes the producer transactional (KIP-98); needs
    /// idempotence. One producer instance per id: a new one fences the old.
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms` (60 s): how long a transaction may stay open before the
    /// coordinator aborts it.
    pub transaction_timeout: Duration,
}

impl ProducerConfig {
    /// Java's producer defaults.
    pub fn new(bootstrap: &str) -> ProducerConfig {
        ProducerConfig {
            client: ClientConfig::new(bootstrap),
            acks: Acks::All,
            linger: Duration::from_millis(5),
            batch_size: 16_384,
            buffer_memory: 32 * 1024 * 1024,
            max_block: Duration::from_millis(60_000),
            delivery_timeout: Duration::from_millis(120_000),
            max_request_size: 1024 * 1024,
            compression: Compression::None,
            compression_level: None,
            enable_idempotence: true,
            allow_auto_create_topics: true,
            partitioner: PartitionerChoice::Default,
            transactional_id: None,
            transaction_timeout: Duration::from_secs(60),
        }
    }

    /// Sets `transactional.id`, making the producer transactional.
    ///
    /// ```
    /// use kafka_producer::ProducerConfig;
    ///
    /// let c = ProducerConfig::new("127.0.0.1:9092").with_transactional_id("orders-enricher-0");
    /// assert_eq!(c.transactional_id.as_deref(), Some("orders-enricher-0"));
    /// assert!(c.validate().is_ok());
    /// assert!(c.with_idempotence(false).validate().is_err(), "transactions need idempotence");
    /// ```
    pub fn with_transactional_id(mut self, id: impl Into<String>) -> Self {
        self.transactional_id = Some(id.into());
        self
    }

    /// Sets `transaction.timeout.ms`.
    pub fn with_transaction_timeout(mut self, timeout: Duration) -> Self {
        self.transaction_timeout = timeout;
        self
    }

    /// Sets `acks`.
    pub fn with_acks(mut self, acks: Acks) -> Self {
        self.acks = acks;
        self
    }

    /// Sets `linger.ms`.
    pub fn with_linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// Sets `batch.size`.
    pub fn with_batch_size(mut self, bytes: usize) -> Self {
        self.batch_size = bytes;
        self
    }

    /// Sets `buffer.memory`.
    pub fn with_buffer_memory(mut self, bytes: usize) -> Self {
        self.buffer_memory = bytes;
        self
    }

    /// Sets `max.block.ms`.
    pub fn with_max_block(mut self, max_block: Duration) -> Self {
        self.max_block = max_block;
        self
    }

    /// Sets `delivery.timeout.ms`.
    pub fn with_delivery_timeout(mut self, timeout: Duration) -> Self {
        self.delivery_timeout = timeout;
        self
    }

    /// Sets `compression.type`.
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Sets `enable.idempotence`.
    pub fn with_idempotence(mut self, enabled: bool) -> Self {
        self.enable_idempotence = enabled;
        self
    }

    /// Sets the partitioner.
    pub fn with_partitioner(mut self, partitioner: PartitionerChoice) -> Self {
        self.partitioner = partitioner;
        self
    }

    /// Changes the shared client settings.
    pub fn with_client(mut self, f: impl FnOnce(ClientConfig) -> ClientConfig) -> Self {
        self.client = f(self.client);
        self
    }

    /// Builds from Java-named properties; producer keys first, then the client core's. An
    /// unknown key or a malformed value is an error naming it.
    pub fn from_properties<'a>(
        props: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ProducerConfig> {
        let mut c = ProducerConfig::new("");
        for (key, value) in props {
            if !c.set(key, value)? && !c.client.set(key, value)? {
                return Err(unknown(key).into());
            }
        }
        c.client.validate()?;
        c.validate()?;
        Ok(c)
    }

    /// Applies one producer property; `Ok(false)` when the key is not a producer key (the client
    /// core's keys are applied through `self.client`).
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool> {
        match key {
            "acks" => {
                self.acks = match value.trim() {
                    "0" => Acks::None,
                    "1" => Acks::Leader,
                    "all" | "-1" => Acks::All,
                    other => {
                        return Err(invalid(key, &format!("{other:?} is not 0, 1, all or -1")).into())
                    }
                }
            }
            "linger.ms" => self.linger = parse_ms(key, value)?,
            "batch.size" => self.batch_size = parse_int(key, value, 0, i32::MAX as usize)?,
            "buffer.memory" => self.buffer_memory = parse_int(key, value, 0, usize::MAX)?,
            "max.block.ms" => self.max_block = parse_ms(key, value)?,
            "delivery.timeout.ms" => self.delivery_timeout = parse_ms(key, value)?,
            "max.request.size" => {
                self.max_request_size = parse_int(key, value, 1, i32::MAX as usize)?
            }
            "compression.type" => {
                self.compression = Compression::from_name(value.trim()).ok_or_else(|| {
                    invalid(key, &format!("{value:?} is not none, gzip, snappy, lz4 or zstd"))
                })?
            }
            "compression.gzip.level" | "compression.lz4.level" | "compression.zstd.level" => {
                self.compression_level = Some(parse_int(key, value, -131_072, 22)?)
            }
            "enable.idempotence" => self.enable_idempotence = parse_bool(key, value)?,
            "transactional.id" => {
                self.transactional_id = Some(value.to_string()).filter(|v| !v.is_empty())
            }
            "transaction.timeout.ms" => self.transaction_timeout = parse_ms(key, value)?,
            "allow.auto.create.topics" => self.allow_auto_create_topics = parse_bool(key, value)?,
            "partitioner.class" => {
                self.partitioner = match value.trim() {
                    "" | "org.apache.kafka.clients.producer.internals.DefaultPartitioner" => {
                        PartitionerChoice::Default
                    }
                    "org.apache.kafka.clients.producer.RoundRobinPartitioner" => {
                        PartitionerChoice::RoundRobin
                    }
                    other => {
                        return Err(invalid(
                            key,
                            &format!("{other:?}: only the default and RoundRobinPartitioner can be named; use ProducerConfig::with_partitioner for your own"),
                        )
                        .into())
                    }
                }
            }
            // Java's default retries is effectively unlimited within delivery.timeout.ms.
            "retries" => {
                let _: u32 = parse_int(key, value, 0, i32::MAX as u32)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Checks combinations no single key can: idempotence needs acks=all (as in Java).
    pub fn validate(&self) -> Result<()> {
        if self.enable_idempotence && self.acks != Acks::All {
            return Err(invalid(
                "enable.idempotence",
                "idempotence requires acks=all; set enable.idempotence=false to use acks=0 or 1",
            )
            .into());
        }
        if self.transactional_id.is_some() && !self.enable_idempotence {
            return Err(invalid(
                "transactional.id",
                "a transactional producer must be idempotent; leave enable.idempotence=true",
            )
            .into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_properties_name_their_key() {
        let e = ProducerConfig::from_properties([("bootstrap.servers", "h:1"), ("acks", "2")])
            .unwrap_err();
        assert!(e.to_string().contains("`acks`"), "{e}");
        let e = ProducerConfig::from_properties([("bootstrap.servers", "h:1"), ("lingerms", "2")])
            .unwrap_err();
        assert!(e.to_string().contains("`lingerms`"), "{e}");
        let e = ProducerConfig::from_properties([
            ("bootstrap.servers", "h:1"),
            ("compression.type", "brotli"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("brotli"), "{e}");
        let e = ProducerConfig::from_properties([("bootstrap.servers", "h:1"), ("acks", "1")])
            .unwrap_err();
        assert!(
            e.to_string().contains("idempotence requires acks=all"),
            "{e}"
        );
        ProducerConfig::from_properties([
            ("bootstrap.servers", "h:1"),
            ("acks", "1"),
            ("enable.idempotence", "false"),
            ("linger.ms", "0"),
        ])
        .unwrap();
    }
}
