//! An asynchronous Kafka producer.
//!
//! Records flow one way: [`Producer::send`] → partitioner → the partition's batch in the
//! record accumulator → the sender task, which drains each broker's ready batches into one
//! ProduceRequest → the response → each batch's completion → every record's
//! [`DeliveryFuture`].
//!
//! Defaults are the Java producer's: `acks=all`, idempotence on, `linger.ms=5`,
//! `batch.size=16384`, and Java's partitioner (murmur2 for keyed records, uniform sticky for
//! the rest), so records land on the same partitions a Java producer would choose.
#![deny(missing_docs)]

mod accumulator;
mod config;
mod delivery;
mod error;
pub mod partitioner;
mod producer;
mod record;
mod sender;
mod transaction;

pub use config::{Acks, ProducerConfig};
pub use delivery::DeliveryFuture;
pub use error::{ProducerError, Result};
pub use kafka_client::ConsumerGroupMetadata;
pub use partitioner::{Partitioner, PartitionerChoice};
pub use producer::{Producer, ProducerMetrics};
pub use record::{ProducerRecord, RecordMetadata};
