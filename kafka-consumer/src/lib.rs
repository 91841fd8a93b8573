//! A Kafka consumer.
//!
//! * Assign mode ([`Consumer::assign`]) and subscribe mode ([`Consumer::subscribe`]: a member
//!   of a consumer group with the classic protocol, eager or cooperative rebalancing, and a
//!   [`RebalanceListener`]).
//! * One fetch pipeline per broker with incremental fetch sessions (KIP-227), prefetching
//!   within `fetch.max.bytes`, `max.partition.fetch.bytes` and `fetch.buffer.max.bytes`.
//! * Records are handed out by [`Consumer::poll`] or [`Consumer::stream`]; keys and values are
//!   `Bytes` slices of the fetched responses, never copies.
//! * Offsets: auto-commit, [`Consumer::commit_sync`], [`Consumer::commit_async`], explicit
//!   offsets with metadata, `committed`, `seek`, offsets for times, lag.
#![deny(missing_docs)]

pub mod assignor;
mod completed_fetch;
mod config;
mod consumer;
mod error;
mod fetch_session;
mod fetcher;
mod group;
mod listener;
mod metrics;
mod offsets;
mod pattern;
mod poll;
mod record;
pub mod sticky;
mod subscription_state;
mod validation;

pub use config::{ConsumerConfig, IsolationLevel, OffsetReset};
pub use consumer::{CommitHandle, Consumer};
pub use error::{ConsumerError, Result};
pub use listener::RebalanceListener;
pub use metrics::ConsumerMetrics;
pub use offsets::OffsetAndTimestamp;
pub use record::{ConsumerRecord, OffsetAndMetadata, TopicPartition};
