//! A Kafka consumer.
//!
//! This first part covers assign mode: explicitly assigned partitions, fetched from their
//! leaders with `poll`, positions reset by `auto.offset.reset`, `seek` and `position`. Keys and
//! values are `Bytes` slices of the fetched responses. Consumer groups, fetch sessions and
//! commits follow (issue 10).
#![deny(missing_docs)]

pub mod assignor;
mod config;
mod consumer;
mod error;
mod group;

pub use config::{ConsumerConfig, IsolationLevel, OffsetReset};
pub use consumer::{Consumer, ConsumerRecord};
pub use error::{ConsumerError, Result};
